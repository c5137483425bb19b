"""Card steps recorded at the desk reach the server in sync, and from there the registering
device: funded → card printed → card handed over."""

from __future__ import annotations

import json

from sync_util import (
    VERIFIER,
    enrol_code,
    enrolled_device,
    sync_once,
    verifier_client,
    verify_and_fund,
)

from cards import desk
from storage.demo import fill_demo_data
from sync import state
from sync import verifier as v
from sync.client import SyncClient
from sync.engine import run_sync
from sync.enrol import client_for


def test_printed_and_handed_over_reach_the_server_and_the_enumerator(tmp_path, server):
    url, server_dir = server
    field = enrolled_device(tmp_path / "field.sqlite3", url, server_dir, "enumerator")
    card_desk = enrolled_device(tmp_path / "desk.sqlite3", url, server_dir, "card_desk")
    fill_demo_data(field, 1, seed=31)
    sync_once(field)
    reg_id = field.db_for_tests.execute("SELECT id FROM workers").fetchone()[0]

    verifier = verifier_client(url, server_dir)
    verify_and_fund(verifier, reg_id)

    sync_once(card_desk)  # the signed card arrives at the desk
    cards = state.credential_payloads(card_desk)
    assert [c["id"] for c in cards] == [reg_id]
    clerk = v.OperatorRef("loket.ani", "Ani Loket")  # the operator logged in at the desk
    desk.record_printed(card_desk, [(cards[0]["serial"], cards[0]["card_version"])],
                        operator=clerk)
    desk.mark_handed_over(card_desk, reg_id, received_by="Siti", operator=clerk)
    report = sync_once(card_desk)
    assert report.card_steps == 2
    assert desk.card_events_pending(card_desk) == []
    opened = v.registration_detail(verifier, reg_id)
    assert opened["registration"]["status"] == "card_handed_over"
    steps = {e["event"]: e for e in opened["events"]}
    for name in ("card_printed", "card_handed_over"):  # who and where, as recorded at the desk
        assert steps[name]["operator"] == {"username": "loket.ani", "display_name": "Ani Loket"}
        assert steps[name]["device_id"] == state.device_id(card_desk)
    assert sync_once(card_desk).card_steps == 0  # each step goes up once

    sync_once(field)
    assert field.get(reg_id).status == "card_handed_over"
    # Decisions that reach the device are audited there; the receipt ("received") is not one.
    audited = [json.loads(d)["status"] for (d,) in field.db_for_tests.execute(
        "SELECT detail FROM audit_log WHERE action = 'registration.status' AND entity_id = ?",
        [reg_id])]
    assert audited == ["card_handed_over"]
    assert field.audit_chain_ok()


def test_enumerator_never_sends_card_steps(tmp_path, server):
    url, server_dir = server
    field = enrolled_device(tmp_path / "field.sqlite3", url, server_dir, "enumerator")
    assert sync_once(field).card_steps == 0


def test_correcting_a_funded_record_keeps_its_member_number(tmp_path, server):
    url, server_dir = server
    field = enrolled_device(tmp_path / "field.sqlite3", url, server_dir, "enumerator")
    fill_demo_data(field, 1, seed=32)
    sync_once(field)
    reg_id = field.db_for_tests.execute("SELECT id FROM workers").fetchone()[0]
    verifier = verifier_client(url, server_dir)
    member = verify_and_fund(verifier, reg_id)["member_number"]
    sync_once(field)
    assert (field.get(reg_id).status, field.get(reg_id).member_number) == ("funded", member)

    reg = field.get(reg_id)
    reg.phone = "081234567890"
    result = field.save(reg, operator="Petugas")
    if not result.saved:
        codes = [w.code for w in result.validation.warnings]
        result = field.save(reg, operator="Petugas", confirmed_warnings=codes)
    assert result.saved, result.validation
    after_push = []

    def progress(done, total, phase):
        if phase == "pull" and not after_push:  # the push's own answer, before pull repairs it
            after_push.append((field.get(reg_id).status, field.get(reg_id).member_number))

    client = client_for(field)
    report = run_sync(field, client, progress=progress)
    client.close()
    # A correction of a funded member waits for a verifier; the member stays funded meanwhile.
    assert (report.accepted, report.corrections) == (0, 1)
    assert after_push == [("funded", member)]
    assert (field.get(reg_id).status, field.get(reg_id).member_number) == ("funded", member)
    assert state.answer_for(field, reg_id).outcome == state.CORRECTION_PENDING


def test_a_reprint_on_the_server_brings_the_new_card_and_revokes_the_old(tmp_path, server):
    url, server_dir = server
    field = enrolled_device(tmp_path / "field.sqlite3", url, server_dir, "enumerator")
    card_desk = enrolled_device(tmp_path / "desk.sqlite3", url, server_dir, "card_desk")
    fill_demo_data(field, 1, seed=33)
    sync_once(field)
    reg_id = field.db_for_tests.execute("SELECT id FROM workers").fetchone()[0]
    answer = SyncClient(url).enrol(enrol_code(server_dir, "admin"), "Admin")
    admin = SyncClient(url, answer["token"])
    row = verify_and_fund(admin, reg_id)
    sync_once(card_desk)
    first = state.credential_payloads(card_desk)
    assert [c["card_version"] for c in first] == [1]
    admin.call("POST", f"/registrations/{reg_id}/card/reprint",
               {"revision": row["revision"], "reason_code": "lost", "operator": VERIFIER})
    sync_once(card_desk)
    assert [c["card_version"] for c in state.credential_payloads(card_desk)] == [1, 2]
    assert state.revocations(card_desk) == [(first[0]["serial"], 1)]
    sync_once(field)  # the enumerator's device holds no cards, but learns the revocation list
    assert state.revocations(field) == [(first[0]["serial"], 1)]
    assert state.credential_payloads(field) == []
