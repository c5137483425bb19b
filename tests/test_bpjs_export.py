"""The collective registration file for BPJS (full and delta, each with its audit entry whose
hash matches the file) and the KPJ answer file back (round trip to a device by pull; unmatched,
not funded and already used rows refused and listed). Real server on loopback, the admin's
command line as a subprocess, real device databases."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from server_util import database_args
from sync_util import (
    VERIFIER,
    edit_record,
    enrolled_device,
    record_ids,
    role_client,
    sync_once,
    verify_and_fund,
)

from server import office
from storage import programme
from storage.demo import fill_demo_data
from sync import claims as c
from sync import verifier as v
from sync.client import SyncClient

ROOT = Path(__file__).resolve().parent.parent


def _cli(server_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", "server", *args, "--data-dir",
                           str(server_dir), *database_args(server_dir)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def _sheet(raw: bytes) -> list[dict]:
    rows = list(load_workbook(io.BytesIO(raw)).active.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def _audit(auditor: SyncClient, action: str, limit: int = 5) -> list[dict]:
    """The office audit as the programme office reads it (GET /office/audit)."""
    return c.office_audit(auditor, action, limit)


def _last_export(auditor: SyncClient) -> dict:
    return _audit(auditor, "bpjs_export", 1)[0]


def test_full_and_delta_exports_with_their_audit(tmp_path, server):
    url, server_dir = server
    field = enrolled_device(tmp_path / "field.sqlite3", url, server_dir)
    fill_demo_data(field, 4, seed=71)
    sync_once(field)
    a, b, d, later = record_ids(field)
    verifier = role_client(*server, "verifier")
    numbers = {rid: verify_and_fund(verifier, rid)["member_number"] for rid in (a, b, d)}

    out = tmp_path / "penuh.xlsx"
    done = _cli(server_dir, "bpjs-export", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "3 baris" in done.stdout
    rows = _sheet(out.read_bytes())
    config = office.office_config()
    assert list(rows[0]) == [col.header for col in config.bpjs_export_columns]
    assert sorted(r["NO ANGGOTA KOTA"] for r in rows) == sorted(numbers.values())
    nik_a = field.get(a).nik
    row_a = next(r for r in rows if r["NO ANGGOTA KOTA"] == numbers[a])
    assert row_a["NIK"] == nik_a and isinstance(row_a["NIK"], str)  # text: no 1.57E+15
    assert (row_a["PROGRAM"], row_a["PERUBAHAN"]) == ("JKK+JKM", "AKTIF")
    audit = _last_export(verifier)
    assert audit["detail"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert (audit["detail"]["rows"], audit["detail"]["mode"]) == (3, "full")
    assert audit["operator"].startswith("Admin server")

    # Nothing changed: an empty delta, still audited.
    empty = c.bpjs_export(verifier, operator=VERIFIER, since_last=True)
    assert _sheet(empty.content) == []
    assert _last_export(verifier)["detail"]["sha256"] == empty.sha256 == hashlib.sha256(
        empty.content).hexdigest()

    # A correction waiting for a verifier is not used; once approved it is.
    edit_record(field, a, phone="081299990000")
    sync_once(field)
    assert _sheet(c.bpjs_export(verifier, operator=VERIFIER, since_last=True).content) == []
    detail = v.registration_detail(verifier, a)["registration"]
    v.approve_correction(verifier, a, detail["revision"], 2, operator=VERIFIER)
    verify_and_fund(verifier, later)
    revision = v.registration_detail(verifier, d)["registration"]["revision"]
    died_on = date.today() - timedelta(days=1)
    c.record_death(verifier, d, revision, died_on=died_on, place="Rumah", certificate_no="A-1",
                   reported_by="Anak", operator=VERIFIER)

    revision = v.registration_detail(verifier, b)["registration"]["revision"]
    ends = c.withdraw_consent(verifier, b, revision, received_on=date.today(),
                              operator=VERIFIER)["ends_on"]

    delta = c.bpjs_export(verifier, operator=VERIFIER, since_last=True)
    changes = {r["NO ANGGOTA KOTA"]: r for r in _sheet(delta.content)}
    assert changes[numbers[b]]["PERUBAHAN"] == "BERHENTI"
    assert changes[numbers[b]]["ALASAN BERHENTI"] == "PERSETUJUAN DITARIK"
    assert changes[numbers[b]]["TANGGAL BERHENTI"].date().isoformat() == ends
    assert changes[numbers[a]]["PERUBAHAN"] == "KOREKSI"
    assert changes[numbers[a]]["NO HP"] == "081299990000"
    assert changes[numbers[d]]["PERUBAHAN"] == "BERHENTI"
    assert changes[numbers[d]]["ALASAN BERHENTI"] == "MENINGGAL"
    assert changes[numbers[d]]["TANGGAL BERHENTI"].date() == died_on
    assert [r["PERUBAHAN"] for r in changes.values()].count("BARU") == 1
    assert len(changes) == 4
    audit = _last_export(verifier)["detail"]
    assert (audit["mode"], audit["rows"], audit["sha256"]) == ("delta", 4, delta.sha256)
    assert audit["counts"] == {"full": 0, "new": 1, "corrected": 1, "ended": 2}

    # The dead member is never in a full export as active.
    full = {r["NO ANGGOTA KOTA"] for r in _sheet(c.bpjs_export(verifier,
                                                               operator=VERIFIER).content)}
    assert numbers[d] not in full and numbers[b] not in full and numbers[a] in full
    assert len(full) == 2


def _kpj_csv(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    lines = ["NIK;No Anggota Kota;No KPJ;Tanggal Mulai"] + [";".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_kpj_numbers_back_to_a_device_with_refusals_listed(tmp_path, server):
    url, server_dir = server
    field = enrolled_device(tmp_path / "field.sqlite3", url, server_dir)
    fill_demo_data(field, 4, seed=72)
    sync_once(field)
    stranger = enrolled_device(tmp_path / "lain.sqlite3", url, server_dir)
    a, b, other, unfunded = record_ids(field)
    verifier = role_client(*server, "verifier")
    numbers = {rid: verify_and_fund(verifier, rid)["member_number"] for rid in (a, b, other)}
    nik = {rid: field.get(rid).nik for rid in (a, b, other, unfunded)}

    answer = _kpj_csv(tmp_path / "jawaban.csv", [
        (nik[a], "", "KPJ26000001", "01-12-2026"),                 # by NIK
        ("", numbers[b], "KPJ26000002", "2026-12-01"),             # by member number
        ("1571019999990001", "", "KPJ26000003", ""),               # matches nobody
        (nik[unfunded], "", "KPJ26000004", ""),                    # not funded
        (nik[other], "", "KPJ26000001", ""),                       # a's KPJ
        (nik[a][:15], "", "KPJ26000005", ""),                      # a broken NIK
    ])
    done = _cli(server_dir, "kpj-import", str(answer))
    assert done.returncode == 3, done.stderr
    assert "6 baris dibaca: 2 nomor KPJ dicatat, 0 sudah sama, 4 ditolak." in done.stdout
    for line, words in ((4, "tidak ditebak"), (5, "bukan peserta"), (6, "peserta lain"),
                        (7, "16 angka")):
        assert any(row.startswith(f"  baris {line}:") and words in row
                   for row in done.stdout.splitlines()), done.stdout
    assert nik[unfunded] not in done.stdout  # listed with a masked NIK

    # The same answer as XLSX through the API: nothing new, the same refusals.
    book = Workbook()
    book.active.append(["NIK", "NO KPJ", "TMT"])
    book.active.append([nik[a], "KPJ26000001", date(2026, 12, 1)])
    book.active.append([int(nik[other]) if not nik[other].endswith("0") else 1.571e15,
                        "KPJ26000009", None])
    book.save(tmp_path / "jawaban.xlsx")
    again = c.kpj_import(verifier, tmp_path / "jawaban.xlsx", operator=VERIFIER)
    assert (again["rows"], again["unchanged"]) == (2, 1)
    assert again["taken"] + len(again["refused"]) == 1
    imports = _audit(verifier, "kpj_import")  # a NIK stored as a number: only when exact
    assert imports[1]["detail"]["refused_by_reason"] == {
        "kpj.unmatched": 1, "kpj.not_funded": 1, "kpj.already_used": 1, "kpj.bad_row": 1}
    assert imports[1]["detail"]["sha256"] == hashlib.sha256(answer.read_bytes()).hexdigest()

    # The next file to BPJS carries the KPJ; learning it is no change to report back.
    full = {r["NO ANGGOTA KOTA"]: r for r in _sheet(c.bpjs_export(verifier,
                                                                  operator=VERIFIER).content)}
    assert (full[numbers[a]]["NO KPJ"], full[numbers[b]]["NO KPJ"]) == ("KPJ26000001",
                                                                        "KPJ26000002")
    assert full[numbers[other]]["NO KPJ"] == ("KPJ26000009" if again["taken"] else None)

    sync_once(field)
    sync_once(stranger)
    assert programme.kpj_of(field.db_for_tests, a) == ("KPJ26000001", "2026-12-01")
    # Another enumerator's laptop does not collect the city's KPJ numbers.
    assert stranger.db_for_tests.execute("SELECT count(*) FROM member_kpj").fetchone()[0] == 0
    assert programme.kpj_of(field.db_for_tests, b) == ("KPJ26000002", "2026-12-01")
    assert programme.kpj_of(field.db_for_tests, unfunded) is None
    assert programme.kpj_numbers(field.db_for_tests, [a, b, unfunded])[a] == "KPJ26000001"


def test_a_file_that_is_not_a_kpj_answer_is_refused_whole(tmp_path, server):
    url, server_dir = server
    verifier = role_client(*server, "verifier")
    no_kpj = tmp_path / "salah.csv"
    no_kpj.write_text("NIK;Nama\n1571010101900001;Siti\n", encoding="utf-8")
    old_excel = tmp_path / "lama.xls"
    old_excel.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    for path, words in ((no_kpj, "kolom nomor KPJ"), (old_excel, "Excel lama")):
        with pytest.raises(v.DecisionRefused) as caught:
            c.kpj_import(verifier, path, operator=VERIFIER)
        assert caught.value.code == "kpj.bad_file" and words in caught.value.message
    assert _audit(verifier, "kpj_import") == []  # nothing was taken, nothing audited


def test_an_unknown_export_column_refuses_the_export(tmp_path, server, monkeypatch):
    from dataclasses import replace

    from storage.config import ExportColumn

    verifier = role_client(*server, "verifier")
    broken = replace(office.office_config(), bpjs_export_columns=(
        ExportColumn("nik", "NIK"), ExportColumn("mother_name", "NAMA IBU")))
    monkeypatch.setattr(office, "office_config", lambda: broken)
    with pytest.raises(v.DecisionRefused) as caught:
        c.bpjs_export(verifier, operator=VERIFIER)
    assert caught.value.code == "export.bad_columns" and "mother_name" in caught.value.message
    assert _audit(verifier, "bpjs_export") == []


def test_a_change_while_the_file_is_written_makes_it_again(tmp_path, monkeypatch):
    """The file is written outside the write lock; a member that changes meanwhile is in the
    file as it is when the export is recorded, never as it was."""
    import json as _json

    from server_util import LiveServer, record, workers

    from server import bpjs_export

    live = LiveServer(tmp_path / "srv").start()
    try:
        device = live.enrol("enumerator")
        device.push([record(r, device.device_id) for r in workers(2, seed=73)]).raise_for_status()
        with live.store.write() as db:
            db.execute("UPDATE registrations SET status = 'funded', programme_year = 2026, "
                       "programme_start = '2026-12-01', "
                       "member_number = 'JMB-2026-PR-' || CAST(100000 + arrival AS TEXT)")
        made = []
        real = bpjs_export._workbook

        def slow_workbook(rows, mode, export_id, cfg):
            if not made:  # a correction approved while the first file is being written
                with live.store.write() as db:
                    rid, data = db.execute("SELECT id, data FROM registrations "
                                           "ORDER BY arrival LIMIT 1").fetchone()
                    data = {**_json.loads(data), "phone": "081233334444"}
                    db.execute("UPDATE registrations SET data = ? WHERE id = ?",
                               [_json.dumps(data), rid])
            made.append(len(rows))
            return real(rows, mode, export_id, cfg)

        monkeypatch.setattr(bpjs_export, "_workbook", slow_workbook)
        body, info = bpjs_export.export(live.store, "full", None, VERIFIER)
    finally:
        live.stop()
    assert made == [2, 2]  # made again once
    phones = sorted(r["NO HP"] for r in _sheet(body))
    assert "081233334444" in phones
    assert info["sha256"] == hashlib.sha256(body).hexdigest()
