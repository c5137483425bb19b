"""The JKM death claim through every step, reaching an enumerator's and a card desk's devices by
pull, with the refusals: a death recorded twice, funding, a card step and a reprint after death,
a claimant who is not a registered heir without a written reason, submission with documents
missing, steps out of order. Real server on loopback, real device databases."""

from __future__ import annotations

from datetime import date, timedelta

from sync_util import (
    VERIFIER,
    enrolled_device,
    expect_refused,
    record_ids,
    role_client,
    sync_once,
    verify_and_fund,
)

from cards import desk as desk_cards
from server.claims import claims_summary
from server.store import Store
from storage import programme
from storage.demo import fill_demo_data
from storage.models import Heir, Status
from sync import claims as c
from sync import verifier as v

TODAY = date.today()


def test_the_death_claim_through_every_step_reaches_the_devices(tmp_path, server):
    url, server_dir = server
    field = enrolled_device(tmp_path / "field.sqlite3", url, server_dir)
    fill_demo_data(field, 2, seed=61)
    sync_once(field)
    member, other = record_ids(field)
    verifier = role_client(*server, "verifier")
    verify_and_fund(verifier, member)
    desk = enrolled_device(tmp_path / "desk.sqlite3", url, server_dir, role="card_desk")
    sync_once(desk)
    card = v.registration_detail(verifier, member)["registration"]["card"]
    assert card["card_version"] == 1

    # A claim step before the death is recorded is refused.
    expect_refused("claim.not_found", c.choose_claimant, verifier, member, heir_position=0,
                   operator=VERIFIER)
    revision = v.registration_detail(verifier, member)["registration"]["revision"]
    died_on = TODAY - timedelta(days=3)
    opened = c.record_death(verifier, member, revision, died_on=died_on, place="RSUD Raden Mattaher",
                            certificate_no="AKT-1571-0099", reported_by="Siti (istri)",
                            operator=VERIFIER)
    assert opened["stage"] == "death_recorded" and opened["died_on"] == died_on.isoformat()
    assert [d["checked"] for d in opened["checklist"]] == [False] * len(opened["checklist"])
    detail = v.registration_detail(verifier, member)["registration"]
    assert detail["status"] == Status.DIED.value and detail["card"] is None

    # Refusals after death: recorded twice, funded, card steps, reprint.
    expect_refused("death.already_recorded", c.record_death, verifier, member,
                   detail["revision"], died_on=died_on, place="x", certificate_no="y",
                   reported_by="z", operator=VERIFIER)
    expect_refused("member.died", v.fund, verifier, member, detail["revision"], operator=VERIFIER)
    admin = role_client(*server, "admin")  # the card steps are the card desk's and the admin's
    expect_refused("member.died", v.card_reprint, admin, member, "lost", card_version=1,
                   operator=VERIFIER)
    expect_refused("member.died", v.card_printed, admin, member, 1, operator=VERIFIER)

    # The claimant: a registered heir, or another person only with a written reason.
    expect_refused("claim.reason_required", c.choose_claimant, verifier, member, name="Tetangga",
                   relationship="lainnya", reason="", operator=VERIFIER)
    expect_refused("claim.bad_heir", c.choose_claimant, verifier, member, heir_position=9,
                   operator=VERIFIER)
    chosen = c.choose_claimant(verifier, member, name="Rahmat Hidayat", relationship="saudara_kandung",
                               reason="Ahli waris terdaftar juga sudah meninggal (akta terlampir).",
                               operator=VERIFIER)
    assert chosen["claimant_heir"] is None and chosen["claimant_reason"]
    chosen = c.choose_claimant(verifier, member, heir_position=0, operator=VERIFIER)
    heir = v.registration_detail(verifier, member)["registration"]["data"]["heirs"][0]
    assert (chosen["claimant_name"], chosen["claimant_heir"]) == (heir["name"], 0)

    # Submission waits for every document; payment and hand-over follow in order.
    expect_refused("claim.not_allowed", c.claim_paid, verifier, member, paid_on=TODAY,
                   operator=VERIFIER)
    codes = [d["code"] for d in chosen["checklist"]]
    c.check_documents(verifier, member, {code: True for code in codes[:-1]}, operator=VERIFIER)
    missing = expect_refused("claim.incomplete", c.submit_claim, verifier, member,
                             submitted_on=TODAY, reference="JKM/2026/001", operator=VERIFIER)
    assert chosen["checklist"][-1]["label"] in missing.message
    c.check_documents(verifier, member, {codes[-1]: True}, operator=VERIFIER)
    expect_refused("claim.bad_date", c.submit_claim, verifier, member,
                   submitted_on=died_on - timedelta(days=1), reference="JKM/1", operator=VERIFIER)
    assert c.submit_claim(verifier, member, submitted_on=TODAY, reference="JKM/2026/001",
                          operator=VERIFIER)["stage"] == "submitted"
    expect_refused("claim.not_allowed", c.check_documents, verifier, member, {codes[0]: False},
                   operator=VERIFIER)
    paid = c.claim_paid(verifier, member, paid_on=TODAY, operator=VERIFIER)
    assert (paid["stage"], paid["amount"]) == ("paid", 42_000_000)
    done = c.claim_handed_over(verifier, member, handed_over_on=TODAY, operator=VERIFIER)
    assert (done["stage"], done["handed_to"]) == ("handed_over", heir["name"])
    expect_refused("claim.not_allowed", c.claim_handed_over, verifier, member, handed_over_on=TODAY,
                   operator=VERIFIER)

    # The dashboard's query counts it.
    store = Store(server_dir)
    try:
        assert claims_summary(store.reader(), died_on.year) == {
            "deaths": 1, "submitted": 1, "paid": 1, "handed_over": 1, "paid_rupiah": 42_000_000}
    finally:
        store.close()
    assert c.claims(verifier)["claims"][0]["record_id"] == member
    # The list filters by stage: the claim is handed over, so no open claim is listed.
    assert [x["record_id"] for x in c.claims(verifier, "handed_over")["claims"]] == [member]
    assert c.claims(verifier, "death_recorded")["claims"] == []

    # The enumerator's device shows *meninggal* and every step; the card desk's card is revoked.
    sync_once(field)
    assert field.get(member).status == Status.DIED.value
    assert field.get(other).status == Status.RECEIVED.value
    steps = [s["event"] for s in programme.office_steps(field.db_for_tests, member)]
    assert steps == ["death_recorded", "claim_claimant", "claim_claimant", "claim_documents",
                     "claim_documents", "claim_submitted", "claim_paid", "claim_handed_over"]
    assert all("Raden Mattaher" not in s["reason"] and "AKT-1571" not in s["reason"]
               for s in programme.office_steps(field.db_for_tests, member))
    stranger = enrolled_device(tmp_path / "lain.sqlite3", url, server_dir)
    sync_once(stranger)  # another enumerator's laptop does not collect the city's deaths
    assert stranger.db_for_tests.execute("SELECT count(*) FROM office_steps").fetchone()[0] == 0
    assert desk_cards.count_ready_to_print(desk) == 1  # before it pulls the death
    sync_once(desk)
    revoked = desk.db_for_tests.execute(
        "SELECT serial, version, reason FROM card_revocations").fetchall()
    assert revoked == [(card["serial"], 1, "meninggal")]
    assert desk_cards.count_ready_to_print(desk) == 0  # the desk no longer offers the card
    assert desk_cards.count_current_cards(desk) == 0


