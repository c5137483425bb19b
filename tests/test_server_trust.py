"""Trust boundaries on the server (issue 9): a registration belongs to the device that first
sent it, corrections of a decided registration wait for a verifier, every decision names the
logged-in operator, an admin moves a replaced laptop's registrations; and a duplicate rejected
by resolution leaves the duplicates (issue 12, item 22). Against the real server on loopback."""

from __future__ import annotations

import copy

import requests
from server_util import outcomes, record, workers

import main
from server.auth import revoke_device
from server.holdings import device_records
from storage.models import Heir

OPERATOR = {"username": "rina.v", "display_name": "Rina Verifikator"}


def decide(client, record_id: str, action: str, **body):
    body.setdefault("operator", OPERATOR)
    if "revision" not in body:
        body["revision"] = client.registration(record_id)["revision"]
    return client.post(f"/registrations/{record_id}/{action}", body)


def next_version(reg, **changes):
    edited = copy.deepcopy(reg)
    edited.version = reg.version + 1
    for name, value in changes.items():
        setattr(edited, name, value)
    return edited


def funded(live, seed: int):
    """An enumerator device, its funded registration, and a verifier."""
    owner = live.enrol("enumerator", "Laptop A")
    (reg,) = workers(1, seed=seed)
    reg.heirs = [Heir("Siti Aminah", "istri", "081200000001")]
    assert outcomes(owner.push([record(reg, owner.device_id)])) == ["accepted"]
    verifier = live.enrol("verifier", "Meja verifikasi")
    assert decide(verifier, reg.id, "verify").status_code == 200
    answer = decide(verifier, reg.id, "fund")
    assert answer.status_code == 200, answer.text
    return owner, reg, verifier, answer.json()["registration"]


# --- 1. ownership ------------------------------------------------------------------------------


def test_another_devices_version_is_refused_alone_and_the_owner_still_corrects(live):
    owner, reg, verifier, before = funded(live, seed=1)
    intruder = live.enrol("enumerator", "Laptop D")
    forged = next_version(reg, full_name="Nama Palsu")
    (own_new,) = workers(1, seed=2)
    batch = [record(forged, intruder.device_id, base_version=1),
             record(own_new, intruder.device_id)]
    answer = intruder.push(batch, batch_id="batch-d-1")
    assert outcomes(answer) == ["refused", "accepted"]  # the rest of the batch goes through
    refused = answer.json()["results"][0]
    assert [e["code"] for e in refused["errors"]] == ["record.not_owner"]
    assert "milik perangkat lain" in refused["errors"][0]["message"]
    assert refused["status"] is None  # nothing about another device's record is told
    # Replay rules unchanged: the same batch answers the same, and nothing was stored.
    again = intruder.push(batch, batch_id="batch-d-1")
    assert again.json()["replayed"] is True and outcomes(again) == ["refused", "accepted"]
    now = verifier.registration(reg.id)
    assert now["data"]["full_name"] == reg.full_name
    assert (now["status"], now["member_number"], now["revision"]) == (
        "funded", before["member_number"], before["revision"])
    versions = live.store.reader().execute(
        "SELECT count(*) FROM versions WHERE record_id = ?", [reg.id]).fetchone()[0]
    assert versions == 1

    # The owner's own later version is still taken (as a correction of a funded member).
    fixed = next_version(reg, phone="081299990000")
    assert outcomes(owner.push([record(fixed, owner.device_id, base_version=1)])) == [
        "correction_pending"]


# --- 2. corrections wait for a verifier -------------------------------------------------------


