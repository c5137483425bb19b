"""A test-only HTTP proxy on 127.0.0.1 that injects faults at random (seeded).

Each request is read whole, forwarded to the upstream server on its own connection, and the
answer is passed back, unless the dice say otherwise:

- drop_before: the connection is closed before the server sees the request;
- drop_after: the server handles the request, but its answer never reaches the client;
- error_500: a 500 is returned (half the time after the server handled the request);
- cut: the answer is cut short in the middle;
- delay: the answer is held back for a moment, then passed on.

"after" faults are the interesting ones: the server has written, the client does not know, and
the retry must change nothing. Every connection carries one request (Connection: close), so a
fault hits exactly one request.

`choose(request) -> fault or None`, when given, picks the fault for each request (the whole
request as bytes) instead of the dice: a test can cut exactly the answer it means to.
"""

from __future__ import annotations

import random
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

FAULTS = ("drop_before", "drop_after", "error_500", "cut", "delay")

_ERROR_500 = (
    b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
    b"Content-Length: 24\r\nConnection: close\r\n\r\n"
    b'{"detail":"proxy fault"}'
)


@dataclass
class FaultStats:
    requests: int = 0
    faults: dict = field(default_factory=lambda: dict.fromkeys(FAULTS, 0))


class FaultProxy:
    """`with FaultProxy(upstream_port, rate=0.3, seed=1) as proxy:` then use `proxy.url`.

    `rate` is the share of requests that get a fault; set it to 0 to let everything through."""

    def __init__(
        self,
        upstream_port: int,
        *,
        rate: float = 0.3,
        seed: int = 0,
        faults: tuple[str, ...] = FAULTS,
        max_delay: float = 0.3,
        choose: Callable[[bytes], str | None] | None = None,
    ):
        self.upstream = ("127.0.0.1", upstream_port)
        self.rate = rate
        self.faults = faults
        self.max_delay = max_delay
        self.choose = choose
        self.stats = FaultStats()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                proxy._handle(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _pick(self, request: bytes) -> tuple[str | None, float]:
        with self._lock:
            self.stats.requests += 1
            if self.choose is not None:
                fault = self.choose(request)
                if fault is not None:
                    self.stats.faults[fault] += 1
                return fault, 1.0  # error_500 then comes after the server handled the request
            if self._rng.random() >= self.rate:
                return None, 0.0
            fault = self._rng.choice(self.faults)
            self.stats.faults[fault] += 1
            return fault, self._rng.random()

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(30)
        request = _read_request(client)
        if request is None:
            return
        fault, dice = self._pick(request)
        if fault == "drop_before" or (fault == "error_500" and dice < 0.5):
            if fault == "error_500":
                client.sendall(_ERROR_500)
            client.close()
            return
        try:
            answer = _forward(self.upstream, request)
        except OSError:
            client.close()  # upstream down: the client sees a dropped connection
            return
        if fault == "drop_after":
            pass
        elif fault == "error_500":
            client.sendall(_ERROR_500)
        elif fault == "cut":
            client.sendall(answer[: max(1, int(len(answer) * dice * 0.9))])
        else:
            if fault == "delay":
                time.sleep(self.max_delay * dice)
            client.sendall(answer)
        client.close()


def _read_request(sock: socket.socket) -> bytes | None:
    """One whole HTTP request (headers + Content-Length body), with Connection: close forced."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = 0
    kept = [lines[0]]
    for line in lines[1:]:
        name = line.split(b":", 1)[0].strip().lower()
        if name == b"content-length":
            length = int(line.split(b":", 1)[1])
        if name in (b"connection", b"keep-alive"):
            continue
        kept.append(line)
    kept.append(b"Connection: close")
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        body += chunk
    return b"\r\n".join(kept) + b"\r\n\r\n" + body


def _forward(upstream: tuple[str, int], request: bytes) -> bytes:
    with socket.create_connection(upstream, timeout=30) as up:
        up.sendall(request)
        chunks = []
        while chunk := up.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)
