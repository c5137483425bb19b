"""Push and pull against the real server on a loopback port (docs/SYNC_API.md §3–§5)."""

from __future__ import annotations

import copy
import gzip

from server_util import outcomes, record, workers

from server.holdings import device_records
from server.store import nik_hash


def test_health_needs_no_token(live):
    import requests

    answer = requests.get(f"{live.api}/health", timeout=5)
    assert answer.status_code == 200 and answer.json()["status"] == "ok"


def test_enrolment_code_works_once(live):
    import requests

    from server.auth import create_enrol_code

    code = create_enrol_code(live.store, "enumerator")
    body = {"code": code.lower().replace("-", " "), "device_name": "Laptop 1"}
    first = requests.post(f"{live.api}/devices/enrol", json=body, timeout=5)
    assert first.status_code == 200
    assert first.json()["role"] == "enumerator" and len(first.json()["token"]) >= 40
    again = requests.post(f"{live.api}/devices/enrol", json=body, timeout=5)
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "enrol.invalid_code"
    # Only the hash of the token is stored.
    stored = live.store.reader().execute("SELECT token_hash FROM devices").fetchone()[0]
    assert first.json()["token"] not in stored


def test_unauthenticated_and_revoked_are_refused(live):
    import requests

    from server.auth import revoke_device

    bare = requests.get(f"{live.api}/sync/pull", timeout=5)
    assert bare.status_code == 401 and bare.json()["error"]["code"] == "auth.missing_token"
    wrong = requests.get(f"{live.api}/sync/pull", headers={"Authorization": "Bearer nope"},
                         timeout=5)
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "auth.invalid_token"
    device = live.enrol()
    assert device.get("/sync/pull").status_code == 200
    assert revoke_device(live.store, device.device_id)
    refused = device.get("/sync/pull")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "auth.revoked"
    assert "dicabut" in refused.json()["error"]["message"]


def test_device_cannot_write_as_another(live):
    a, b = live.enrol(), live.enrol()
    reg = workers(1)[0]
    as_other = b.push([record(reg, a.device_id)])
    assert as_other.status_code == 403
    assert as_other.json()["error"]["code"] == "auth.device_mismatch"
    body = {"batch_id": "x1", "device_id": a.device_id, "records": [record(reg, b.device_id)]}
    assert b.post("/sync/push", body).status_code == 403
    assert live.store.reader().execute("SELECT COUNT(*) FROM registrations").fetchone()[0] == 0


def test_push_accepts_valid_and_rejects_invalid_with_field_errors(live):
    device = live.enrol()
    good, bad = workers(2, seed=1)
    bad.nik = "12345"
    answer = device.push([record(good, device.device_id), record(bad, device.device_id)],
                         gzip_body=True)
    assert outcomes(answer) == ["accepted", "rejected"]
    errors = answer.json()["results"][1]["errors"]
    assert any(e["field"] == "nik" and e["code"].startswith("nik.") for e in errors)
    assert answer.json()["results"][0]["status"] == "received"


def test_same_batch_again_changes_nothing(live):
    device = live.enrol()
    records = [record(r, device.device_id) for r in workers(5, seed=2)]
    first = device.push(records, batch_id="batch-1")
    seq_before = live.store.reader().execute("SELECT MAX(seq) FROM feed").fetchone()[0]
    again = device.push(records, batch_id="batch-1")
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["results"] == first.json()["results"]
    # The same records in a new batch (an outbox retry after a lost answer): same answers.
    retry = device.push(records, batch_id="batch-2")
    assert [r["outcome"] for r in retry.json()["results"]] == ["accepted"] * 5
    seq_after = live.store.reader().execute("SELECT MAX(seq) FROM feed").fetchone()[0]
    assert seq_after == seq_before
    assert live.store.reader().execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 5
    other = device.push(records[:2], batch_id="batch-1")
    assert other.status_code == 409 and other.json()["error"]["code"] == "batch.id_reused"