def test_a_verified_registration_recorded_dead_is_never_funded(tmp_path, server):
    url, server_dir = server
    field = enrolled_device(tmp_path / "field.sqlite3", url, server_dir)
    fill_demo_data(field, 3, seed=62)
    sync_once(field)
    waiting, rejected, received = record_ids(field)
    verifier = role_client(*server, "verifier")
    row = v.registration_detail(verifier, waiting)["registration"]
    row = v.verify(verifier, waiting, row["revision"], operator=VERIFIER)["registration"]
    yesterday = TODAY - timedelta(days=1)
    c.record_death(verifier, waiting, row["revision"], died_on=yesterday, place="Rumah",
                   certificate_no="AKT-2", reported_by="Anak", operator=VERIFIER)
    row = v.registration_detail(verifier, waiting)["registration"]
    refusal = expect_refused("member.died", v.fund, verifier, waiting, row["revision"],
                             operator=VERIFIER)
    assert "meninggal" in refusal.message
    assert row["member_number"] == ""
    # Never funded: there is no JKM claim to follow.
    expect_refused("claim.not_member", c.choose_claimant, verifier, waiting, heir_position=0,
                   operator=VERIFIER)

    # A refused registration is not a member whose death is recorded here; a death in the
    # future, or a stale revision, is refused before anything changes.
    row = v.registration_detail(verifier, rejected)["registration"]
    v.reject(verifier, rejected, row["revision"], "not_resident", operator=VERIFIER)
    row = v.registration_detail(verifier, rejected)["registration"]
    expect_refused("decision.not_allowed", c.record_death, verifier, rejected, row["revision"],
                   died_on=yesterday, place="x", certificate_no="y", reported_by="z",
                   operator=VERIFIER)
    row = v.registration_detail(verifier, received)["registration"]
    expect_refused("claim.bad_date", c.record_death, verifier, received, row["revision"],
                   died_on=TODAY + timedelta(days=1), place="x", certificate_no="y",
                   reported_by="z", operator=VERIFIER)
    expect_refused("decision.stale_revision", c.record_death, verifier, received,
                   row["revision"] - 1, died_on=yesterday, place="x", certificate_no="y",
                   reported_by="z", operator=VERIFIER)
    assert v.registration_detail(verifier, received)["registration"]["status"] == "received"


def test_a_change_of_heirs_after_death_waits_for_a_verifier(tmp_path, server):
    url, server_dir = server
    field = enrolled_device(tmp_path / "field.sqlite3", url, server_dir)
    fill_demo_data(field, 1, seed=63)
    sync_once(field)
    (member,) = record_ids(field)
    verifier = role_client(*server, "verifier")
    verify_and_fund(verifier, member)
    row = v.registration_detail(verifier, member)["registration"]
    c.record_death(verifier, member, row["revision"], died_on=TODAY, place="Rumah",
                   certificate_no="AKT-3", reported_by="Anak", operator=VERIFIER)
    sync_once(field)
    heirs = v.registration_detail(verifier, member)["registration"]["data"]["heirs"]
    reg = field.get(member)
    reg.heirs = [Heir("Orang Lain", "lainnya", "081200000001")]
    result = field.save(reg, operator="Petugas")
    if not result.saved:
        result = field.save(reg, operator="Petugas",
                            confirmed_warnings=[w.code for w in result.validation.warnings])
    assert result.saved
    assert sync_once(field).corrections == 1
    detail = v.registration_detail(verifier, member)
    assert detail["registration"]["data"]["heirs"] == heirs  # unchanged until decided
    assert detail["correction"]["changed"] == ["heirs"]
    assert detail["registration"]["status"] == Status.DIED.value
    claim = c.choose_claimant(verifier, member, heir_position=0, operator=VERIFIER)
    assert claim["claimant_name"] == heirs[0]["name"]
