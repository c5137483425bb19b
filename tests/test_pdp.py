"""A person's PDP requests: the copy of everything held (the PDF's text holds the history of
versions and decisions), the withdrawal of consent (membership ends at the end of the paid
month, card revoked on the devices) and erasure after the retention period, refused before it,
reaching the devices by pull: afterwards neither the server's nor any device's database holds
the person's name or NIK anywhere. Real server on loopback, real device databases."""

from __future__ import annotations

import calendar
import io
import sqlite3
from datetime import date, timedelta

from pypdf import PdfReader
from sync_util import (
    VERIFIER,
    edit_record,
    enrolled_device,
    expect_refused,
    record_ids,
    role_client,
    server_in_thread,
    sync_once,
    verify_and_fund,
)

from server import office, rules
from storage import programme
from storage.demo import fill_demo_data
from storage.models import Status
from sync import claims as c
from sync import state
from sync import verifier as v
from sync.enrol import client_for


def _holding(conn: sqlite3.Connection, needles: list[str]) -> list[str]:
    """"table.column" of every value in the database that contains one of `needles` (text
    compared without case; blobs byte for byte)."""
    found = []
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        try:
            cursor = conn.execute(f'SELECT * FROM "{table}"')
        except sqlite3.DatabaseError:  # a virtual table this build cannot read
            continue
        names = [d[0] for d in cursor.description]
        for row in cursor:
            for name, value in zip(names, row, strict=True):
                if isinstance(value, str) and any(n.lower() in value.lower() for n in needles):
                    found.append(f"{table}.{name}")
                elif isinstance(value, bytes) and any(n.encode() in value for n in needles):
                    found.append(f"{table}.{name}")
    return sorted(set(found))


def _server_holding(server_dir, needles: list[str]) -> list[str]:
    """`_holding` over a PostgreSQL server's tables (read through its store)."""
    from server.store import Store

    store = Store(server_dir)
    found = []
    try:
        db = store.reader()
        tables = [r[0] for r in db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE'").fetchall()]
        for table in tables:
            cursor = db.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cursor.description]
            for row in cursor.fetchall():
                for name, value in zip(names, row, strict=True):
                    text = value if isinstance(value, str) else str(value)
                    if isinstance(value, (bytes, memoryview)):
                        text = bytes(value).decode("utf-8", "replace")
                    if any(n.lower() in text.lower() for n in needles):
                        found.append(f"{table}.{name}")
    finally:
        store.close()
    return sorted(set(found))