def test_same_nik_on_two_devices_first_wins_both_flagged(live):
    a, b = live.enrol(), live.enrol()
    reg_a = workers(1, seed=3)[0]
    reg_b = copy.deepcopy(reg_a)
    reg_b.id = reg_a.id[:-4] + "ffff"
    reg_b.full_name = reg_a.full_name + " Saputra"
    assert outcomes(a.push([record(reg_a, a.device_id)])) == ["accepted"]
    answer = b.push([record(reg_b, b.device_id)])
    assert outcomes(answer) == ["duplicate"]
    assert answer.json()["results"][0]["duplicate_of"] == reg_a.id
    both = live.store.reader().execute("SELECT COUNT(*) FROM registrations").fetchone()[0]
    assert both == 2  # kept, not dropped
    for device in (a, b):
        changes, _ = device.pull_all()
        state = {c["id"]: c for c in changes if c["kind"] == "registration"}
        assert state[reg_a.id].get("possible_duplicate") is True
        assert "duplicate_of" not in state[reg_a.id]
        assert state[reg_b.id]["duplicate_of"] == reg_a.id
        assert state[reg_b.id]["possible_duplicate"] is True


def test_the_same_version_made_twice_by_its_owner_conflict_kept(live):
    # Only the owner may send versions (another device is refused): two different versions 2
    # come from the owner's laptop restored from an older backup and edited again.
    a, b = live.enrol(), live.enrol()
    reg = workers(1, seed=4)[0]
    assert outcomes(a.push([record(reg, a.device_id)])) == ["accepted"]
    edit_a, edit_b = copy.deepcopy(reg), copy.deepcopy(reg)
    edit_a.version = edit_b.version = 2
    edit_a.phone, edit_b.phone = "080011112222", "080033334444"
    assert outcomes(a.push([record(edit_a, a.device_id, base_version=1)])) == ["accepted"]
    answer = a.push([record(edit_b, a.device_id, base_version=1)])
    assert outcomes(answer) == ["conflict"]
    assert answer.json()["results"][0]["server_version"] == 2
    versions = live.store.reader().execute(
        "SELECT outcome, device_id FROM versions WHERE record_id = ? ORDER BY received_at",
        [reg.id],
    ).fetchall()
    assert [v[0] for v in versions] == ["accepted", "accepted", "conflict"]
    changes, _ = b.pull_all()
    state = [c for c in changes if c["kind"] == "registration" and c["id"] == reg.id]
    assert state[0]["conflict"] is True


def test_older_version_after_newer_is_stale(live):
    device = live.enrol()
    reg = workers(1, seed=5)[0]
    v1 = record(reg, device.device_id)
    reg2 = copy.deepcopy(reg)
    reg2.version, reg2.notes = 2, "diperbaiki"
    v2 = record(reg2, device.device_id, base_version=1)
    assert outcomes(device.push([v2])) == ["accepted"]
    assert outcomes(device.push([v1])) == ["stale"]


def test_rejected_then_corrected_is_accepted(live):
    device = live.enrol()
    reg = workers(1, seed=6)[0]
    good_nik = reg.nik
    reg.nik = good_nik[:6] + "99" + good_nik[8:]  # day 99: no such date
    assert outcomes(device.push([record(reg, device.device_id)])) == ["rejected"]
    reg.nik, reg.version = good_nik, 2
    assert outcomes(device.push([record(reg, device.device_id, base_version=1)])) == ["accepted"]


def test_pull_pages_by_cursor_and_hashes_are_keyed(live):
    device = live.enrol()
    regs = workers(25, seed=7)
    assert set(outcomes(device.push([record(r, device.device_id) for r in regs]))) == {
        "accepted"}
    seen, cursor, pages = [], 0, 0
    while True:
        page = device.get("/sync/pull", params={"cursor": cursor, "limit": 7}).json()
        assert len(page["changes"]) <= 7
        seqs = [c["seq"] for c in page["changes"]]
        assert seqs == sorted(seqs) and all(s > cursor for s in seqs)
        seen += page["changes"]
        cursor, pages = page["next_cursor"], pages + 1
        if not page["has_more"]:
            break
    assert pages >= 4
    state = {c["id"]: c for c in seen if c["kind"] == "registration"}
    assert set(state) == {r.id for r in regs}
    key = live.store.nik_hash_key
    for reg in regs:
        assert state[reg.id]["nik_hash"] == nik_hash(key, reg.nik)
        assert reg.nik not in str(state[reg.id])
    # Nothing new: an empty page that keeps the cursor.
    tail = device.get("/sync/pull", params={"cursor": cursor}).json()
    assert tail["changes"] == [] and tail["next_cursor"] == cursor and not tail["has_more"]


def test_pull_is_gzipped_when_asked(live):
    device = live.enrol()
    device.push([record(r, device.device_id) for r in workers(30, seed=8)])
    answer = device.get("/sync/pull", headers={"Accept-Encoding": "gzip"}, stream=True)
    assert answer.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(answer.raw.read())[:1] == b"{"


