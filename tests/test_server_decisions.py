"""The verifier's decisions, funding within the quota and the card desk, on the real server
(docs/SYNC_API.md §6–§7)."""

from __future__ import annotations

import copy
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import requests
from server_util import record, workers

from cards.credential import verify_credential
from server.auth import revoke_device
from server.decisions import set_quota
from server.rules import server_today
from storage.models import Cohort, mask_nik


def pushed(live, count: int, seed: int, cohort: str = Cohort.PEKERJA_RENTAN.value):
    """An enumerator device and `count` registrations it pushed (all accepted)."""
    device = live.enrol("enumerator")
    regs = workers(count, seed=seed)
    for reg in regs:
        reg.cohort = cohort
        reg.occupation_code = "ojek_online" if cohort == Cohort.PEKERJA_RENTAN.value else "imam"
    answer = device.push([record(r, device.device_id) for r in regs])
    assert [r["outcome"] for r in answer.json()["results"]] == ["accepted"] * count
    return device, regs


OPERATOR = {"username": "rina", "display_name": "Rina"}


def decide(client, record_id: str, action: str, **body):
    body.setdefault("operator", OPERATOR)
    if "revision" not in body:
        body["revision"] = client.registration(record_id)["revision"]
    return client.post(f"/registrations/{record_id}/{action}", body)


def test_verify_fund_issues_member_number_and_valid_card(live):
    enumerator, (reg,) = pushed(live, 1, seed=20)
    verifier = live.enrol("verifier")
    answer = decide(verifier, reg.id, "verify", operator=OPERATOR)
    assert answer.status_code == 200, answer.text
    assert answer.json()["registration"]["status"] == "verified"
    funded = decide(verifier, reg.id, "fund", operator=OPERATOR)
    assert funded.status_code == 200, funded.text
    detail = funded.json()["registration"]
    year = server_today().year
    assert detail["status"] == "funded"
    assert detail["member_number"] == f"JMB-{year}-PR-000001"
    assert detail["programme_end"] == f"{year}-12-31"
    keys = requests.get(f"{live.api}/keys", timeout=5).json()["keys"]
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    trusted = {k["key_id"]: load_pem_public_key(k["public_key_pem"].encode()) for k in keys}
    verdict = verify_credential(detail["card"]["qr"], trusted, today=server_today())
    assert verdict.valid and verdict.card.member_number == detail["member_number"]
    assert reg.nik not in detail["card"]["qr"]
    events = [e["event"] for e in funded.json()["events"]]
    assert events == ["verified", "funded"]
    assert funded.json()["events"][0]["by"].startswith("Rina @ ")


def test_decisions_reach_another_device_through_pull(live):
    enumerator, (kept, refused) = pushed(live, 2, seed=21)
    verifier = live.enrol("verifier")
    decide(verifier, kept.id, "verify")
    decide(verifier, kept.id, "fund")
    answer = decide(verifier, refused.id, "reject", reason_code="not_resident",
                    reason_text="Domisili di luar kota")
    assert answer.status_code == 200
    changes, _ = enumerator.pull_all()
    state = {c["id"]: c for c in changes if c["kind"] == "registration"}
    assert state[kept.id]["status"] == "funded"
    assert state[kept.id]["member_number"].startswith("JMB-")
    assert state[refused.id]["status"] == "rejected"
    assert state[refused.id]["reason_code"] == "not_resident"
    # The enumerator reads the reason's label and the verifier's note.
    assert state[refused.id]["status_reason"] == (
        "Bukan penduduk / tidak berdomisili di kota ini: Domisili di luar kota")
    events = [(c["id"], c["event"]) for c in changes if c["kind"] == "event"]
    assert (refused.id, "rejected") in events and (kept.id, "funded") in events
    # Credentials (names) go to the card desk, not to an enumerator.
    assert not any(c["kind"] == "credential" for c in changes)
    desk_changes, _ = live.enrol("card_desk").pull_all()
    cards = [c for c in desk_changes if c["kind"] == "credential"]
    assert [c["id"] for c in cards] == [kept.id]
    # The card holder's details travel with the card, the NIK only masked.
    holder = {k: cards[0].get(k, "") for k in ("full_name", "nik_masked", "occupation_code",
                                               "kecamatan_code", "kelurahan_code", "event_id")}
    assert holder == {"full_name": kept.full_name, "nik_masked": mask_nik(kept.nik),
                      "occupation_code": kept.occupation_code,
                      "kecamatan_code": kept.kecamatan_code,
                      "kelurahan_code": kept.kelurahan_code, "event_id": kept.event_id or ""}
    assert kept.nik not in json.dumps(desk_changes)


