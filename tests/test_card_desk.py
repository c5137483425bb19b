"""Card records: ready to print, printing only after the PDF exists, hand-over, reprint and the
revocation list travelling to another device."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from cards import desk
from cards.credential import Status, verify_credential
from cards.demo import fund_demo_members
from cards.keys import ensure_demo_key, trusted_keys
from cards.pdf import BatchCancelled
from storage.demo import fill_demo_data
from storage.registry import Registry

TODAY = date(2026, 6, 1)


@pytest.fixture
def desk_registry(tmp_path):
    registry = Registry.open(tmp_path / "registry.sqlite3")
    fill_demo_data(registry, 30, seed=3, as_of=TODAY)
    funded = fund_demo_members(registry, tmp_path, share=0.5, seed=1, today=TODAY)
    assert funded == 15
    yield registry
    registry.close()


def _state(registry):
    return registry.db_for_tests.execute(
        "SELECT serial, version, printed_at, handed_over_at FROM cards ORDER BY serial, version"
    ).fetchall()


def test_ready_list_and_filters(desk_registry):
    rows = desk.members_ready_to_print(desk_registry)
    assert len(rows) == desk.count_ready_to_print(desk_registry) == 15
    assert all("******" in r.nik_masked for r in rows)
    assert all(r.member_number.startswith("JMB-2026-P") for r in rows)
    kel = rows[0].kelurahan_code
    by_kel = desk.members_ready_to_print(desk_registry, desk.CardFilter(kelurahan_code=kel))
    assert by_kel and all(r.kelurahan_code == kel for r in by_kel)
    for cohort in ("pekerja_rentan", "petugas_keagamaan"):
        subset = desk.members_ready_to_print(desk_registry, desk.CardFilter(cohort=cohort))
        assert all(r.cohort == cohort for r in subset)
    assert desk.count_ready_to_print(desk_registry, desk.CardFilter(event_id="none")) == 0


def test_print_records_only_after_the_pdf_exists(desk_registry, tmp_path):
    ids = [r.registration_id for r in desk.members_ready_to_print(desk_registry)][:12]
    before = _state(desk_registry)
    cancel = threading.Event()
    out = tmp_path / "batch.pdf"
    with pytest.raises(BatchCancelled):
        desk.print_to_pdf(desk_registry, ids, out, operator="cetak1",
                          progress=lambda done, total: cancel.set(), cancel=cancel)
    assert not out.exists() and _state(desk_registry) == before
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(OSError):  # the "printer" (here: the output folder) fails
        desk.print_to_pdf(desk_registry, ids, blocker / "x.pdf", operator="cetak1")
    assert _state(desk_registry) == before
    pages = desk.print_to_pdf(desk_registry, ids, out, operator="cetak1")
    assert pages == 4 and out.exists()
    assert desk.count_ready_to_print(desk_registry) == 3
    assert desk.count_to_hand_over(desk_registry) == 12
    assert len([e for e in desk.card_events_pending(desk_registry) if e["kind"] == "printed"]) == 12
    assert desk_registry.audit_chain_ok()


def test_hand_over_needs_a_printed_card(desk_registry, tmp_path):
    first, second = [r.registration_id for r in desk.members_ready_to_print(desk_registry)][:2]
    with pytest.raises(desk.CardDeskError):
        desk.mark_handed_over(desk_registry, first, received_by="Ani", operator="cetak1")
    desk.print_to_pdf(desk_registry, [first], tmp_path / "one.pdf", layout="cr80",
                      operator="cetak1")
    with pytest.raises(desk.CardDeskError):
        desk.mark_handed_over(desk_registry, first, received_by="  ", operator="cetak1")
    desk.mark_handed_over(desk_registry, first, received_by="Ani (istri)", operator="cetak1")
    history = desk.card_history(desk_registry, first)
    assert history[-1]["handed_over_to"] == "Ani (istri)"
    assert desk.count_to_hand_over(desk_registry) == 0
    assert second in {r.registration_id for r in desk.members_ready_to_print(desk_registry)}


def test_reprint_revokes_earlier_versions_across_devices(desk_registry, tmp_path):
    reg_id = desk.members_ready_to_print(desk_registry)[0].registration_id
    desk.print_to_pdf(desk_registry, [reg_id], tmp_path / "v1.pdf", operator="cetak1")
    old_text = desk.load_print_cards(desk_registry, [reg_id])[0].qr_text
    signer = ensure_demo_key(tmp_path)
    with pytest.raises(desk.CardDeskError):
        desk.reprint(desk_registry, reg_id, "bosan", operator="cetak1", signer=signer)
    serial, version = desk.reprint(desk_registry, reg_id, "lost", operator="cetak1",
                                   signer=signer)
    assert version == 2
    desk.reprint(desk_registry, reg_id, "damaged", operator="cetak1", signer=signer)
    assert desk.revoked_set(desk_registry) == {(serial, 1), (serial, 2)}
    # The new version is ready to print again; the old ones are not.
    ready = {r.registration_id: r for r in desk.members_ready_to_print(desk_registry)}
    assert ready[reg_id].version == 3
    new_text = desk.load_print_cards(desk_registry, [reg_id])[0].qr_text
    # Another device receives the revocation list (as sync carries it) and refuses the old card.
    other = Registry.open(tmp_path / "other.sqlite3")
    try:
        entries = desk.revocation_list(desk_registry)
        assert desk.apply_revocations(other, entries) == 2
        assert desk.apply_revocations(other, entries) == 0  # idempotent
        keys = trusted_keys(tmp_path)
        revoked = desk.revoked_set(other)
        assert verify_credential(old_text, keys, revoked, TODAY).status is Status.REVOKED
        assert verify_credential(new_text, keys, revoked, TODAY).valid
    finally:
        other.close()


def test_store_credential_from_the_server_keeps_print_records(desk_registry, tmp_path):
    reg_id = desk.members_ready_to_print(desk_registry)[0].registration_id
    desk.print_to_pdf(desk_registry, [reg_id], tmp_path / "a.pdf", operator="cetak1")
    text = desk.load_print_cards(desk_registry, [reg_id])[0].qr_text
    assert desk.store_credential(desk_registry, reg_id, text)[1] == 1
    assert desk.card_history(desk_registry, reg_id)[0]["printed_at"]
    with pytest.raises(ValueError):
        desk.store_credential(desk_registry, reg_id, "not a credential")


def test_command_line_print_verify_and_public_key(tmp_path, capsys, monkeypatch):
    import io
    import json
    from datetime import UTC, datetime

    import main
    from storage.unlock import open_with_password

    password = "rahasia-jambi"
    monkeypatch.setenv("JAMSOS_PASSWORD", password)
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    assert main.main(["--data-dir", str(tmp_path), "operators", "add", "admin", "--name",
                      "Ibu Admin", "--role", "admin"]) == 0
    registry = open_with_password(tmp_path, "admin", password, datetime.now(UTC)).registry
    fill_demo_data(registry, 10, seed=4)
    fund_demo_members(registry, tmp_path, share=0.5, seed=1)
    ids = [r.registration_id for r in desk.members_ready_to_print(registry)]
    text = desk.load_print_cards(registry, ids[:1])[0].qr_text
    desk.reprint(registry, ids[1], "lost", operator="cli", signer=ensure_demo_key(tmp_path))
    revoked_text = registry.db_for_tests.execute(
        "SELECT credential FROM cards WHERE registration_id = ? AND version = 1", [ids[1]]
    ).fetchone()[0]
    registry.close()
    capsys.readouterr()
    base = ["--data-dir", str(tmp_path), "cards"]
    assert main.main(base + ["public-key"]) == 0
    assert "ID kunci:" in capsys.readouterr().out
    out = tmp_path / "kartu.pdf"
    assert main.main(base + ["print", "--layout", "cr80", "--out", str(out),
                             "--operator", "admin"]) == 0
    assert out.exists()
    assert main.main(base + ["print", "--out", str(tmp_path / "again.pdf"),
                             "--operator", "admin"]) == 1  # none left
    capsys.readouterr()
    assert main.main(base + ["verify", text]) == 0
    assert "VALID" in capsys.readouterr().out
    assert main.main(base + ["verify", text[:-4]]) == 1
    # Without the database or a file, the revoked card is genuine but the answer says that
    # revocations were not checked; with the device's list or the exported file it is revoked.
    capsys.readouterr()
    assert main.main(base + ["verify", revoked_text]) == 0
    assert "pencabutan tidak diperiksa" in capsys.readouterr().out
    assert main.main(base + ["verify", revoked_text, "--operator", "admin"]) == 1
    assert "REVOKED" in capsys.readouterr().out
    exported = tmp_path / "revocations.json"
    assert main.main(base + ["revocations", "--out", str(exported), "--operator", "admin"]) == 0
    document = json.loads(exported.read_text(encoding="utf-8"))
    assert document["exported_at"] and len(document["revocations"]) == 1
    assert document["revocations"][0]["card_version"] == 1
    capsys.readouterr()
    assert main.main(base + ["verify", revoked_text, "--revocations", str(exported)]) == 1
    assert "REVOKED" in capsys.readouterr().out


@pytest.mark.parametrize("suffix", [".PNG", ".JPG", ".GIF", ".BMP", ".TIF", ".png"])
def test_scanned_text_is_never_taken_for_a_file_name(tmp_path, capsys, suffix):
    """A scanner's text that ends like an image file name is card text: a damaged card or not a
    card, never "Berkas gambar tidak dapat dibuka". Images are named with --image."""
    import main
    from cards.credential import CardData, issue_credential

    signer = ensure_demo_key(tmp_path)
    text = issue_credential(*signer, CardData("JMB-2026-PR-000001", "SITI", "pekerja_rentan",
                                              date(2026, 1, 1), date(2099, 12, 31), 1, 1))
    base = ["--data-dir", str(tmp_path), "cards", "verify"]
    (tmp_path / f"kartu{suffix}").write_bytes(b"not an image")
    for scanned, status in ((text[:-4] + suffix, "FORGED"), ("KARTU" + suffix, "NOT_A_CREDENTIAL"),
                            (str(tmp_path / f"kartu{suffix}"), "NOT_A_CREDENTIAL")):
        assert main.main(base + [scanned]) == 1
        out = capsys.readouterr().out
        assert out.startswith(status) and "Berkas gambar" not in out, scanned
    assert main.main(base + [text]) == 0
    capsys.readouterr()
    assert main.main(base + ["--image", str(tmp_path / f"kartu{suffix}")]) == 1
    assert "Berkas gambar tidak dapat dibuka" in capsys.readouterr().out
    assert main.main(base + ["--image", str(tmp_path / "x.png"), text]) == 2
    assert main.main(base) == 2
