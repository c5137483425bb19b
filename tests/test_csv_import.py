"""Importing registrations from CSV: the same rules as the form, one transaction per row, a
report of what was skipped and why, and nothing doubled by importing a file twice."""

from __future__ import annotations

import csv
import threading
from datetime import date

import pytest

from storage.csv_import import (
    COLUMNS,
    ImportFileError,
    import_csv,
    read_rows,
    write_skipped,
)
from storage.demo import generate_workers
from storage.registry import RegistrationFilter, Registry

AS_OF = date(2026, 11, 24)
HEADER = [c.name for c in COLUMNS]


@pytest.fixture
def registry(tmp_path):
    reg = Registry.open(tmp_path / "r.sqlite3")
    yield reg
    reg.close()


def as_row(reg, registry) -> dict:
    """A demo worker as an office would type it: region names, day-month-year, Indonesian
    labels."""
    regions = registry.regions
    heir = reg.heirs[0]
    return {
        "nik": reg.nik, "nama_lengkap": reg.full_name, "tempat_lahir": reg.birth_place,
        "tanggal_lahir": reg.birth_date.strftime("%d-%m-%Y"), "jenis_kelamin": reg.sex,
        "alamat": reg.street, "rt": reg.rt, "rw": reg.rw,
        "kecamatan": regions.kecamatan(reg.kecamatan_code).name,
        "kelurahan": regions.kelurahan(reg.kelurahan_code).name, "kode_pos": "",
        "no_hp": reg.phone, "pekerjaan": reg.occupation_code, "kelompok": reg.cohort,
        "penghasilan": f"{reg.monthly_income:,}".replace(",", "."),
        "ahli_waris_nama": heir.name, "ahli_waris_hubungan": heir.relationship,
        "ahli_waris_hp": heir.phone, "ahli_waris_nik": heir.nik, "persetujuan": "ya",
        "catatan": "",
    }


