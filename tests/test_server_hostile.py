"""Malformed, oversized and hostile requests: a clear 4xx in the error shape, never a 5xx, and
nothing written."""

from __future__ import annotations

import gzip
import json
import sqlite3

import psycopg
import pytest
import requests
from server_util import record, workers

from server.middleware import MAX_BODY_BYTES
from server.schemas import MAX_RECORDS_PER_BATCH


@pytest.fixture(scope="module")
def live(live_module):
    live_module.device = live_module.enrol()
    return live_module


def raw_push(live, body: bytes, **headers) -> requests.Response:
    headers = {"Content-Type": "application/json", **headers,
               "Authorization": f"Bearer {live.device.enrolment['token']}"}
    return requests.post(f"{live.api}/sync/push", data=body, headers=headers, timeout=30)


def error_code(answer: requests.Response) -> str:
    body = answer.json()
    assert set(body) == {"error"} and body["error"]["message"]
    return body["error"]["code"]


def registrations(live) -> int:
    return live.store.reader().execute("SELECT COUNT(*) FROM registrations").fetchone()[0]


def test_not_json(live):
    answer = raw_push(live, b"{not json")
    assert answer.status_code == 400 and error_code(answer) == "request.bad_json"


def test_broken_gzip(live):
    answer = raw_push(live, b"\x1f\x8b\x08\x00garbage", **{"Content-Encoding": "gzip"})
    assert answer.status_code == 400 and error_code(answer) == "request.bad_gzip"
    cut = gzip.compress(b'{"batch_id": "a"}')[:-6]
    answer = raw_push(live, cut, **{"Content-Encoding": "gzip"})
    assert answer.status_code == 400 and error_code(answer) == "request.bad_gzip"


def test_unsupported_encoding(live):
    answer = raw_push(live, b"{}", **{"Content-Encoding": "br"})
    assert answer.status_code == 415 and error_code(answer) == "request.unsupported_encoding"


def test_oversized_body_and_gzip_bomb(live):
    answer = raw_push(live, b" " * (MAX_BODY_BYTES + 1))
    assert answer.status_code == 413 and error_code(answer) == "request.too_large"
    bomb = gzip.compress(b" " * (MAX_BODY_BYTES * 4))  # about 32 KiB on the wire
    assert len(bomb) < 100_000
    answer = raw_push(live, bomb, **{"Content-Encoding": "gzip"})
    assert answer.status_code == 413 and error_code(answer) == "request.too_large"


def test_too_many_records(live):
    device = live.device
    regs = workers(MAX_RECORDS_PER_BATCH + 1, seed=50)
    answer = device.push([record(r, device.device_id) for r in regs], gzip_body=True)
    assert answer.status_code == 413 and error_code(answer) == "push.too_many_records"
    assert registrations(live) == 0


def test_schema_violations_refuse_the_whole_batch(live):
    device = live.device
    good, bad = workers(2, seed=51)
    records = [record(good, device.device_id), record(bad, device.device_id)]
    records[1]["data"]["full_name"] = "x" * 5000
    answer = device.push(records)
    assert answer.status_code == 422 and error_code(answer) == "request.invalid"
    assert "x" * 100 not in answer.text  # the rejected input is not echoed back
    assert registrations(live) == 0


def test_lone_surrogate_is_refused_not_a_crash(live):
    device = live.device
    (reg,) = workers(1, seed=52)
    body = {"batch_id": "s1", "device_id": device.device_id,
            "records": [record(reg, device.device_id)]}
    text = json.dumps(body).replace(reg.full_name, "Budi \\ud800")
    answer = raw_push(live, text.encode("utf-8"))
    assert answer.status_code in (400, 422), answer.text
    assert registrations(live) == 0


@pytest.mark.parametrize("query", [
    {"cursor": -1}, {"cursor": "abc"}, {"limit": 0}, {"limit": 10**9}, {"cursor": 2**70},
])
def test_bad_pull_parameters(live, query):
    answer = live.device.get("/sync/pull", params=query)
    assert 400 <= answer.status_code < 500 and error_code(answer)


def test_hostile_text_in_filters_and_paths(live):
    verifier = live.enrol("verifier")
    answer = verifier.get("/registrations", params={"q": "%' OR 1=1; DROP TABLE x; --"})
    assert answer.status_code == 200 and answer.json()["total"] == 0
    answer = verifier.get("/registrations/..%2F..%2Fetc%2Fpasswd")
    assert 400 <= answer.status_code < 500
    assert verifier.get("/registrations/unknown-id").status_code == 404


def test_unknown_path_and_method_use_the_error_shape(live):
    answer = live.device.get("/no-such-thing")
    assert answer.status_code == 404 and error_code(answer) == "not_found"
    answer = requests.delete(f"{live.api}/health", timeout=5)
    assert answer.status_code == 405 and error_code(answer) == "request.method_not_allowed"


HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def test_every_405_names_the_allowed_methods(live):
    """RFC 9110: a 405 carries `Allow` with the methods the resource does support, here exactly
    those the published schema declares for the path."""
    schema = requests.get(f"{live.api}/openapi.json", timeout=10).json()
    checked = 0
    for path, operations in schema["paths"].items():
        declared = {m.upper() for m in operations if m in HTTP_METHODS}
        url = live.url + path.replace("{record_id}", "01-no-such-record")
        for method in HTTP_METHODS:
            if method.upper() in declared:
                continue
            answer = requests.request(method.upper(), url, timeout=10)
            assert answer.status_code == 405, (method, path)
            assert error_code(answer) == "request.method_not_allowed"
            allowed = {m.strip() for m in answer.headers.get("Allow", "").split(",") if m.strip()}
            assert allowed == declared, (method, path, answer.headers.get("Allow"))
            checked += 1
    assert checked >= 50


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "application/xml", None,
])
def test_a_body_that_is_not_declared_json_gets_415(live, content_type):
    """docs/SYNC_API.md §1: request bodies are JSON; another Content-Type (or none) is refused
    with 415 request.unsupported_media_type before the body is parsed, whatever it holds."""
    device = live.device
    (reg,) = workers(1, seed=54)
    body = json.dumps({"batch_id": "ct1", "device_id": device.device_id,
                       "records": [record(reg, device.device_id)]}).encode("utf-8")
    headers = {"Authorization": f"Bearer {device.enrolment['token']}"}
    if content_type:
        headers["Content-Type"] = content_type
    answer = requests.post(f"{live.api}/sync/push", data=body, headers=headers, timeout=30)
    assert answer.status_code == 415 and error_code(answer) == "request.unsupported_media_type"
    assert registrations(live) == 0
    enrol = requests.post(f"{live.api}/devices/enrol", data=b'{"code": "x", "device_name": "y"}',
                          headers={k: v for k, v in headers.items() if k != "Authorization"},
                          timeout=10)
    assert enrol.status_code == 415 and error_code(enrol) == "request.unsupported_media_type"


@pytest.mark.parametrize("content_type", [
    "application/json", "application/json; charset=utf-8", "Application/JSON",
    "application/merge-patch+json",
])
def test_json_content_types_are_accepted(live, content_type):
    answer = requests.post(f"{live.api}/devices/enrol", data=b'{"code": "x", "device_name": "y"}',
                           headers={"Content-Type": content_type}, timeout=10)
    assert answer.status_code == 404 and error_code(answer) == "enrol.invalid_code"


class _WriteLockHolder:
    """Another session holding what the server's writers need, past their timeout: SQLite's
    write lock, or on PostgreSQL an exclusive lock on the batches table."""

    def __init__(self, store):
        self.store = store
        if store.is_postgresql:
            self.conn = psycopg.connect(store.url.replace("postgresql+psycopg", "postgresql"),
                                        autocommit=True)
            self.lock = "BEGIN; LOCK TABLE batches IN ACCESS EXCLUSIVE MODE"
            store.lock_timeout_ms = 100
        else:
            self.conn = sqlite3.connect(store.path, isolation_level=None)
            self.lock = "BEGIN IMMEDIATE"
            store._writer.execute("PRAGMA busy_timeout = 100")

    def __enter__(self):
        self.conn.execute(self.lock)
        return self

    def __exit__(self, *exc):
        self.conn.execute("ROLLBACK")

    def close(self):
        if self.store.is_postgresql:
            self.store.lock_timeout_ms = 10_000
        else:
            self.store._writer.execute("PRAGMA busy_timeout = 10000")
        self.conn.close()


def test_locked_database_gets_503_and_nothing_is_done(live):
    """Another process holding the write lock past the busy timeout: a retryable 503."""
    device = live.device
    (reg,) = workers(1, seed=53)
    holder = _WriteLockHolder(live.store)
    try:
        with holder:
            answer = device.push([record(reg, device.device_id)], batch_id="locked")
            assert answer.status_code == 503 and error_code(answer) == "server.busy"
            assert answer.headers["Retry-After"] == "2"
        again = device.push([record(reg, device.device_id)], batch_id="locked")
        assert again.status_code == 200
        assert [r["outcome"] for r in again.json()["results"]] == ["accepted"]
    finally:
        holder.close()


def test_a_nul_character_in_a_query_or_a_json_body_is_refused_before_anything_is_done(live):
    device = live.device
    listed = device.get("/registrations", params={"q": "Siti\x00"})
    assert listed.status_code == 422 and error_code(listed) == "request.invalid"
    assert "NUL" in listed.json()["error"]["message"]
    (reg,) = workers(1, seed=54)
    reg.full_name = "Siti\x00Aminah"
    pushed = device.push([record(reg, device.device_id)], batch_id="nul")
    assert pushed.status_code == 422 and error_code(pushed) == "request.invalid"
    reg.full_name = "Siti Aminah"
    again = device.push([record(reg, device.device_id)], batch_id="nul")
    assert [r["outcome"] for r in again.json()["results"]] == ["accepted"]
