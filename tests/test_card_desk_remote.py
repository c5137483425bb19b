"""The card desk at city hall prints cards of workers it never registered: the holder's details
travel with the credential in pull and are kept on the card side (docs/SYNC_API.md §5,
storage/migrations.py 0007_card_holders)."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date

import pytest
import zxingcpp
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from PIL import Image
from sync_util import (
    enrolled_device,
    server_in_thread,
    sync_once,
    verifier_client,
    verify_and_fund,
)
from unlock_util import cli_args

import main
from cards import desk
from cards.credential import CardData, issue_credential, verify_credential
from cards.keys import generate_private_key, key_id
from cards.raster import rasterise_page
from server.rules import server_today
from storage.db import open_database
from storage.demo import fill_demo_data
from storage.models import Registration, mask_nik
from storage.paths import database_path
from storage.registry import KnownRegistration, RegistrationFilter, Registry
from sync import state
from sync import verifier as v
from sync.enrol import client_for

LONG_NAME = "Muhammad Ridwan Syahputra bin Abdul Rahman Al-Ma'ruf Hasibuan Nasution"
NIK = "1571010101900001"


def _save(registry, reg: Registration) -> Registration:
    result = registry.save(reg, operator="Petugas")
    if not result.saved:
        codes = [w.code for w in result.validation.warnings]
        result = registry.save(reg, operator="Petugas", confirmed_warnings=codes)
    assert result.saved, result.validation
    return result.registration


def _qr_texts(pdf) -> list[str]:
    image = Image.open(io.BytesIO(rasterise_page(pdf, 1, dpi=300)))
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return [b.text for b in found if b.valid]


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils")
def test_a_card_desk_that_never_held_the_records_lists_prints_and_reports_them(tmp_path,
                                                                              monkeypatch):
    server_dir = tmp_path / "server"
    with server_in_thread(server_dir) as url:
        field = enrolled_device(tmp_path / "field.sqlite3", url, server_dir, "enumerator")
        fill_demo_data(field, 6, seed=41)
        ids = [r[0] for r in field.db_for_tests.execute("SELECT id FROM workers ORDER BY seq")]
        long_one = field.get(ids[0])
        long_one.full_name = LONG_NAME
        _save(field, long_one)
        sync_once(field)

        verifier = verifier_client(url, server_dir)
        funded = ids[:4]
        for reg_id in funded:
            verify_and_fund(verifier, reg_id)
        sync_once(field)  # the member numbers, to compare with
        trusted = {k["key_id"]: load_pem_public_key(k["public_key_pem"].encode())
                   for k in verifier.public_keys()}

        desk_dir = tmp_path / "desk"
        desk_dir.mkdir()
        card_desk = enrolled_device(database_path(desk_dir), url, server_dir, "card_desk",
                                    encrypted=True)
        assert card_desk.count(RegistrationFilter()) == 0  # it never had the records
        sync_once(card_desk)
        assert card_desk.count(RegistrationFilter()) == 0

        # Every funded member is ready, with the whole name and the masked NIK.
        rows = {r.registration_id: r for r in desk.members_ready_to_print(card_desk)}
        assert set(rows) == set(funded) and desk.count_ready_to_print(card_desk) == 4
        for reg_id, row in rows.items():
            reg = field.get(reg_id)
            assert (row.full_name, row.nik_masked, row.cohort, row.kecamatan_code,
                    row.kelurahan_code, row.event_id, row.member_number) == (
                reg.full_name, mask_nik(reg.nik), reg.cohort, reg.kecamatan_code,
                reg.kelurahan_code, reg.event_id or "", reg.member_number)
            assert reg.nik not in repr(row)
        assert rows[ids[0]].full_name == LONG_NAME
        qr = state.credential_payloads(card_desk)
        shortened = verify_credential(next(c["qr"] for c in qr if c["id"] == ids[0]), trusted,
                                      today=server_today())
        assert shortened.valid and shortened.card.name_shortened  # the QR holds less
        assert [c.name for c in desk.load_print_cards(card_desk, [ids[0]])] == [LONG_NAME]
        raw = card_desk.db_for_tests.execute("SELECT * FROM card_holders").fetchall()
        assert not any(field.get(i).nik in repr(raw) for i in funded)

        # The desk's filters work on the holder's details.
        regs = {i: field.get(i) for i in funded}
        for name, attr in (("kecamatan_code", "kecamatan_code"),
                           ("kelurahan_code", "kelurahan_code"), ("cohort", "cohort"),
                           ("event_id", "event_id")):
            value = getattr(regs[ids[1]], attr)
            flt = desk.CardFilter(**{name: value})
            expected = {i for i, r in regs.items() if getattr(r, attr) == value}
            assert {r.registration_id for r in desk.members_ready_to_print(card_desk, flt)} == \
                expected
            assert desk.count_ready_to_print(card_desk, flt) == len(expected)
        assert desk.count_ready_to_print(card_desk, desk.CardFilter(kecamatan_code="15.71.99")) == 0
        events = desk.card_events(card_desk)
        assert {e for e, _ in events} == {r.event_id for r in regs.values() if r.event_id}
        # Kegiatan made on another device: their names came with the push and the pull.
        field_names = {e.id: e.name for e in field.events()}
        assert events and all(name == field_names[e] for e, name in events)
        assert all(r.event_name == field_names.get(r.event_id, "") for r in rows.values())

        # `main.py cards print` on the desk's data directory: every QR decodes and verifies.
        pdf = tmp_path / "kartu.pdf"
        assert main.main(["--data-dir", str(desk_dir), "cards", "print", "--out", str(pdf),
                          *cli_args(monkeypatch, desk_dir, "loket_kartu")]) == 0
        texts = _qr_texts(pdf)
        verdicts = [verify_credential(t, trusted, today=server_today()) for t in texts]
        assert all(verdict.valid for verdict in verdicts)
        assert sorted(verdict.card.member_number for verdict in verdicts) == sorted(
            r.member_number for r in regs.values())
        words = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                               check=True).stdout
        assert all(regs[i].full_name in " ".join(words.split()) for i in funded[1:])
        assert desk.count_ready_to_print(card_desk) == 0
        assert desk.count_to_hand_over(card_desk) == 4

        # Printed and handed-over steps go back to the server and to the registering device.
        desk.mark_handed_over(card_desk, ids[1], received_by="Siti", operator="Petugas cetak")
        assert sync_once(card_desk).card_steps == 5
        statuses = {i: v.registration_detail(verifier, i)["registration"]["status"]
                    for i in funded}
        assert statuses == {ids[0]: "card_printed", ids[1]: "card_handed_over",
                            ids[2]: "card_printed", ids[3]: "card_printed"}
        assert desk.count_ready_to_print(card_desk) == 0  # the server's status keeps them out
        assert {r.registration_id for r in desk.cards_to_hand_over(card_desk)} == \
            {ids[0], ids[2], ids[3]}
        sync_once(field)
        assert field.get(ids[1]).status == "card_handed_over"

        # A reprint asked at the desk brings the new version, with its holder, back to print.
        revision = v.registration_detail(verifier, ids[2])["registration"]["revision"]
        desk_client = client_for(card_desk)
        desk_client.call("POST", f"/registrations/{ids[2]}/card/reprint",
                         {"revision": revision, "reason_code": "damaged",
                          "operator": {"username": "loket.uji", "display_name": "Petugas cetak"}})
        desk_client.close()
        sync_once(card_desk)
        ready = desk.members_ready_to_print(card_desk)
        assert [(r.registration_id, r.version, r.full_name) for r in ready] == [
            (ids[2], 2, regs[ids[2]].full_name)]
        field.close()
        card_desk.close()


# --- the card side on its own -------------------------------------------------------------


@pytest.fixture
def signer():
    key = generate_private_key()
    return key, key_id(key.public_key())


def _credential(signer, serial: int = 7, name: str = "SITI AMINAH") -> str:
    card = CardData("JMB-2026-PR-000007", name, "pekerja_rentan", date(2026, 6, 1),
                    date(2026, 12, 31), serial, 1)
    return issue_credential(*signer, card)


HOLDER = {"full_name": "Siti Aminah binti Abdullah", "nik_masked": "157101******0001",
          "cohort": "pekerja_rentan", "occupation_code": "ojek_online",
          "kecamatan_code": "15.71.01", "kelurahan_code": "15.71.01.1001", "event_id": "ev-1"}


def test_a_card_known_only_from_the_server_is_ready_until_the_server_says_otherwise(
        tmp_path, signer):
    registry = Registry.open(tmp_path / "desk.sqlite3")
    desk.store_credential(registry, "reg-1", _credential(signer), holder=HOLDER)
    [row] = desk.members_ready_to_print(registry)
    assert (row.full_name, row.nik_masked, row.kecamatan_code, row.occupation_code) == (
        HOLDER["full_name"], HOLDER["nik_masked"], "15.71.01", "ojek_online")
    [card] = desk.load_print_cards(registry, ["reg-1"])
    assert card.name == HOLDER["full_name"] and "Ojek online" in card.cohort_text
    registry.remember_known([KnownRegistration("reg-1", "ab" * 16, "inactive")])
    assert desk.count_ready_to_print(registry) == 0
    assert desk.count_current_cards(registry) == 1
    registry.remember_known([KnownRegistration("reg-1", "ab" * 16, "funded")])
    assert desk.count_ready_to_print(registry) == 1
    desk.apply_revocations(registry, [{"serial": 7, "card_version": 1}])
    assert desk.count_ready_to_print(registry) == 0
    registry.close()


def test_a_raw_nik_from_a_server_is_masked_and_an_older_server_falls_back_to_the_qr(
        tmp_path, signer):
    registry = Registry.open(tmp_path / "desk.sqlite3")
    desk.store_credential(registry, "reg-1", _credential(signer, 1),
                          holder={**HOLDER, "nik_masked": NIK})
    desk.store_credential(registry, "reg-2", _credential(signer, 2, "BUDI"), holder={})
    rows = {r.registration_id: r for r in desk.current_cards(registry)}
    assert rows["reg-1"].nik_masked == mask_nik(NIK) != NIK
    assert NIK not in repr(registry.db_for_tests.execute("SELECT * FROM card_holders").fetchall())
    assert (rows["reg-2"].full_name, rows["reg-2"].cohort) == ("BUDI", "pekerja_rentan")
    registry.close()


def test_a_local_record_fills_the_holder_and_its_corrections_follow(tmp_path, signer):
    registry = Registry.open(tmp_path / "field.sqlite3")
    fill_demo_data(registry, 1, seed=43)
    reg = registry.get(registry.db_for_tests.execute("SELECT id FROM workers").fetchone()[0])
    desk.store_credential(registry, reg.id, _credential(signer), holder=HOLDER)
    assert desk.count_ready_to_print(registry) == 0  # the local record is not funded
    registry.update_status(reg.id, "funded", member_number="JMB-2026-PR-000007")
    [row] = desk.members_ready_to_print(registry)
    assert (row.full_name, row.nik_masked, row.kelurahan_code) == (
        reg.full_name, mask_nik(reg.nik), reg.kelurahan_code)
    assert row.event_name == next(e.name for e in registry.events() if e.id == reg.event_id)
    reg = registry.get(reg.id)
    reg.full_name = "Nur'aini Désirée"
    _save(registry, reg)
    assert [r.full_name for r in desk.current_cards(registry)] == ["Nur'aini Désirée"]
    registry.close()


def test_migration_fills_holders_of_local_cards_and_pulls_again_for_the_rest(tmp_path, signer):
    path = tmp_path / "r.sqlite3"
    db = open_database(path, stop_before="0007_card_holders")
    worker = Registration(nik=NIK, full_name="Siti Aminah", kecamatan_code="15.71.01",
                          kelurahan_code="15.71.01.1001", id="reg-local", version=1)
    db.execute(
        "INSERT INTO workers (id, seq, version, nik, full_name, kecamatan_code, kelurahan_code,"
        " cohort, status, data) VALUES (?, 1, 1, ?, ?, ?, ?, 'pekerja_rentan', 'funded', '{}')",
        [worker.id, NIK, worker.full_name, worker.kecamatan_code, worker.kelurahan_code],
    )
    for serial, reg_id in ((1, "reg-local"), (2, "reg-remote")):
        db.execute(
            "INSERT INTO cards (serial, version, registration_id, member_number, key_id, "
            "valid_from, valid_until, credential) VALUES (?, 1, ?, 'JMB', 'k', '2026-06-01', "
            "'2026-12-31', ?)", [serial, reg_id, _credential(signer, serial)],
        )
    db.execute("INSERT INTO sync_meta VALUES ('pull_cursor', '120')")
    db.conn.commit()
    db.close()

    registry = Registry.open(path)
    assert registry.db_for_tests.execute(
        "SELECT registration_id, full_name, nik_masked, kelurahan_code FROM card_holders"
    ).fetchall() == [("reg-local", "Siti Aminah", mask_nik(NIK), "15.71.01.1001")]
    assert state.cursor(registry) == 0  # the server sends the other holder again
    assert [r.registration_id for r in desk.members_ready_to_print(registry)] == ["reg-local"]
    registry.close()