def write_csv(path, rows, *, delimiter=";", encoding="utf-8-sig", header=HEADER):
    with open(path, "w", encoding=encoding, newline="") as out:
        writer = csv.DictWriter(out, fieldnames=header, delimiter=delimiter,
                                extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            if row is None:
                out.write("\r\n")  # a blank line, as spreadsheets leave them
            else:
                writer.writerow(row)
    return path


def demo_rows(registry, n, seed=1):
    return [as_row(w, registry) for w in generate_workers(n, seed=seed, as_of=AS_OF)]


def test_valid_rows_are_registered_and_a_second_import_adds_nothing(tmp_path, registry):
    rows = demo_rows(registry, 12)
    path = write_csv(tmp_path / "daftar.csv", rows)
    seen = []
    report = import_csv(registry, path, operator="Kantor Lurah", as_of=AS_OF,
                        accept_warnings=True, progress=lambda d, t: seen.append((d, t)))
    assert (report.total, report.imported, report.skipped) == (12, 12, [])
    assert seen[-1] == (12, 12)
    assert registry.count(RegistrationFilter()) == 12
    stored = registry.query(RegistrationFilter(text=rows[0]["nama_lengkap"]))[0]
    reg = registry.get(stored.id)
    assert reg.kelurahan_code.startswith(reg.kecamatan_code)  # names became Kemendagri codes
    assert reg.consent_given and reg.consent_version
    assert reg.operator == "Kantor Lurah"

    again = import_csv(registry, path, operator="Kantor Lurah", as_of=AS_OF)
    assert again.imported == 0 and len(again.skipped) == 12
    assert all("sudah terdaftar" in s.reasons[0] for s in again.skipped)
    assert registry.count(RegistrationFilter()) == 12


def test_bad_rows_are_skipped_with_their_line_and_reasons(tmp_path, registry):
    good, bad_nik, bad_date, bad_income, no_consent, bad_heir = demo_rows(registry, 6, seed=2)
    bad_nik["nik"] = "1571010101"
    bad_date["tanggal_lahir"] = "kemarin"
    bad_income["penghasilan"] = "sejuta"
    no_consent["persetujuan"] = "tidak"
    bad_heir["ahli_waris_hubungan"] = "tetangga"
    path = write_csv(tmp_path / "daftar.csv",
                     [good, None, bad_nik, bad_date, bad_income, no_consent, bad_heir])
    report = import_csv(registry, path, operator="Budi", as_of=AS_OF, accept_warnings=True)
    assert report.imported == 1
    by_line = {s.line: s for s in report.skipped}
    assert sorted(by_line) == [4, 5, 6, 7, 8]  # line 3 is blank
    assert "NIK" in by_line[4].reasons[0]
    assert "kemarin" in by_line[5].reasons[0]
    assert "sejuta" in by_line[6].reasons[0]
    assert any("Persetujuan" in r for r in by_line[7].reasons)
    assert any("hubungan keluarga" in r for r in by_line[8].reasons)
    assert by_line[5].nik_masked.count("*") == 6  # never the whole NIK in a report


def test_rows_with_warnings_wait_for_accept_warnings(tmp_path, registry):
    [row] = demo_rows(registry, 1, seed=3)
    twin = dict(row, nik=row["nik"][:12] + f"{(int(row['nik'][12:]) + 1) % 10000:04d}")
    write_csv(tmp_path / "a.csv", [row])
    import_csv(registry, tmp_path / "a.csv", operator="Budi", as_of=AS_OF)
    # Another NIK, the same name and birth date: a possible duplicate someone must judge.
    path = write_csv(tmp_path / "b.csv", [twin])
    skipped = import_csv(registry, path, operator="Budi", as_of=AS_OF)
    assert skipped.imported == 0 and "Mungkin sudah terdaftar" in skipped.skipped[0].reasons[0]
    accepted = import_csv(registry, path, operator="Budi", as_of=AS_OF, accept_warnings=True)
    assert (accepted.imported, accepted.with_warnings) == (1, 1)


def test_cancel_keeps_the_groups_already_saved(tmp_path, registry):
    path = write_csv(tmp_path / "daftar.csv", demo_rows(registry, 10, seed=4))
    cancel = threading.Event()
    seen = []

    def progress(done, total):
        seen.append(done)
        if done == 4:
            cancel.set()

    report = import_csv(registry, path, operator="Budi", as_of=AS_OF, accept_warnings=True,
                        group_size=2, progress=progress, cancel=cancel)
    assert seen == [2, 4]  # progress after each group of two
    assert report.cancelled and report.imported == 4
    assert registry.count(RegistrationFilter()) == 4
    assert registry.audit_chain_ok()


def test_missing_required_columns_are_named(tmp_path, registry):
    header = [h for h in HEADER if h not in ("nik", "persetujuan")]
    path = write_csv(tmp_path / "daftar.csv", demo_rows(registry, 1), header=header)
    with pytest.raises(ImportFileError) as info:
        import_csv(registry, path, operator="Budi", as_of=AS_OF)
    assert "nik" in str(info.value) and "persetujuan" in str(info.value)
    assert registry.count(RegistrationFilter()) == 0


def test_commas_headers_in_any_case_and_windows_1252(tmp_path, registry):
    [row] = demo_rows(registry, 1, seed=5)
    row["catatan"] = "Daftar ulang é"
    header = [h.upper().replace("_", " ") for h in HEADER]
    path = tmp_path / "excel.csv"
    with open(path, "w", encoding="cp1252", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerow([row[h] for h in HEADER])
    [(line, parsed)] = read_rows(path)
    assert line == 2 and parsed["catatan"] == "Daftar ulang é"
    report = import_csv(registry, path, operator="Budi", as_of=AS_OF, accept_warnings=True)
    assert report.imported == 1


def test_the_skipped_report_holds_masked_niks_only(tmp_path, registry):
    rows = demo_rows(registry, 2, seed=6)
    rows[1]["persetujuan"] = ""
    path = write_csv(tmp_path / "daftar.csv", rows)
    report = import_csv(registry, path, operator="Budi", as_of=AS_OF, accept_warnings=True)
    out = tmp_path / "ditolak.csv"
    write_skipped(report, out)
    text = out.read_text(encoding="utf-8-sig")
    assert rows[1]["nik"] not in text and rows[1]["nik"][:6] in text
    assert text.splitlines()[0] == "baris;nik;nama_lengkap;jenis;alasan"


PASSWORD = "rahasia-jambi"


@pytest.fixture
def device(tmp_path, monkeypatch, capsys):
    return make_device(tmp_path, monkeypatch, capsys)


def make_device(tmp_path, monkeypatch, capsys):
    """A data folder with a first admin account; commands unlock it with JAMSOS_PASSWORD."""
    import io

    import main

    data = tmp_path / "data"
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main.main(["--data-dir", str(data), "operators", "add", "admin", "--name",
                      "Ibu Admin", "--role", "admin"]) == 0
    monkeypatch.setenv("JAMSOS_PASSWORD", PASSWORD)
    capsys.readouterr()
    return data


def open_device(data):
    from datetime import UTC, datetime

    from storage.unlock import open_with_password

    return open_with_password(data, "admin", PASSWORD, datetime.now(UTC)).registry


def test_command_line_import_with_kegiatan_and_report(tmp_path, device, capsys):
    import main

    scratch = Registry.open(tmp_path / "scratch.sqlite3")  # only for its region names
    rows = demo_rows(scratch, 3, seed=7)
    scratch.close()
    rows[2]["persetujuan"] = "tidak"
    path = write_csv(tmp_path / "daftar.csv", rows)
    report = tmp_path / "ditolak.csv"
    base = ["--data-dir", str(device), "import-csv", str(path), "--operator", "admin",
            "--event", "Posyandu Talang Banjar", "--accept-warnings", "--report", str(report)]
    assert main.main(base) == 3  # some rows were refused
    out = capsys.readouterr().out
    assert "2 dari 3 baris didaftarkan" in out and "baris 4" in out
    assert "baru: 2" in out and "ditolak: 1" in out
    assert report.exists()
    stored = open_device(device)
    try:
        [event] = stored.events()
        assert event.name == "Posyandu Talang Banjar"
        assert stored.count(RegistrationFilter(event_id=event.id)) == 2
    finally:
        stored.close()


def test_every_column_is_documented_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for column in COLUMNS:
        assert f"| `{column.name}` | {'ya' if column.required else ''} |" in readme, column.name
