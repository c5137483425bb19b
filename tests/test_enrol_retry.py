"""Enrolment survives a lost answer (docs/SYNC_API.md §3): the device sends its own request id
with the code, a retry with the same id gets the same device and token, the code is spent for
everyone else, and the server lists exactly one device. Through the fault proxy, real server."""

from __future__ import annotations

import stat
from datetime import UTC, datetime

import pytest
import requests
from fault_proxy import FaultProxy
from sync_util import enrol_code

from server.auth import list_devices
from server.store import Store
from storage.unlock import set_up
from sync import state
from sync.client import RetryPolicy, SyncClient
from sync.enrol import enrol

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _devices(server_dir):
    store = Store(server_dir)
    try:
        return list_devices(store)
    finally:
        store.close()


def test_a_lost_enrolment_answer_is_answered_again_with_the_same_token(server, tmp_path):
    url, server_dir = server
    code = enrol_code(server_dir)
    answered = []

    def drop_the_first_enrol_answer(request: bytes):
        if b"/devices/enrol" in request.split(b"\r\n", 1)[0]:
            answered.append(request)
            return "drop_after" if len(answered) == 1 else None
        return None

    opened = set_up(tmp_path / "device", "admin", "Ibu Admin", "sandi-admin-1", T0)
    registry = opened.registry
    try:
        with FaultProxy(_port(url), choose=drop_the_first_enrol_answer) as proxy:
            client = SyncClient(proxy.url, retry=RetryPolicy(attempts=1, base=0.01))
            result = enrol(registry, proxy.url, code, "Laptop Talang Banjar", client=client)
            client.close()
        assert len(answered) == 2  # the server answered twice; the first answer was lost
        token = state.token(registry)
        assert token
        me = SyncClient(url, token)
        try:
            assert me.me()["device_id"] == result.device_id  # the token works
        finally:
            me.close()
    finally:
        registry.close()
    devices = _devices(server_dir)
    assert [d["id"] for d in devices] == [result.device_id]  # no orphan device

    # The code is spent for anyone else: another request id, or none, gets 404.
    for body in ({"code": code, "device_name": "x", "request_id": "another-device-0001"},
                 {"code": code, "device_name": "x"}):
        answer = requests.post(f"{url}/api/v1/devices/enrol", json=body, timeout=10)
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "enrol.invalid_code"
    assert len(_devices(server_dir)) == 1


def test_the_kept_answer_expires_and_a_revoked_device_gets_none(server, monkeypatch):
    from datetime import timedelta

    from server import auth

    url, server_dir = server
    code = enrol_code(server_dir)
    body = {"code": code, "device_name": "Laptop", "request_id": "request-id-0000000001"}
    first = requests.post(f"{url}/api/v1/devices/enrol", json=body, timeout=10).json()
    again = requests.post(f"{url}/api/v1/devices/enrol", json=body, timeout=10).json()
    assert again["token"] == first["token"] and again["device_id"] == first["device_id"]

    store = Store(server_dir)
    try:
        auth.revoke_device(store, first["device_id"])
    finally:
        store.close()
    assert requests.post(f"{url}/api/v1/devices/enrol", json=body,
                         timeout=10).status_code == 404

    code = enrol_code(server_dir)
    body = {"code": code, "device_name": "Laptop", "request_id": "request-id-0000000002"}
    assert requests.post(f"{url}/api/v1/devices/enrol", json=body, timeout=10).ok
    monkeypatch.setattr(auth, "ENROL_ANSWER_LIFETIME", timedelta(seconds=-1))
    assert requests.post(f"{url}/api/v1/devices/enrol", json=body,
                         timeout=10).status_code == 404


def test_the_server_keeps_no_token_in_clear(server):
    url, server_dir = server
    code = enrol_code(server_dir)
    body = {"code": code, "device_name": "Laptop", "request_id": "request-id-0000000003"}
    token = requests.post(f"{url}/api/v1/devices/enrol", json=body, timeout=10).json()["token"]
    for path in server_dir.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path.name


@pytest.mark.parametrize("part", ["server.db", "keys/private/server_signing_key.pem"])
def test_server_files_are_the_owners_alone(server, part, server_engine):
    _url, server_dir = server
    path = server_dir / part
    if part == "server.db" and server_engine == "postgresql":
        # The registry is in PostgreSQL: no copy of it in the folder, private or not.
        assert not path.exists() and not list(server_dir.glob("*.db*"))
        return
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