def test_stale_decision_is_refused(live):
    enumerator, (reg,) = pushed(live, 1, seed=22)
    verifier = live.enrol("verifier")
    seen = verifier.registration(reg.id)["revision"]
    assert decide(verifier, reg.id, "verify", revision=seen).status_code == 200
    late = decide(verifier, reg.id, "reject", revision=seen, reason_code="wrong_data")
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "decision.stale_revision"
    assert verifier.registration(reg.id)["status"] == "verified"
    # A new version from the device also makes an opened registration stale.
    seen = verifier.registration(reg.id)["revision"]
    reg2 = copy.deepcopy(reg)
    reg2.version, reg2.phone = 2, "080055556666"
    enumerator.push([record(reg2, enumerator.device_id, base_version=1)])
    assert decide(verifier, reg.id, "fund", revision=seen).status_code == 409


def test_roles_and_revoked_verifier_are_refused(live):
    enumerator, (reg,) = pushed(live, 1, seed=23)
    as_enumerator = decide(enumerator, reg.id, "verify", revision=1)
    assert as_enumerator.status_code == 403
    assert enumerator.get("/registrations").status_code == 403
    verifier = live.enrol("verifier")
    revoke_device(live.store, verifier.device_id)
    refused = verifier.post(f"/registrations/{reg.id}/verify", {"revision": 1})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "auth.revoked"


def test_reject_correct_resend_verify(live):
    enumerator, (reg,) = pushed(live, 1, seed=24)
    verifier = live.enrol("verifier")
    assert decide(verifier, reg.id, "reject", reason_code="wrong_data").status_code == 200
    reg.version, reg.full_name = 2, reg.full_name + " Putra"
    answer = enumerator.push([record(reg, enumerator.device_id, base_version=1)])
    assert answer.json()["results"][0]["status"] == "received"
    assert decide(verifier, reg.id, "verify").json()["registration"]["status"] == "verified"


def test_quota_race_exactly_the_places_left(live):
    enumerator, regs = pushed(live, 50, seed=25)
    verifier = live.enrol("verifier")
    for reg in regs:
        assert decide(verifier, reg.id, "verify").status_code == 200
    year = server_today().year
    set_quota(live.store, year, Cohort.PEKERJA_RENTAN.value, 10)
    headers = verifier.session.headers
    revisions = {r.id: verifier.registration(r.id)["revision"] for r in regs}

    def fund(reg):
        return requests.post(f"{live.api}/registrations/{reg.id}/fund", headers=headers,
                             json={"revision": revisions[reg.id], "operator": OPERATOR},
                             timeout=60)

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(fund, regs))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] * 10 + [409] * 40
    refused = [a.json()["error"] for a in answers if a.status_code == 409]
    assert {e["code"] for e in refused} == {"quota.full"}
    assert "penuh" in refused[0]["message"]
    numbers = sorted(a.json()["registration"]["member_number"] for a in answers
                     if a.status_code == 200)
    assert numbers == [f"JMB-{year}-PR-{n:06d}" for n in range(1, 11)]
    quota = verifier.get("/quota").json()
    row = next(c for c in quota["cohorts"] if c["cohort"] == Cohort.PEKERJA_RENTAN.value)
    assert (row["places"], row["funded"], row["left"]) == (10, 10, 0)


