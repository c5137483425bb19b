"""The verifier's decisions through sync/verifier.py against the real server on loopback, and how
they reach the devices through pull (issue 5: decisions flowing to a second device; reject →
correct → resend → verify; a stale decision refused; a revoked verifier cannot decide)."""

from __future__ import annotations

import pytest
from sync_util import enrol_code, enrolled_device, sync_once

from storage.demo import fill_demo_data
from sync import state
from sync import verifier as v
from sync.client import SyncClient
from sync.enrol import client_for

# The operator logged in at the verifier desk.
OP = v.OperatorRef("verifikator.satu", "Verifikator Satu")


def _verifier(server, role: str = "verifier") -> tuple[SyncClient, str]:
    """A verifier's client (the token straight from enrolment) and its device id."""
    url, server_dir = server
    answer = SyncClient(url).enrol(enrol_code(server_dir, role), f"Meja {role}")
    client = SyncClient(url, answer["token"])
    client.retry.base = 0.01
    return client, answer["device_id"]


def _worker(registry, reg_id: str) -> tuple[str, str, str]:
    reg = registry.get(reg_id)
    return reg.status, reg.member_number, reg.status_reason


def _ids(registry) -> list[str]:
    return [r[0] for r in registry.db_for_tests.execute("SELECT id FROM workers ORDER BY seq")]


def _fresh(client, reg_id: str) -> dict:
    return v.registration_detail(client, reg_id)["registration"]


def test_decisions_reach_the_registering_device_and_a_second_device(tmp_path, server):
    url, server_dir = server
    a = enrolled_device(tmp_path / "a.sqlite3", url, server_dir, "enumerator")
    b = enrolled_device(tmp_path / "b.sqlite3", url, server_dir, "card_desk")
    fill_demo_data(a, 3, seed=11)
    assert sync_once(a).accepted == 3
    client, _ = _verifier(server)

    listed = v.list_registrations(client, v.RegistrationQuery(status="received"))
    assert listed["total"] == 3
    assert all("******" in item["nik_masked"] for item in listed["items"])
    funded_id, rejected_id, waiting_id = _ids(a)

    row = _fresh(client, funded_id)
    row = v.verify(client, funded_id, row["revision"], operator=OP)["registration"]
    row = v.fund(client, funded_id, row["revision"], operator=OP)["registration"]
    member = row["member_number"]
    assert row["status"] == "funded" and member.startswith("JMB-")
    row = _fresh(client, rejected_id)
    v.reject(client, rejected_id, row["revision"], "not_resident",
             reason_text="Alamat di luar Kota Jambi", operator=OP)

    # Device B (card desk) never registered these: it learns the statuses and the signed card.
    sync_once(b)
    known = dict(b.db_for_tests.execute("SELECT id, status FROM known_registrations").fetchall())
    assert known == {funded_id: "funded", rejected_id: "rejected", waiting_id: "received"}
    cards = [c for c in state.credential_payloads(b) if c["id"] == funded_id]
    assert len(cards) == 1 and cards[0]["member_number"] == member and cards[0]["qr"]

    # Device A (the enumerator) sees its own people: funded with the number, rejected with why.
    sync_once(a)
    assert _worker(a, funded_id)[:2] == ("funded", member)
    status, _, reason = _worker(a, rejected_id)
    assert status == "rejected"  # the enumerator reads the reason and the note
    assert reason == "Bukan penduduk / tidak berdomisili di kota ini: Alamat di luar Kota Jambi"
    assert _worker(a, waiting_id)[0] == "received"
    attention = {r.record_id: r for r in state.attention_rows(a)}
    assert set(attention) == {rejected_id}
    assert "luar Kota Jambi" in attention[rejected_id].reason


def test_reject_then_correct_on_the_device_then_resend_then_verify(tmp_path, server):
    url, server_dir = server
    a = enrolled_device(tmp_path / "a.sqlite3", url, server_dir, "enumerator")
    fill_demo_data(a, 1, seed=5)
    sync_once(a)
    client, _ = _verifier(server)
    (reg_id,) = _ids(a)
    v.reject(client, reg_id, _fresh(client, reg_id)["revision"], "wrong_data",
             reason_text="Nomor RT salah", operator=OP)
    sync_once(a)
    assert _worker(a, reg_id)[0] == "rejected"
    assert [r.record_id for r in state.attention_rows(a)] == [reg_id]

    reg = a.get(reg_id)
    reg.rt = "007"
    result = a.save(reg, operator="Petugas Pendata")
    if not result.saved:  # soft warnings of the demo record, confirmed as an operator would
        result = a.save(reg, operator="Petugas Pendata",
                        confirmed_warnings=[w.code for w in result.validation.warnings])
    assert result.saved and result.registration.version == 2
    report = sync_once(a)
    assert (report.pushed, report.accepted) == (1, 1)
    row = _fresh(client, reg_id)
    assert (row["status"], row["version"], row["data"]["rt"]) == ("received", 2, "007")

    v.verify(client, reg_id, row["revision"], operator=OP)
    sync_once(a)
    assert _worker(a, reg_id)[0] == "verified"
    assert state.attention_rows(a) == []