def test_a_heir_change_on_a_funded_member_waits_and_approval_makes_it_current(live):
    owner, reg, verifier, before = funded(live, seed=3)
    changed = next_version(reg, heirs=[Heir("Orang Lain", "lainnya", "081200000009")])
    answer = owner.push([record(changed, owner.device_id, base_version=1)])
    assert outcomes(answer) == ["correction_pending"]
    assert answer.json()["results"][0]["status"] == "funded"

    opened = verifier.get(f"/registrations/{reg.id}").json()
    current = opened["registration"]
    assert current["data"]["heirs"][0]["name"] == "Siti Aminah"  # not applied yet
    assert (current["status"], current["member_number"]) == ("funded", before["member_number"])
    assert current["correction_pending"] is True and current["version"] == 1
    assert opened["correction"]["version"] == 2
    assert opened["correction"]["changed"] == ["heirs"]
    assert opened["correction"]["data"]["heirs"][0]["name"] == "Orang Lain"
    assert [e["event"] for e in opened["events"]][-1] == "correction_pending"
    listed = verifier.get("/registrations", params={"correction_pending": "true"}).json()
    assert [i["id"] for i in listed["items"]] == [reg.id]
    assert verifier.get("/registrations",
                        params={"correction_pending": "false"}).json()["total"] == 0
    # The card and pull's credential keep the current data; funding stays.
    changes, _ = owner.pull_all()
    state = [c for c in changes if c["kind"] == "registration"][-1]
    assert (state["correction_pending"], state["pending_version"], state["version"]) == (
        True, 2, 1)
    assert state["member_number"] == before["member_number"]

    # Deciding the registration itself waits for the correction.
    assert decide(verifier, reg.id, "reject", reason_code="other").json()["error"]["code"] == (
        "decision.not_allowed")
    approved = decide(verifier, reg.id, "correction/approve", version=2)
    assert approved.status_code == 200, approved.text
    now = approved.json()["registration"]
    assert now["data"]["heirs"][0]["name"] == "Orang Lain" and now["version"] == 2
    assert (now["status"], now["member_number"]) == ("funded", before["member_number"])
    assert now["correction_pending"] is False
    assert now["card_outdated"] is False  # heirs are not printed on the card
    assert approved.json()["correction"] is None
    event = approved.json()["events"][-1]
    assert (event["event"], event["version"], event["operator"]) == (
        "correction_approved", 2, OPERATOR)
    changes, _ = owner.pull_all()
    assert [c["event"] for c in changes if c["kind"] == "event"][-2:] == [
        "correction_pending", "correction_approved"]


def test_a_rejected_correction_keeps_the_current_version_and_says_why(live):
    owner, reg, verifier, before = funded(live, seed=4)
    changed = next_version(reg, heirs=[Heir("Orang Lain", "lainnya")])
    owner.push([record(changed, owner.device_id, base_version=1)])
    refused = decide(verifier, reg.id, "correction/reject", version=2, reason_code="wrong_data",
                     reason_text="Ahli waris tidak sesuai KK")
    assert refused.status_code == 200, refused.text
    now = refused.json()["registration"]
    assert now["data"]["heirs"][0]["name"] == "Siti Aminah" and now["version"] == 1
    assert (now["status"], now["member_number"]) == ("funded", before["member_number"])
    assert now["correction_pending"] is False
    changes, _ = owner.pull_all()
    event = [c for c in changes if c["kind"] == "event"][-1]
    assert (event["event"], event["reason_code"], event["reason"], event["version"]) == (
        "correction_rejected", "wrong_data",
        "Data tidak sesuai dokumen (KTP/KK): Ahli waris tidak sesuai KK", 2)
    state = [c for c in changes if c["kind"] == "registration"][-1]
    assert state["seen_version"] == 2 and "pending_version" not in state
    # Nothing left to decide.
    again = decide(verifier, reg.id, "correction/approve", version=2)
    assert again.status_code == 409 and again.json()["error"]["code"] == "decision.not_allowed"


def test_a_decision_on_a_correction_that_moved_on_is_stale(live):
    owner, reg, verifier, _ = funded(live, seed=5)
    first = next_version(reg, phone="081211110000")
    owner.push([record(first, owner.device_id, base_version=1)])
    seen = verifier.registration(reg.id)["revision"]
    second = next_version(first, phone="081222220000")
    assert outcomes(owner.push([record(second, owner.device_id, base_version=2)])) == [
        "correction_pending"]
    for body in ({"version": 2, "revision": seen},  # both moved on
                 {"version": 2, "revision": verifier.registration(reg.id)["revision"]}):
        stale = decide(verifier, reg.id, "correction/approve", **body)
        assert stale.status_code == 409, stale.text
        assert stale.json()["error"]["code"] == "decision.stale_revision"
    assert verifier.registration(reg.id)["data"]["phone"] == reg.phone
    ok = decide(verifier, reg.id, "correction/approve", version=3)
    assert ok.json()["registration"]["data"]["phone"] == "081222220000"


