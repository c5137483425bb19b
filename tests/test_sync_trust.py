"""Trust boundaries as the devices live them (issue 9): a record another device owns is refused
and listed on the Sinkronisasi tab without blocking the rest of the batch; a transfer lets the
new laptop correct what the old one made; a heir change on a funded member waits for a verifier
and both the approval and the rejection reach the owner's device; a duplicate rejected by
resolution shows *ditolak* (issue 12, item 22). Real server on loopback, real device databases."""

from __future__ import annotations

import pytest
from sync_util import (
    edit_record,
    enrolled_device,
    record_ids,
    role_client,
    sync_once,
    verify_and_fund,
)

from storage import trust
from storage.demo import fill_demo_data
from storage.models import Heir
from sync import state
from sync import verifier as v

OP = v.OperatorRef("verifikator.satu", "Verifikator Satu")
ADMIN = v.OperatorRef("admin.kota", "Admin Kota")


def _attention(registry) -> dict[str, state.AttentionRow]:
    return {row.record_id: row for row in state.attention_rows(registry)}


def test_transfer_then_the_new_laptop_corrects_and_the_old_one_is_refused(tmp_path, server):
    url, server_dir = server
    old = enrolled_device(tmp_path / "lama.sqlite3", url, server_dir)
    fill_demo_data(old, 2, seed=41)
    assert sync_once(old).accepted == 2
    first, second = record_ids(old)
    new = enrolled_device(tmp_path / "baru.sqlite3", url, server_dir)
    admin = role_client(*server, "admin")
    moved = v.transfer_records(admin, state.device_id(old), state.device_id(new),
                               operator=ADMIN)
    assert moved["records"] == 2

    sync_once(new)  # the new laptop holds both as its own, without sending them back
    assert record_ids(new) == [first, second]
    assert new.get(first).full_name == old.get(first).full_name
    assert new.get(first).nik == old.get(first).nik
    assert new.outbox_count() == 0 and trust.is_own(new, first)
    kegiatan = old.get(first).event_id  # the demo's records belong to a kegiatan
    assert kegiatan and kegiatan in {e.id: e.name for e in new.events()}
    sync_once(old)
    assert trust.transferred_away(old) == {first: state.device_id(new),
                                              second: state.device_id(new)}
    assert not trust.is_own(old, first)

    # The old laptop's late correction is refused alone: its new registration goes through.
    edit_record(old, first, operator="Petugas Pendata", phone="081211112222")
    fill_demo_data(old, 1, seed=42)
    report = sync_once(old)
    assert (report.refused, report.accepted) == (1, 1)
    row = _attention(old)[first]
    assert (row.outcome, row.label) == (state.REFUSED, "Ditolak server: milik perangkat lain")
    assert "milik perangkat lain" in row.reason and "admin" in row.reason
    assert "1 data ditolak karena milik perangkat lain" in report.summary()

    # The new laptop corrects what the old one made.
    edit_record(new, second, operator="Petugas Pendata", phone="081233334444")
    report = sync_once(new)
    assert (report.accepted, report.refused) == (1, 0)
    verifier = role_client(*server, "verifier")
    detail = v.registration_detail(verifier, second)["registration"]
    assert (detail["data"]["phone"], detail["version"]) == ("081233334444", 2)
    assert detail["device_id"] == state.device_id(new)
    assert v.registration_detail(verifier, first)["registration"]["data"]["phone"] != (
        "081211112222")
    # The new owner's later version of the refused record does not hide the refusal on the old
    # laptop: it stays listed there until someone looks at it.
    edit_record(new, first, operator="Petugas Pendata", phone="081255556666")
    assert sync_once(new).accepted == 1
    sync_once(old)
    assert _attention(old)[first].outcome == state.REFUSED