def test_copy_withdrawal_and_erasure_reach_the_devices(tmp_path, monkeypatch, server_engine):
    server_dir = tmp_path / "server"
    with server_in_thread(server_dir) as url:
        field = enrolled_device(tmp_path / "field.sqlite3", url, server_dir)
        desk = enrolled_device(tmp_path / "desk.sqlite3", url, server_dir, role="card_desk")
        verifier = role_client(url, server_dir, "verifier")
        fill_demo_data(field, 2, seed=81)
        sync_once(field)
        person, other = record_ids(field)
        verify_and_fund(verifier, person)
        sync_once(field)
        edit_record(field, person, phone="081277776666")
        sync_once(field)
        detail = v.registration_detail(verifier, person)["registration"]
        v.approve_correction(verifier, person, detail["revision"], 2, operator=VERIFIER)
        sync_once(desk)
        held = field.get(person)
        name, nik = held.full_name, held.nik
        assert desk.db_for_tests.execute("SELECT count(*) FROM card_holders WHERE full_name = ?",
                               [name]).fetchone()[0] == 1

        # The copy: everything, unmasked, with the history; only that it was made is audited.
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(
            c.pdp_copy(verifier, person, operator=VERIFIER))).pages)
        text = " ".join(text.split())
        for expected in (name, nik, "Riwayat versi data", "Nomor HP: 081277776666",
                         "funded", "correction_approved", "Salinan data pribadi"):
            assert expected in text, expected
        copies = c.office_audit(verifier, "pdp_copy")
        assert copies[0]["record_id"] == person
        assert name not in str(copies) and nik not in str(copies)

        # Erasure is refused while the person is a member, and before the retention period.
        expect_refused("pdp.still_member", c.erase, verifier, person, operator=VERIFIER)
        today = date.today()
        revision = v.registration_detail(verifier, person)["registration"]["revision"]
        ends = c.withdraw_consent(verifier, person, revision, received_on=today,
                                  operator=VERIFIER)
        month_end = today.replace(day=calendar.monthrange(today.year, today.month)[1])
        assert ends["ends_on"] == month_end.isoformat()
        detail = v.registration_detail(verifier, person)["registration"]
        assert detail["status"] == Status.INACTIVE.value and detail["card"] is None
        assert detail["programme_end"] <= month_end.isoformat()
        expect_refused("pdp.already_ended", c.withdraw_consent, verifier, person,
                       detail["revision"], received_on=today, operator=VERIFIER)
        early = expect_refused("pdp.retention", c.erase, verifier, person, operator=VERIFIER)
        retention = office.office_config().retention_days
        first = month_end + timedelta(days=retention)
        assert f"{first:%d-%m-%Y}" in early.message and "masa simpan" in early.message

        sync_once(field)
        sync_once(desk)
        assert field.get(person).status == Status.INACTIVE.value
        assert desk.db_for_tests.execute("SELECT reason FROM card_revocations").fetchall() == [
            ("persetujuan_ditarik",)]

        needles = [name, nik]
        # the search finds it
        assert "workers.full_name" in _holding(field.db_for_tests.conn, needles)
        assert "card_holders.full_name" in _holding(desk.db_for_tests.conn, needles)

        # After the retention period: erased everywhere, a tombstone says what, when and who.
        monkeypatch.setattr(rules, "server_today", lambda: first)
        tomb = c.erase(verifier, person, operator=VERIFIER)
        assert "full_name" in tomb["fields"] and "nik" in tomb["fields"]
        expect_refused("pdp.erased", c.erase, verifier, person, operator=VERIFIER)
        after = v.registration_detail(verifier, person)["registration"]
        assert (after["full_name"], after["data"]["nik"], after["data"]["heirs"]) == ("", "", [])
        audit = c.office_audit(verifier, "pdp_erasure")
        assert audit[0]["record_id"] == person and audit[0]["operator"] == "Verifikator Uji"
        assert name not in str(audit) and nik not in str(audit)
        copy = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(
            c.pdp_copy(verifier, person, operator=VERIFIER))).pages)
        assert name not in copy and nik not in copy

        # A laptop that still held the old data cannot send it back.
        held.version, held.device_id = 3, state.device_id(field)
        client = client_for(field)
        answer = client.push("erased-1", held.device_id, [
            {"record_id": person, "version": 3, "base_version": 2, "data": held.to_dict()}])
        client.close()
        assert answer["results"][0]["outcome"] == "refused"
        assert answer["results"][0]["errors"][0]["code"] == "record.erased"

        sync_once(field)
        sync_once(desk)
        assert programme.is_erased(field.db_for_tests, person)
        assert programme.is_erased(desk.db_for_tests, person)
        assert field.get(other).full_name  # the other person is untouched
        assert field.audit_chain_ok()
        assert _holding(field.db_for_tests.conn, needles) == []
        assert _holding(desk.db_for_tests.conn, needles) == []
        field.close()
        desk.close()
    # The server's database, once it stopped: nothing of the person either, on SQLite not even
    # in the file's bytes (freed space is zeroed while an erasure writes). PostgreSQL keeps old
    # row versions until vacuum (the README's erasure note): there, every table's rows.
    if server_engine == "postgresql":
        assert not (server_dir / "server.db").exists()
        # The scan reads the rows (the other person's record is found), and finds nothing of
        # the erased one.
        assert "registrations" in {h.split(".")[0] for h in _server_holding(server_dir, [other])}
        assert _server_holding(server_dir, needles) == []
        files = [tmp_path / "field.sqlite3"]
    else:
        conn = sqlite3.connect(server_dir / "server.db")
        try:
            assert _holding(conn, needles) == []
        finally:
            conn.close()
        files = [server_dir / "server.db", tmp_path / "field.sqlite3"]
    for path in files:
        raw = path.read_bytes()
        assert nik.encode() not in raw and name.encode() not in raw, path.name