def test_an_approved_name_change_puts_the_card_under_reprints(live):
    owner, reg, verifier, before = funded(live, seed=6)
    desk = live.enrol("card_desk", "Loket kartu")
    renamed = next_version(reg, full_name="Nama Diperbaiki Sesuai KTP")
    owner.push([record(renamed, owner.device_id, base_version=1)])
    # Waiting: the card still carries the old name.
    assert verifier.registration(reg.id)["card"]["qr"] == before["card"]["qr"]
    approved = decide(verifier, reg.id, "correction/approve", version=2).json()
    assert approved["registration"]["card_outdated"] is True
    assert "cetak ulang" in approved["events"][-1]["reason"]
    outdated = desk.get("/registrations", params={"card_outdated": "true"}).json()
    assert [i["id"] for i in outdated["items"]] == [reg.id]
    changes, _ = desk.pull_all()
    assert [c.get("card_outdated") for c in changes if c["kind"] == "registration"][-1] is True
    reprint = desk.post(f"/registrations/{reg.id}/card/reprint",
                        {"card_version": 1, "reason_code": "data_corrected",
                         "operator": {"username": "loket.ani", "display_name": "Ani"}})
    assert reprint.status_code == 200, reprint.text
    assert reprint.json()["registration"]["card_outdated"] is False
    changes, _ = desk.pull_all()
    credential = [c for c in changes if c["kind"] == "credential"][-1]
    assert credential["name"] == "Nama Diperbaiki Sesuai KTP" and credential["card_version"] == 2


def test_a_correction_moving_a_funded_member_to_the_other_cohort_cannot_be_approved(live):
    owner, reg, verifier, before = funded(live, seed=7)
    assert before["member_number"].split("-")[2] == "PR"
    moved = next_version(reg, occupation_code="imam", cohort="petugas_keagamaan")
    assert outcomes(owner.push([record(moved, owner.device_id, base_version=1)])) \
        == ["correction_pending"]
    refused = decide(verifier, reg.id, "correction/approve", version=2)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "correction.cohort_of_member"
    now = verifier.registration(reg.id)
    assert (now["cohort"], now["member_number"], now["correction_pending"]) \
        == ("pekerja_rentan", before["member_number"], True)
    # The verifier rejects it; the member stays as funded.
    rejected = decide(verifier, reg.id, "correction/reject", version=2,
                      reason_code="wrong_data", reason_text="Kelompok tidak berubah")
    assert rejected.status_code == 200, rejected.text


def test_a_verified_registration_corrected_waits_too(live):
    owner = live.enrol()
    (reg,) = workers(1, seed=7)
    owner.push([record(reg, owner.device_id)])
    verifier = live.enrol("verifier")
    decide(verifier, reg.id, "verify")
    changed = next_version(reg, full_name="Nama Baru")
    assert outcomes(owner.push([record(changed, owner.device_id, base_version=1)])) == [
        "correction_pending"]
    row = verifier.registration(reg.id)
    assert (row["status"], row["full_name"]) == ("verified", reg.full_name)
    refused = decide(verifier, reg.id, "fund")
    assert refused.json()["error"]["code"] == "decision.not_allowed"


# --- 3. who did it ----------------------------------------------------------------------------