def test_a_decision_on_a_registration_changed_since_it_was_opened_is_refused(tmp_path, server):
    url, server_dir = server
    a = enrolled_device(tmp_path / "a.sqlite3", url, server_dir, "enumerator")
    fill_demo_data(a, 1, seed=6)
    sync_once(a)
    client, _ = _verifier(server)
    (reg_id,) = _ids(a)
    seen = _fresh(client, reg_id)  # the verifier opens it…

    reg = a.get(reg_id)  # …meanwhile the enumerator corrects it and syncs
    reg.street = "Jl. Contoh Baru No. 3"
    result = a.save(reg, operator="Petugas Pendata")
    if not result.saved:
        result = a.save(reg, operator="Petugas Pendata",
                        confirmed_warnings=[w.code for w in result.validation.warnings])
    sync_once(a)

    with pytest.raises(v.DecisionRefused) as caught:
        v.verify(client, reg_id, seen["revision"], operator=OP)
    assert caught.value.stale and caught.value.message == v.STALE_MESSAGE
    assert _fresh(client, reg_id)["status"] == "received"  # nothing was applied
    row = _fresh(client, reg_id)
    assert v.verify(client, reg_id, row["revision"], operator=OP)["registration"]["status"] == "verified"


def test_a_revoked_verifier_cannot_decide_and_an_enumerator_may_not(tmp_path, server):
    from server.auth import revoke_device
    from server.store import Store

    url, server_dir = server
    a = enrolled_device(tmp_path / "a.sqlite3", url, server_dir, "enumerator")
    fill_demo_data(a, 1, seed=8)
    sync_once(a)
    (reg_id,) = _ids(a)
    client, device_id = _verifier(server)
    revision = _fresh(client, reg_id)["revision"]
    store = Store(server_dir)
    try:
        assert revoke_device(store, device_id)
    finally:
        store.close()
    with pytest.raises(v.CannotDecide) as caught:
        v.verify(client, reg_id, revision, operator=OP)
    assert caught.value.message == v.REVOKED_MESSAGE
    with pytest.raises(v.CannotDecide):
        v.list_registrations(client)

    enumerator = client_for(a)
    with pytest.raises(v.CannotDecide) as caught:
        v.verify(enumerator, reg_id, revision, operator=OP)
    assert caught.value.message == v.FORBIDDEN_MESSAGE
    enumerator.close()
    check, _ = _verifier(server)
    assert _fresh(check, reg_id)["status"] == "received"


def test_quota_shows_places_left_and_a_full_quota_refuses_clearly(tmp_path, server):
    from server.decisions import set_quota
    from server.rules import server_today
    from server.store import Store

    url, server_dir = server
    a = enrolled_device(tmp_path / "a.sqlite3", url, server_dir, "enumerator")
    fill_demo_data(a, 4, seed=9)
    sync_once(a)
    client, _ = _verifier(server)
    items = v.list_registrations(client, v.RegistrationQuery(cohort="pekerja_rentan"))["items"]
    assert len(items) >= 2
    year = server_today().year
    store = Store(server_dir)
    try:
        set_quota(store, year, "pekerja_rentan", 1)
    finally:
        store.close()
    first, second = (i["id"] for i in items[:2])
    for reg_id in (first, second):
        v.verify(client, reg_id, _fresh(client, reg_id)["revision"], operator=OP)
    v.fund(client, first, _fresh(client, first)["revision"], operator=OP)
    quota = {c["cohort"]: c for c in v.quota(client)["cohorts"]}
    assert (quota["pekerja_rentan"]["places"], quota["pekerja_rentan"]["left"]) == (1, 0)
    with pytest.raises(v.DecisionRefused) as caught:
        v.fund(client, second, _fresh(client, second)["revision"], operator=OP)
    assert caught.value.quota_full and "penuh" in caught.value.message
    assert not caught.value.message.startswith("Server menolak")
    assert _fresh(client, second)["status"] == "verified"


def test_query_parameters_leave_out_empty_filters():
    query = v.RegistrationQuery(kecamatan="15.71.01", possible_duplicate=True, q="  ")
    assert query.params() == {"kecamatan": "15.71.01", "possible_duplicate": "true"}
    assert v.RegistrationQuery(conflict=False).params() == {"conflict": "false"}