def test_quota_comes_from_configuration_and_can_be_set_ahead(live):
    verifier = live.enrol("verifier")
    q2025 = verifier.get("/quota", params={"year": 2025}).json()
    places = {c["cohort"]: c["places"] for c in q2025["cohorts"]}
    assert places == {"pekerja_rentan": 3000, "petugas_keagamaan": 1316}
    set_quota(live.store, 2031, "petugas_keagamaan", 1500)
    q2031 = verifier.get("/quota", params={"year": 2031}).json()
    assert {c["cohort"]: c["left"] for c in q2031["cohorts"]}["petugas_keagamaan"] == 1500


def test_resolve_duplicate_keeps_one_rejects_the_other(live):
    a, b = live.enrol(), live.enrol()
    (first,) = workers(1, seed=26)
    second = copy.deepcopy(first)
    second.id = first.id[:-4] + "eeee"
    a.push([record(first, a.device_id)])
    b.push([record(second, b.device_id)])
    verifier = live.enrol("verifier")
    listed = verifier.get("/registrations", params={"possible_duplicate": "true"}).json()
    assert listed["total"] == 2 and all("******" in i["nik_masked"] for i in listed["items"])
    opened = verifier.get(f"/registrations/{second.id}").json()
    assert [d["id"] for d in opened["duplicates"]] == [first.id]
    assert decide(verifier, second.id, "verify").status_code == 409  # resolve first
    answer = decide(verifier, second.id, "resolve-duplicate", keep_id=first.id)
    assert answer.status_code == 200, answer.text
    assert answer.json()["registration"]["status"] == "rejected"
    assert answer.json()["registration"]["reason_code"] == "duplicate"
    kept = verifier.registration(first.id)
    assert kept["possible_duplicate"] is False and kept["status"] == "received"
    changes, _ = b.pull_all()
    state = {c["id"]: c for c in changes if c["kind"] == "registration"}
    assert state[second.id]["status"] == "rejected"


def test_resolve_conflict_takes_the_chosen_version(live):
    # Only the owner may send versions: a conflict is the owner's laptop, restored from an older
    # backup, editing version 1 again after its version 2 reached the server.
    a = live.enrol()
    (reg,) = workers(1, seed=27)
    a.push([record(reg, a.device_id)])
    edit_a, edit_b = copy.deepcopy(reg), copy.deepcopy(reg)
    edit_a.version, edit_b.version = 2, 3
    edit_a.notes, edit_b.notes = "versi A", "versi B"
    a.push([record(edit_a, a.device_id, base_version=1)])
    a.push([record(edit_b, a.device_id, base_version=1)])
    verifier = live.enrol("verifier")
    opened = verifier.get(f"/registrations/{reg.id}").json()
    assert opened["registration"]["conflict"] is True
    assert [c["data"]["notes"] for c in opened["conflicts"]] == ["versi B"]
    answer = decide(verifier, reg.id, "resolve-conflict", keep_version=3,
                    keep_device_id=a.device_id)
    assert answer.status_code == 200, answer.text
    assert answer.json()["registration"]["data"]["notes"] == "versi B"
    assert answer.json()["registration"]["conflict"] is False