def test_a_decision_without_the_operator_is_refused_and_with_one_it_is_stored(live):
    owner = live.enrol()
    (reg,) = workers(1, seed=8)
    owner.push([record(reg, owner.device_id)])
    verifier = live.enrol("verifier", "Meja Disnaker 2")
    revision = verifier.registration(reg.id)["revision"]
    for operator in (None, "Rina", {"username": "rina"}, {"username": "  ", "display_name": "R"},
                     {"username": "r" * 65, "display_name": "R"}):
        body = {"revision": revision}
        if operator is not None:
            body["operator"] = operator
        answer = verifier.post(f"/registrations/{reg.id}/verify", body)
        assert answer.status_code == 422, (operator, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "request.invalid"
        assert all(d["loc"][:2] == ["body", "operator"] for d in error["details"])
    assert verifier.registration(reg.id)["status"] == "received"

    answer = decide(verifier, reg.id, "verify",
                    operator={"username": " rina.v ", "display_name": "Rina  Verifikator"})
    assert answer.status_code == 200, answer.text
    stored = live.store.reader().execute(
        "SELECT operator_username, operator, device_id, by FROM events WHERE record_id = ?",
        [reg.id]).fetchall()
    assert stored == [("rina.v", "Rina Verifikator", verifier.device_id,
                       "Rina Verifikator @ Meja Disnaker 2")]
    changes, _ = owner.pull_all()
    event = [c for c in changes if c["kind"] == "event"][-1]
    assert (event["operator_username"], event["operator_name"], event["device_id"]) == (
        "rina.v", "Rina Verifikator", verifier.device_id)
    assert answer.json()["events"][-1]["operator"] == OPERATOR


# --- 4. moving a replaced laptop's registrations ----------------------------------------------


def test_transfer_lets_the_new_device_correct_and_refuses_the_old_one(live, capsys):
    old = live.enrol("enumerator", "Laptop lama")
    regs = workers(2, seed=9)
    old.push([record(r, old.device_id) for r in regs])
    new, bystander = live.enrol("enumerator", "Laptop baru"), live.enrol("enumerator", "Lain")
    admin = live.enrol("admin", "Admin")
    body = {"from_device_id": old.device_id, "to_device_id": new.device_id,
            "operator": {"username": "admin.kota", "display_name": "Admin Kota"}}
    assert new.post("/devices/transfer-records", body).status_code == 403  # admins only
    answer = admin.post("/devices/transfer-records", body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["records"] == 2

    # The new device receives the full current data; the old one learns they are no longer
    # its own; any other device learns nothing but the audit event.
    changes, _ = new.pull_all()
    moved = [c for c in changes if c["kind"] == "transfer"]
    assert sorted(c["id"] for c in moved) == sorted(r.id for r in regs)
    assert all(c["data"]["nik"] and c["version"] == 1 and c["status"] == "received"
               for c in moved)
    changes, _ = old.pull_all()
    told = [c for c in changes if c["kind"] == "transfer"]
    assert [("data" in c, c["to_device_id"]) for c in told] == [(False, new.device_id)] * 2
    held = {r["record_id"]: r["how"] for r in device_records(live.store, new.device_id)}
    assert all("pulled: full record (transfer)" in held[r.id] for r in regs)
    changes, _ = bystander.pull_all()
    assert not [c for c in changes if c["kind"] == "transfer"]
    held = {r["record_id"]: r["how"] for r in device_records(live.store, bystander.device_id)}
    assert "transfer" not in " ".join(held.values())
    events = [c for c in changes if c["kind"] == "event"]
    assert [e["event"] for e in events] == ["transferred"] * 2
    assert "Laptop lama" in events[0]["reason"] and events[0]["operator_username"] == "admin.kota"

    fixed = next_version(regs[0], phone="081233334444")
    assert outcomes(new.push([record(fixed, new.device_id, base_version=1)])) == ["accepted"]
    late = next_version(regs[1], phone="081255556666")
    assert outcomes(old.push([record(late, old.device_id, base_version=1)])) == ["refused"]

    # The command line does the same, and moves them back.
    args = ["server", "transfer-records", "--data-dir", str(live.store.data_dir),
            "--from", new.device_id, "--to", old.device_id]
    assert main.main(args) == 0
    assert "2 pendaftaran dipindahkan" in capsys.readouterr().out
    assert outcomes(old.push([record(late, old.device_id, base_version=1)])) == ["accepted"]


def test_transfer_to_an_unknown_or_revoked_device_is_refused(live, capsys):
    old, target = live.enrol("enumerator"), live.enrol("enumerator")
    (reg,) = workers(1, seed=10)
    old.push([record(reg, old.device_id)])
    admin = live.enrol("admin")
    who = {"username": "admin.kota", "display_name": "Admin Kota"}

    def move(source, to):
        return admin.post("/devices/transfer-records",
                          {"from_device_id": source, "to_device_id": to, "operator": who})

    unknown = move(old.device_id, "0193-tidak-ada")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "device.not_found")
    assert move("0193-tidak-ada", target.device_id).status_code == 404
    assert move(old.device_id, old.device_id).json()["error"]["code"] == "transfer.same_device"
    # A revoked target is refused.
    revoke_device(live.store, target.device_id)
    refused = move(old.device_id, target.device_id)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "device.revoked")
    assert "dicabut" in refused.json()["error"]["message"]
    args = ["server", "transfer-records", "--data-dir", str(live.store.data_dir),
            "--from", old.device_id, "--to", target.device_id]
    assert main.main(args) == 1
    assert "dicabut" in capsys.readouterr().err
    owner = live.store.reader().execute
    assert owner("SELECT device_id FROM registrations WHERE id = ?", [reg.id]).fetchone()[0] == (
        old.device_id)
    # A revoked source is allowed: a lost laptop is revoked first, then its records are moved.
    revoke_device(live.store, old.device_id)
    successor = live.enrol("enumerator")
    moved = move(old.device_id, successor.device_id)
    assert moved.status_code == 200 and moved.json()["records"] == 1