def test_device_records_lists_pushed_and_pulled(live):
    a, b = live.enrol(), live.enrol()
    regs_a = workers(3, seed=9)
    a.push([record(r, a.device_id) for r in regs_a])
    assert device_records(live.store, b.device_id) == []
    b.pull_all()
    held_a = {r["record_id"]: r["how"] for r in device_records(live.store, a.device_id)}
    held_b = {r["record_id"]: r for r in device_records(live.store, b.device_id)}
    assert set(held_a) == set(held_b) == {r.id for r in regs_a}
    assert set(held_a.values()) == {"pushed"}
    assert all(r["how"] == "pulled: nik hash and status" for r in held_b.values())
    assert all("******" in r["nik_masked"] for r in held_b.values())


def test_nik_hash_vector():
    """The example of docs/SYNC_API.md §3, so that another implementation can check itself."""
    key = bytes(range(32))
    assert nik_hash(key, "1571010101900001") == NIK_HASH_EXAMPLE


NIK_HASH_EXAMPLE = "b4b1a6a191f9f87e167d6a42adb968a7"


def test_a_batch_that_fails_midway_writes_nothing(live, monkeypatch):
    """A crash inside the batch transaction (here: injected on the 4th record) leaves no trace;
    sending the batch again stores every record once."""
    from server import push as push_module

    device = live.enrol()
    regs = workers(6, seed=10)
    records = [record(r, device.device_id) for r in regs]
    real_apply = push_module.BatchWriter.apply
    calls = {"n": 0}

    def failing_apply(self, prepared):
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError("disk unplugged")
        return real_apply(self, prepared)

    monkeypatch.setattr(push_module.BatchWriter, "apply", failing_apply)
    answer = device.push(records, batch_id="midway")
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "server.error"
    db = live.store.reader()
    for table in ("registrations", "versions", "batches", "pushed"):
        assert db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table
    monkeypatch.setattr(push_module.BatchWriter, "apply", real_apply)
    assert outcomes(device.push(records, batch_id="midway")) == ["accepted"] * 6
    assert outcomes(device.push(records, batch_id="midway")) == ["accepted"] * 6
    assert db.execute("SELECT COUNT(*) FROM registrations").fetchone()[0] == 6


def test_cursor_from_another_server_starts_again(live):
    device = live.enrol()
    regs = workers(3, seed=11)
    device.push([record(r, device.device_id) for r in regs])
    page = device.get("/sync/pull", params={"cursor": 10**9}).json()
    assert page["cursor"] == 0
    assert {c["id"] for c in page["changes"]} == {r.id for r in regs}


def test_push_schema_carries_every_registration_field():
    """A field added to storage.models must be added to the push schema too, or the server
    would drop it silently (unknown fields are ignored for forward compatibility)."""
    from server.schemas import HeirData, RegistrationData
    from storage.models import Heir, Registration

    assert set(RegistrationData.model_fields) == set(Registration.__dataclass_fields__)
    assert set(HeirData.model_fields) == set(Heir.__dataclass_fields__)


def test_pull_keeps_each_devices_last_reported_outbox_count(live):
    """`pending` on pull (docs/SYNC_API.md §5): kept per device, the last one wins, a pull
    without it changes nothing, a value that is not a count is refused."""
    a, b = live.enrol("enumerator", "A"), live.enrol("enumerator", "B")

    def kept() -> dict:
        return {r[0]: r[1] for r in live.store.reader().execute(
            "SELECT device_id, pending FROM device_outbox").fetchall()}

    assert a.get("/sync/pull", params={"cursor": 0}).status_code == 200
    assert kept() == {}
    assert a.get("/sync/pull", params={"cursor": 0, "pending": 7}).status_code == 200
    assert b.get("/sync/pull", params={"cursor": 0, "pending": 2}).status_code == 200
    assert kept() == {a.device_id: 7, b.device_id: 2}
    assert a.get("/sync/pull", params={"cursor": 0, "pending": 0}).status_code == 200
    assert a.get("/sync/pull", params={"cursor": 0}).status_code == 200
    assert kept() == {a.device_id: 0, b.device_id: 2}
    for bad in ("-1", "tiga", "1.5", "10000001"):
        answer = a.get("/sync/pull", params={"cursor": 0, "pending": bad})
        assert answer.status_code == 422, bad
    assert kept() == {a.device_id: 0, b.device_id: 2}