def test_card_desk_prints_hands_over_and_reprints_with_revocation(live):
    enumerator, (reg,) = pushed(live, 1, seed=28)
    verifier, desk = live.enrol("verifier"), live.enrol("card_desk")
    decide(verifier, reg.id, "verify")
    decide(verifier, reg.id, "fund")
    printed = desk.post(f"/registrations/{reg.id}/card/printed",
                        {"card_version": 1, "operator": OPERATOR})
    assert printed.json()["registration"]["status"] == "card_printed"
    handed = desk.post(f"/registrations/{reg.id}/card/handed-over",
                       {"card_version": 1, "received_by": "Yang bersangkutan",
                        "operator": OPERATOR})
    assert handed.json()["registration"]["status"] == "card_handed_over"
    again = decide(desk, reg.id, "card/reprint", reason_code="lost")
    assert again.status_code == 200, again.text
    card = again.json()["registration"]["card"]
    assert card["card_version"] == 2 and again.json()["registration"]["status"] == "funded"
    old = desk.post(f"/registrations/{reg.id}/card/printed",
                        {"card_version": 1, "operator": OPERATOR})
    assert old.status_code == 409 and old.json()["error"]["code"] == "card.not_current"
    changes, _ = enumerator.pull_all()
    revoked = [(c["serial"], c["card_version"]) for c in changes if c["kind"] == "revocation"]
    assert revoked == [(card["serial"], 1)]
    assert date.fromisoformat(card["valid_until"]).month == 12


def test_verifier_reads_are_remembered_for_a_breach_notice(live):
    from server.holdings import device_records

    enumerator, regs = pushed(live, 3, seed=29)
    verifier = live.enrol("verifier")
    listed = verifier.get("/registrations", params={"limit": 2}).json()
    assert listed["total"] == 3 and len(listed["items"]) == 2
    verifier.get(f"/registrations/{regs[2].id}")
    held = {r["record_id"]: r["how"] for r in device_records(live.store, verifier.device_id)}
    assert held == {regs[0].id: "listed", regs[1].id: "listed", regs[2].id: "opened"}


def test_registration_list_filters_and_pages(live):
    enumerator, regs = pushed(live, 6, seed=30)
    verifier = live.enrol("verifier")
    kelurahan = regs[0].kelurahan_code
    want = sorted(r.id for r in regs if r.kelurahan_code == kelurahan)
    got = verifier.get("/registrations", params={"kelurahan": kelurahan}).json()
    assert sorted(i["id"] for i in got["items"]) == want and got["total"] == len(want)
    decide(verifier, regs[1].id, "verify")
    verified = verifier.get("/registrations", params={"status": "verified"}).json()
    assert [i["id"] for i in verified["items"]] == [regs[1].id]
    pages = [verifier.get("/registrations", params={"offset": o, "limit": 4}).json()
             for o in (0, 4)]
    ids = [i["id"] for p in pages for i in p["items"]]
    assert ids == [r.id for r in regs]  # in order of arrival, no gaps or repeats
    word = regs[3].full_name.split()[0]
    named = verifier.get("/registrations", params={"q": word}).json()
    assert regs[3].id in {i["id"] for i in named["items"]}


def test_admin_sets_next_years_quota_over_the_api(live):
    admin, verifier = live.enrol("admin"), live.enrol("verifier")
    body = {"programme_year": 2032, "cohort": "pekerja_rentan", "places": 4200}
    refused = verifier.session.put(f"{live.api}/quota", json=body, timeout=10)
    assert refused.status_code == 403
    answer = admin.session.put(f"{live.api}/quota", json=body, timeout=10)
    assert answer.status_code == 200
    rows = {c["cohort"]: c for c in answer.json()["cohorts"]}
    assert rows["pekerja_rentan"]["places"] == 4200 and rows["pekerja_rentan"]["left"] == 4200


def test_two_verifiers_at_once_one_decision_wins(live):
    enumerator, (reg,) = pushed(live, 1, seed=31)
    first, second = live.enrol("verifier"), live.enrol("verifier")
    seen = first.registration(reg.id)["revision"]

    def act(args):
        client, action, body = args
        return client.session.post(f"{live.api}/registrations/{reg.id}/{action}",
                                   json={"revision": seen, "operator": OPERATOR, **body},
                                   timeout=30)

    jobs = [(first, "verify", {}), (second, "reject", {"reason_code": "wrong_data"})] * 5
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(act, jobs))
    assert sorted(a.status_code for a in answers) == [200] + [409] * 9
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {
        "decision.stale_revision"}
    events = first.get(f"/registrations/{reg.id}").json()["events"]
    assert len(events) == 1