# --- issue 12, item 22 ------------------------------------------------------------------------


def test_a_duplicate_rejected_by_resolution_leaves_the_duplicates(live):
    a, b = live.enrol(), live.enrol()
    (reg,) = workers(1, seed=11)
    twin = copy.deepcopy(reg)
    twin.id = reg.id[:-4] + "beef"
    a.push([record(reg, a.device_id)])
    assert outcomes(b.push([record(twin, b.device_id)])) == ["duplicate"]
    verifier = live.enrol("verifier")
    flagged = verifier.get("/registrations", params={"possible_duplicate": "true"}).json()
    assert flagged["total"] == 2
    answer = decide(verifier, twin.id, "resolve-duplicate", keep_id=reg.id)
    assert answer.status_code == 200, answer.text
    assert verifier.get("/registrations",
                        params={"possible_duplicate": "true"}).json()["total"] == 0
    rejected = verifier.registration(twin.id)
    assert (rejected["status"], rejected["reason_code"]) == ("rejected", "duplicate")
    assert (rejected["possible_duplicate"], rejected["duplicate_of"]) == (False, None)
    changes, _ = b.pull_all()
    state = [c for c in changes if c["kind"] == "registration" and c["id"] == twin.id][-1]
    assert state["status"] == "rejected" and "possible_duplicate" not in state


def test_the_new_requests_keep_the_acceptance_probes(live):
    """No token, a revoked token, the wrong role and impersonation are refused on the new
    requests as on every other one."""

    owner, reg, verifier, _ = funded(live, seed=12)
    owner.push([record(next_version(reg, phone="081277778888"), owner.device_id)])
    approve = f"/registrations/{reg.id}/correction/approve"
    body = {"revision": verifier.registration(reg.id)["revision"], "version": 2,
            "operator": OPERATOR}
    move = {"from_device_id": owner.device_id, "to_device_id": verifier.device_id,
            "operator": OPERATOR}
    for path, payload in ((approve, body), ("/devices/transfer-records", move)):
        bare = requests.post(live.api + path, json=payload, timeout=10)
        assert (bare.status_code, bare.json()["error"]["code"]) == (401, "auth.missing_token")
    for client in (owner, live.enrol("card_desk")):
        assert client.post(approve, body).json()["error"]["code"] == "auth.forbidden_role"
    assert verifier.post("/devices/transfer-records", move).status_code == 403
    revoked = live.enrol("verifier")
    revoke_device(live.store, revoked.device_id)
    answer = revoked.post(approve, body)
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "auth.revoked")
    # Impersonation: a device cannot send the owner's id to pass as the owner.
    intruder = live.enrol()
    forged = record(next_version(reg, full_name="Nama Palsu"), owner.device_id)
    answer = intruder.push([forged])
    assert (answer.status_code, answer.json()["error"]["code"]) == (403, "auth.device_mismatch")
    assert verifier.registration(reg.id)["correction_pending"] is True
