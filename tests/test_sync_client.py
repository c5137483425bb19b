"""The sync client: every failure comes out as one SyncError subclass with an Indonesian message."""

from __future__ import annotations

import gzip
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sync.client import (
    NotAuthorised,
    Offline,
    ProtocolError,
    RetryPolicy,
    ServerError,
    SyncClient,
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Scripted(BaseHTTPRequestHandler):
    # A script entry is (status, body) or (status, body, extra headers).
    """Answers each request with the next (status, body) of the server's script."""

    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append((self.command, self.path, dict(self.headers), body))
        status, payload, *extra = self.server.script.pop(0)
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        for name, value in (extra[0] if extra else {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = _answer


@pytest.fixture
def scripted():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    server.script, server.seen = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _client(server, token="t0k3n") -> SyncClient:
    url = f"http://127.0.0.1:{server.server_address[1]}"
    return SyncClient(url, token, retry=RetryPolicy(attempts=3, base=0.001), sleep=lambda s: None)


def test_nothing_listening_is_offline_in_indonesian():
    client = SyncClient(f"http://127.0.0.1:{_free_port()}", "x",
                        retry=RetryPolicy(attempts=2, base=0.001))
    with pytest.raises(Offline) as caught:
        client.pull(0)
    assert "tidak dapat dihubungi" in caught.value.message
    assert "aman" in caught.value.message  # tells the operator nothing is lost


def test_500_is_retried_then_server_error(scripted):
    scripted.script = [(500, {}), (503, {}), (502, {})]
    with pytest.raises(ServerError) as caught:
        _client(scripted).pull(0)
    assert len(scripted.seen) == 3
    assert "Server sedang bermasalah" in caught.value.message


def test_transient_failure_then_success_returns_answer(scripted):
    scripted.script = [(500, {}), (200, {"next_cursor": 5, "changes": []})]
    assert _client(scripted).pull(0)["next_cursor"] == 5


def test_revoked_token_is_not_authorised_and_not_retried(scripted):
    error = {"error": {"code": "auth.revoked", "message": "Perangkat ini sudah dicabut."}}
    scripted.script = [(401, error)]
    with pytest.raises(NotAuthorised) as caught:
        _client(scripted).pull(0)
    assert len(scripted.seen) == 1
    assert "dicabut" in caught.value.message


def test_no_token_is_not_authorised_without_a_request(scripted):
    with pytest.raises(NotAuthorised):
        _client(scripted, token="").pull(0)
    assert scripted.seen == []


def test_4xx_keeps_server_code_and_message_and_is_final(scripted):
    error = {"error": {"code": "batch.id_reused", "message": "Paket sudah dipakai."}}
    scripted.script = [(409, error)]
    with pytest.raises(ProtocolError) as caught:
        _client(scripted).push("b1", "dev", [])
    assert caught.value.code == "batch.id_reused"
    assert caught.value.status == 409
    assert not caught.value.retryable
    assert "Paket sudah dipakai." in caught.value.message
    assert len(scripted.seen) == 1


def test_garbled_answer_is_retried_then_protocol_error(scripted):
    scripted.script = [(200, b"{not json"), (200, b"[1, 2]")]
    with pytest.raises(ProtocolError) as caught:
        _client(scripted).pull(0)
    assert "tidak dapat dipahami" in caught.value.message


def test_push_body_is_gzip_json_with_token_and_identical_on_retry(scripted):
    scripted.script = [(500, {}), (200, {"results": []})]
    records = [{"record_id": "r1", "version": 1, "data": {"full_name": "Siti Aisyah"}}]
    client = _client(scripted)
    client.push("batch-1", "dev-1", records)
    (m1, p1, h1, b1), (m2, p2, h2, b2) = scripted.seen
    assert (m1, p1) == ("POST", "/api/v1/sync/push")
    assert h1["Content-Encoding"] == "gzip" and h1["Authorization"] == "Bearer t0k3n"
    assert b1 == b2  # the retried batch is byte for byte the same batch
    body = json.loads(gzip.decompress(b1))
    assert body == {"batch_id": "batch-1", "device_id": "dev-1", "records": records}
    assert client.stats.sent == len(b1) + len(b2)


def test_busy_server_retry_after_is_respected(scripted):
    waits: list[float] = []
    scripted.script = [(503, {"error": {"code": "server.busy"}}, {"Retry-After": "2"}),
                       (200, {"next_cursor": 1, "changes": []})]
    client = _client(scripted)
    client.sleep = waits.append
    assert client.pull(0)["next_cursor"] == 1
    assert waits == [2.0]
