"""Every device endpoint added for the programme office, the correction review and the device
transfer refuses each role it is not for (403), and a request without a token or with a revoked
device's token (401), on the real server over loopback."""

from __future__ import annotations

import pytest
import requests

from server.auth import revoke_device

OPERATOR = {"username": "uji", "display_name": "Uji Peran"}
DAY = "2026-12-01"
ROLES = ("enumerator", "verifier", "card_desk", "admin")
OFFICE = ("verifier", "admin")
REC = "/registrations/rec-1"

# (method, path, body, roles allowed); bodies are valid, so a refusal is the role's and not 422.
ENDPOINTS = [
    ("POST", "/office/bpjs-export", {"mode": "full", "operator": OPERATOR}, OFFICE),
    ("GET", "/office/audit", None, OFFICE),
    ("POST", "/office/kpj-import",
     {"file_name": "kpj.csv", "content_base64": "YQ==", "operator": OPERATOR}, OFFICE),
    ("GET", "/claims", None, OFFICE),
    ("GET", f"{REC}/claim", None, OFFICE),
    ("POST", f"{REC}/death", {"revision": 0, "died_on": DAY, "place": "Jambi",
                              "certificate_no": "1", "reported_by": "Ani",
                              "operator": OPERATOR}, OFFICE),
    ("POST", f"{REC}/claim/claimant", {"operator": OPERATOR}, OFFICE),
    ("POST", f"{REC}/claim/documents", {"documents": {}, "operator": OPERATOR}, OFFICE),
    ("POST", f"{REC}/claim/submitted",
     {"submitted_on": DAY, "reference": "R1", "operator": OPERATOR}, OFFICE),
    ("POST", f"{REC}/claim/paid", {"paid_on": DAY, "operator": OPERATOR}, OFFICE),
    ("POST", f"{REC}/claim/handed-over", {"handed_over_on": DAY, "operator": OPERATOR}, OFFICE),
    ("POST", f"{REC}/pdp/copy", {"operator": OPERATOR}, OFFICE),
    ("POST", f"{REC}/pdp/withdraw",
     {"revision": 0, "received_on": DAY, "operator": OPERATOR}, OFFICE),
    ("POST", f"{REC}/pdp/erase", {"operator": OPERATOR}, OFFICE),
    ("POST", f"{REC}/correction/approve",
     {"revision": 0, "version": 2, "operator": OPERATOR}, OFFICE),
    ("POST", f"{REC}/correction/reject",
     {"revision": 0, "version": 2, "reason_code": "wrong_data", "operator": OPERATOR}, OFFICE),
    ("POST", "/devices/transfer-records",
     {"from_device_id": "a", "to_device_id": "b", "operator": OPERATOR}, ("admin",)),
]
CASES = [(m, p, b, role) for m, p, b, allowed in ENDPOINTS for role in ROLES
         if role not in allowed]


@pytest.fixture(scope="module")
def live(live_module):
    """The module's server (tests/conftest.py), a device of every role and a revoked one."""
    clients = {role: live_module.enrol(role) for role in ROLES}
    revoked = live_module.enrol("admin", name="Dicabut")
    revoke_device(live_module.store, revoked.device_id)
    return live_module, clients, revoked


def call(live_server, method, path, body, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, live_server.api + path, json=body, headers=headers,
                            timeout=10)


@pytest.mark.parametrize(("method", "path", "body", "role"), CASES,
                         ids=[f"{c[3]}-{c[0]}-{c[1]}" for c in CASES])
def test_a_wrong_role_is_refused(live, method, path, body, role):
    server, clients, _ = live
    answer = call(server, method, path, body, clients[role].enrolment["token"])
    assert answer.status_code == 403, (answer.status_code, answer.text)


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ENDPOINTS,
                         ids=[f"{e[0]}-{e[1]}" for e in ENDPOINTS])
def test_no_token_or_a_revoked_token_is_refused_and_the_right_role_passes(
        live, method, path, body, allowed):
    server, clients, revoked = live
    assert call(server, method, path, body).status_code == 401
    assert call(server, method, path, body, revoked.enrolment["token"]).status_code == 401
    # The allowed role gets past the role check (404/409/422 on the made-up record is fine).
    for role in allowed:
        answer = call(server, method, path, body, clients[role].enrolment["token"])
        assert answer.status_code not in (401, 403), (role, answer.status_code, answer.text)


def test_pull_pending_needs_a_live_token(live):
    server, clients, revoked = live
    path = "/sync/pull?pending=3"
    assert call(server, "GET", path, None).status_code == 401
    assert call(server, "GET", path, None, revoked.enrolment["token"]).status_code == 401
    for role in ROLES:  # every device reports its own outbox
        assert call(server, "GET", path, None, clients[role].enrolment["token"]).status_code == 200
