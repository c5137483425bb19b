"""The reachability watcher calls back when the server comes up, and backs off while it is down."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sync.client import SyncClient
from sync.watcher import ReachabilityWatcher


class _Health(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        raw = json.dumps({"status": "ok", "api_version": 1}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_callback_when_server_becomes_reachable_then_again_after_an_outage():
    port = _free_port()
    reachable = threading.Event()
    changes: list[bool] = []
    watcher = ReachabilityWatcher(
        lambda: SyncClient(f"http://127.0.0.1:{port}"),
        reachable.set,
        interval=0.05, min_wait=0.02, max_wait=0.1,
        on_change=changes.append,
    )
    watcher.start()
    try:
        assert not reachable.wait(0.3)  # nothing listens yet
        assert changes == [False]
        server = ThreadingHTTPServer(("127.0.0.1", port), _Health)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        assert reachable.wait(5)
        reachable.clear()
        server.shutdown()
        server.server_close()
        deadline = time.monotonic() + 5
        while watcher.reachable and time.monotonic() < deadline:
            time.sleep(0.02)
        assert watcher.reachable is False  # the outage was seen
        server = ThreadingHTTPServer(("127.0.0.1", port), _Health)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        assert reachable.wait(5)  # down then up again: a second sync would start
        assert changes[:2] == [False, True] and changes.count(True) == 2
        server.shutdown()
        server.server_close()
    finally:
        watcher.stop()


def test_not_configured_is_never_reachable_and_stops_promptly():
    calls = []
    watcher = ReachabilityWatcher(lambda: None, lambda: calls.append(1), min_wait=0.01)
    watcher.start()
    watcher.stop(timeout=2)
    assert calls == []
    assert watcher.reachable in (False, None)


def test_repeats_while_the_server_stays_up():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    calls: list[float] = []
    watcher = ReachabilityWatcher(
        lambda: SyncClient(f"http://127.0.0.1:{server.server_address[1]}"),
        lambda: calls.append(time.monotonic()),
        interval=0.02, repeat=0.1,
    )
    watcher.start()
    try:
        deadline = time.monotonic() + 5
        while len(calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(calls) >= 3
        assert all(b - a >= 0.09 for a, b in zip(calls, calls[1:], strict=False))
    finally:
        watcher.stop()
        server.shutdown()
        server.server_close()