def test_a_heir_change_on_a_funded_member_waits_and_both_answers_reach_the_device(
        tmp_path, server):
    url, server_dir = server
    field = enrolled_device(tmp_path / "field.sqlite3", url, server_dir)
    fill_demo_data(field, 1, seed=43)
    sync_once(field)
    (reg_id,) = record_ids(field)
    verifier = role_client(*server, "verifier")
    member = verify_and_fund(verifier, reg_id)["member_number"]
    sync_once(field)
    old_heirs = field.get(reg_id).heirs

    edit_record(field, reg_id, operator="Petugas Pendata",
                heirs=[Heir("Orang Lain", "lainnya", "081200000009")])
    report = sync_once(field)
    assert report.corrections == 1
    assert "1 koreksi menunggu verifikasi" in report.summary()
    row = _attention(field)[reg_id]
    assert (row.outcome, row.label) == (state.CORRECTION_PENDING, "Koreksi menunggu verifikasi")
    assert (field.get(reg_id).status, field.get(reg_id).member_number) == ("funded", member)
    pending = v.list_corrections(verifier)
    assert [i["id"] for i in pending["items"]] == [reg_id]
    seen = v.correction_detail(verifier, reg_id)
    assert seen["changed"] == ["heirs"]
    assert [h["name"] for h in seen["current"]["heirs"]] == [h.name for h in old_heirs]
    assert [h["name"] for h in seen["pending"]["heirs"]] == ["Orang Lain"]
    assert seen["registration"]["card"]["qr"]  # the card stays what it was

    v.approve_correction(verifier, reg_id, seen["revision"], seen["version"], operator=OP)
    sync_once(field)
    assert reg_id not in _attention(field)
    assert state.answer_for(field, reg_id).outcome == state.ACCEPTED
    assert (field.get(reg_id).status, field.get(reg_id).member_number) == ("funded", member)
    assert v.list_corrections(verifier)["total"] == 0

    # A second correction, replaced by a third before the verifier decides: the decision on the
    # one that moved on is refused as stale; the rejection of the latest reaches the device.
    edit_record(field, reg_id, operator="Petugas Pendata",
                heirs=[Heir("Orang Ketiga", "lainnya")])
    sync_once(field)
    moved_on = v.correction_detail(verifier, reg_id)
    edit_record(field, reg_id, operator="Petugas Pendata",
                heirs=[Heir("Orang Keempat", "lainnya")])
    sync_once(field)
    with pytest.raises(v.DecisionRefused) as stale:
        v.approve_correction(verifier, reg_id, moved_on["revision"], moved_on["version"],
                             operator=OP)
    assert stale.value.stale
    latest = v.correction_detail(verifier, reg_id)
    v.reject_correction(verifier, reg_id, latest["revision"], latest["version"], "wrong_data",
                        reason_text="Ahli waris tidak sesuai KK", operator=OP)
    sync_once(field)
    row = _attention(field)[reg_id]
    assert (row.outcome, row.label) == (state.CORRECTION_REJECTED, "Koreksi ditolak verifikator")
    # The enumerator reads the reason's label and the verifier's note together.
    assert row.reason == "Data tidak sesuai dokumen (KTP/KK): Ahli waris tidak sesuai KK"
    assert (field.get(reg_id).status, field.get(reg_id).member_number) == ("funded", member)
    current = v.registration_detail(verifier, reg_id)["registration"]["data"]["heirs"]
    assert [h["name"] for h in current] == ["Orang Lain"]


def test_an_approved_name_change_lists_the_card_for_reprint_at_the_desk(tmp_path, server):
    url, server_dir = server
    field = enrolled_device(tmp_path / "field.sqlite3", url, server_dir)
    desk = enrolled_device(tmp_path / "desk.sqlite3", url, server_dir, "card_desk")
    fill_demo_data(field, 1, seed=44)
    sync_once(field)
    (reg_id,) = record_ids(field)
    verifier = role_client(*server, "admin")  # decides, and may ask for the reprint
    verify_and_fund(verifier, reg_id)
    sync_once(field)
    edit_record(field, reg_id, operator="Petugas Pendata", full_name="Nama Sesuai KTP Baru")
    sync_once(field)
    sync_once(desk)
    assert trust.card_reprints_due(desk) == []  # nothing changes before approval
    seen = v.correction_detail(verifier, reg_id)
    assert seen["changed"] == ["full_name"]
    v.approve_correction(verifier, reg_id, seen["revision"], seen["version"], operator=OP)
    sync_once(desk)
    assert trust.card_reprints_due(desk) == [reg_id]
    v.card_reprint(verifier, reg_id, "data_corrected", operator=OP,
                   revision=v.registration_detail(verifier, reg_id)["registration"]["revision"])
    sync_once(desk)
    assert trust.card_reprints_due(desk) == []


def test_a_duplicate_rejected_by_resolution_shows_ditolak_on_its_device(tmp_path, server):
    url, server_dir = server
    a = enrolled_device(tmp_path / "a.sqlite3", url, server_dir)
    b = enrolled_device(tmp_path / "b.sqlite3", url, server_dir)
    fill_demo_data(a, 1, seed=45)
    fill_demo_data(b, 1, seed=45)  # the same person registered again on another laptop
    sync_once(a)
    assert sync_once(b).duplicates == 1
    (twin,) = record_ids(b)
    assert _attention(b)[twin].outcome == state.DUPLICATE
    admin = role_client(*server, "admin")
    detail = v.registration_detail(admin, twin)
    v.resolve_duplicate(admin, twin, detail["registration"]["revision"], record_ids(a)[0],
                        operator=OP)
    sync_once(b)
    row = _attention(b)[twin]
    assert row.outcome == state.REJECTED and row.label.startswith("Ditolak")
    assert b.get(twin).status == "rejected"
