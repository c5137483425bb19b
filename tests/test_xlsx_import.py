"""The city's 15,000-row list as an XLSX with every problem Excel users make: a title and a
two-row merged header, a hidden sheet, formulas without results and with error results, dates
stored as dates, day counts and text, NIKs stored as numbers (exact, with a lost last digit, in
scientific notation, too short), phones that lost their 0, the same NIK twice, a similar name
with the same birth date, people already registered. The dry run must count exactly what the
real run then does; a re-run adds nobody."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from storage.csv_import import import_csv
from storage.import_mapping import guess
from storage.import_run import run_import
from storage.import_table import load_table
from storage.registry import RegistrationFilter, Registry
from storage.sample_lists import HEADER, office_rows

AS_OF = date(2026, 11, 24)
ROWS = 15_000
COL = {name: i for i, name in enumerate(HEADER)}
FIRST_LINE = 5  # title, blank row, two header rows


def _cells(row: dict) -> list:
    return [row[name] for name in HEADER]


def _build(path, rows: list[list], *, merge_down: int | None = None,
           title="DAFTAR PEKERJA RENTAN KOTA JAMBI 2026"):
    """Title (merged across), a blank row, then the header in two rows: 'Ahli Waris' merged
    over its four columns, every other heading merged down over both rows. A hidden sheet
    with a lookup list comes first."""
    from openpyxl import Workbook

    book = Workbook()
    hidden = book.active
    hidden.title = "Referensi"
    hidden.append(["kode", "pekerjaan"])
    hidden.append(["ojek_pangkalan", "Ojek pangkalan"])
    hidden.sheet_state = "hidden"
    ws = book.create_sheet("Daftar")
    book.active = 1
    last = len(HEADER)
    ws.cell(1, 1, title)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last)
    heir = [COL[n] + 1 for n in HEADER if n.startswith("ahli_waris_")]
    for name in HEADER:
        column = COL[name] + 1
        if column in heir:
            ws.cell(4, column, name.removeprefix("ahli_waris_").capitalize())
        else:
            ws.cell(3, column, name.replace("_", " ").title())
            ws.merge_cells(start_row=3, start_column=column, end_row=4, end_column=column)
    ws.cell(3, heir[0], "Ahli Waris")
    ws.merge_cells(start_row=3, start_column=heir[0], end_row=3, end_column=heir[-1])
    for offset, values in enumerate(rows):
        if values is None:
            continue  # an empty row
        for column, value in enumerate(values, start=1):
            if value not in ("", None):
                ws.cell(FIRST_LINE + offset, column, value)
    if merge_down is not None:  # kecamatan merged over three rows, its value in the first
        top, column = FIRST_LINE + merge_down, COL["kecamatan"] + 1
        ws.cell(top + 1, column).value = ws.cell(top + 2, column).value = None
        ws.merge_cells(start_row=top, start_column=column, end_row=top + 2, end_column=column)
    book.save(path)
    return path


class Sample:
    """The generated list and what is known about its special rows (line -> expected kind)."""

    def __init__(self, path, rows, expected, preregistered, merged_kecamatan):
        self.path = path
        self.rows = rows
        self.expected = expected
        self.preregistered = preregistered
        self.merged_kecamatan = merged_kecamatan


@pytest.fixture(scope="session")
def sample(tmp_path_factory) -> Sample:
    rng = random.Random(14)
    base = office_rows(ROWS, seed=14, as_of=AS_OF)
    cells = [_cells(r) for r in base]
    expected: dict[int, str] = {}

    def line(index: int) -> int:
        return FIRST_LINE + index

    picks = iter(rng.sample(range(100, ROWS - 100), 400))

    def special(kind: str, change) -> int:
        index = next(picks)
        change(cells[index], base[index])
        expected[line(index)] = kind
        return index

    nik, birth = COL["nik"], COL["tanggal_lahir"]
    for _ in range(10):  # NIK stored as an exact number (16 digits, last one not 0)
        index = next(i for i in picks if not base[i]["nik"].endswith("0"))
        cells[index][nik] = int(base[index]["nik"])
        expected[line(index)] = "new"
    for _ in range(10):  # NIK typed into a number cell: Excel kept 15 digits
        special("refused", lambda c, r: c.__setitem__(nik, int(r["nik"][:15] + "0")))
    for _ in range(10):
        special("refused", lambda c, r: c.__setitem__(nik, "1.57101E+15"))
    for _ in range(5):  # a number that lost a digit
        special("refused", lambda c, r: c.__setitem__(nik, int(r["nik"][:15])))
    for _ in range(10):  # dates as dates, as Excel day counts, as words
        special("new", lambda c, r: c.__setitem__(birth, _day(r)))
        special("new", lambda c, r: c.__setitem__(birth, (_day(r) - date(1899, 12, 30)).days))
        special("new", lambda c, r: c.__setitem__(birth, _words(_day(r))))
    for _ in range(5):  # a date nobody can read
        special("refused", lambda c, r: c.__setitem__(birth, "31/31/1990"))
    for _ in range(5):  # a formula without a stored result
        special("refused", lambda c, r: c.__setitem__(COL["nama_lengkap"], '="Budi"&" Tes"'))
    for _ in range(10):  # a phone that lost its leading 0
        special("new", lambda c, r: c.__setitem__(COL["no_hp"], int(r["no_hp"])))
    for _ in range(5):  # a name with a digit: a warning to accept
        special("warnings", lambda c, r: c.__setitem__(COL["nama_lengkap"], r["nama_lengkap"]
                                                       + " 2"))
    for _ in range(5):  # consent as a boolean cell
        special("new", lambda c, r: c.__setitem__(COL["persetujuan"], True))
    for _ in range(10):  # the same person again further down the list
        index = special("new", lambda c, r: None)
        copy = next(i for i in picks if i > index)
        cells[copy] = list(cells[index])
        expected[line(copy)] = "already"
    for _ in range(10):  # another NIK, the same name and birth date: maybe the same person
        index = special("new", lambda c, r: None)
        twin = next(i for i in picks if i > index)
        cells[twin] = list(cells[index])
        cells[twin][nik] = _other_nik(base[index]["nik"])
        expected[line(twin)] = "similar"
    preregistered = [next(picks) for _ in range(30)]
    for index in preregistered:
        expected[line(index)] = "already"
    # Kecamatan merged down over three rows (the value only in the first cell).
    merged_kecamatan = next(i for i in picks if base[i]["kecamatan"] == base[i + 1]["kecamatan"]
                            == base[i + 2]["kecamatan"] and line(i) not in expected
                            and line(i + 1) not in expected and line(i + 2) not in expected)
    rows: list = list(cells)
    rows.insert(ROWS // 2, None)  # an empty row in the middle
    path = tmp_path_factory.mktemp("xlsx") / "daftar_kota.xlsx"
    _build(path, rows, merge_down=merged_kecamatan + (merged_kecamatan >= ROWS // 2))
    # Lines after the empty row moved down by one.
    shift = {ln if ln < line(ROWS // 2) else ln + 1: kind for ln, kind in expected.items()}
    return Sample(path, base, shift, [base[i] for i in preregistered],
                  merged_kecamatan)


def _day(row: dict) -> date:
    day, month, year = map(int, row["tanggal_lahir"].split("-"))
    return date(year, month, day)


MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember")


def _words(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _other_nik(nik: str) -> str:
    serial = int(nik[12:])
    return nik[:12] + f"{9900 + (serial - 9900 + 50) % 100:04d}"


def _registry(tmp_path, sample: Sample) -> Registry:
    """A device where some people on the list are already registered."""
    registry = Registry.open(tmp_path / "r.sqlite3")
    from storage.sample_lists import write_csv

    first = write_csv(tmp_path / "awal.csv", sample.preregistered)
    assert import_csv(registry, first, operator="Kantor", as_of=AS_OF).imported == 30
    return registry


def _kinds(report) -> dict[int, str]:
    return {row.line: row.kind for row in report.skipped}


def test_the_dry_run_counts_what_the_import_then_does(tmp_path, sample):
    registry = _registry(tmp_path, sample)
    try:
        table = load_table(sample.path)
        assert table.sheet == "Daftar" and table.header_line == 3
        assert any("Referensi" in n for n in table.notices)  # the hidden sheet is named
        assert any("dua baris" in n for n in table.notices)
        mapping = guess(table.headers)
        assert mapping == HEADER  # 'Ahli Waris' + 'Nama' became ahli_waris_nama, …
        assert len(table.rows) == ROWS

        dry = run_import(registry, table, mapping, operator="Kantor", as_of=AS_OF,
                         dry_run=True)
        assert registry.count(RegistrationFilter()) == 30  # nothing saved
        real = run_import(registry, table, mapping, operator="Kantor", as_of=AS_OF)

        assert dry.counts == real.counts and dry.imported == real.imported
        assert [(s.line, s.kind, s.reasons) for s in dry.skipped] == \
            [(s.line, s.kind, s.reasons) for s in real.skipped]
        assert sum(real.counts.values()) == ROWS
        assert real.imported == real.counts["new"]  # warnings were not accepted
        assert registry.count(RegistrationFilter()) == 30 + real.imported

        kinds = _kinds(real)
        for line, kind in sample.expected.items():
            assert kinds.get(line, "new") == kind, (line, kind, kinds.get(line))
        assert real.counts["already"] >= 40 and real.counts["similar"] >= 10
        assert real.counts["refused"] >= 35 and real.counts["warnings"] >= 5
        reasons = {s.line: s.reasons[0] for s in real.skipped}
        text = "\n".join(reasons.values())
        assert "15 angka pertama" in text and "notasi ilmiah" in text
        assert "rumus tanpa hasil tersimpan" in text and "31/31/1990" in text
        for row in sample.rows:  # no full NIK in any reason
            assert row["nik"] not in text
        assert registry.audit_chain_ok()

        # Every NIK that was saved is right, and nobody is there twice.
        niks = [r[0] for r in registry.db_for_tests.execute("SELECT nik FROM workers")]
        assert len(niks) == len(set(niks))
        assert set(niks) <= {r["nik"] for r in sample.rows} | {
            _other_nik(r["nik"]) for r in sample.rows}
        # The merged kecamatan reached the two rows under the merged cell.
        merged = sample.rows[sample.merged_kecamatan + 2]
        [found] = registry.query(RegistrationFilter(text=merged["nik"]))
        assert registry.get(found.id).kecamatan_code == registry.get(
            registry.query(RegistrationFilter(
                text=sample.rows[sample.merged_kecamatan]["nik"]))[0].id).kecamatan_code

        # Importing the same list again adds nobody; the dry run says so first.
        again = run_import(registry, table, mapping, operator="Kantor", as_of=AS_OF,
                           dry_run=True)
        assert again.imported == 0
        assert again.counts["already"] == real.counts["already"] + real.imported
    finally:
        registry.close()


def test_accepting_warnings_saves_the_similar_and_warned_rows(tmp_path, sample):
    registry = Registry.open(tmp_path / "r.sqlite3")
    try:
        table = load_table(sample.path)
        # The special rows (twins, warnings, duplicates) and a thousand ordinary ones.
        table.rows = [(line, values) for line, values in table.rows
                      if line in sample.expected or line < FIRST_LINE + 1000]
        mapping = guess(table.headers)
        dry = run_import(registry, table, mapping, operator="Kantor", as_of=AS_OF,
                         dry_run=True, accept_warnings=True)
        real = run_import(registry, table, mapping, operator="Kantor", as_of=AS_OF,
                          accept_warnings=True)
        assert dry.counts == real.counts and dry.imported == real.imported
        counts = real.counts
        assert real.imported == counts["new"] + counts["similar"] + counts["warnings"]
        assert real.with_warnings == counts["similar"] + counts["warnings"]
        assert counts["similar"] >= 10 and counts["warnings"] >= 5
        assert registry.count(RegistrationFilter()) == real.imported
    finally:
        registry.close()


def test_every_saved_row_has_its_version_audit_and_outbox_entry(tmp_path, sample):
    registry = Registry.open(tmp_path / "r.sqlite3")
    try:
        table = load_table(sample.path)
        table.rows = table.rows[:1200]
        report = run_import(registry, table, guess(table.headers), operator="Kantor",
                            as_of=AS_OF, group_size=500)
        saved = report.imported
        db = registry.db_for_tests
        assert db.execute("SELECT count(*) FROM worker_versions").fetchone()[0] == saved
        assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == saved
        assert db.execute("SELECT count(*) FROM audit_log WHERE action = "
                          "'registration.create'").fetchone()[0] == saved
        [detail] = [r[0] for r in db.execute(
            "SELECT detail FROM audit_log WHERE action = 'import.file'")]
        assert '"file":"daftar_kota.xlsx"' in detail and f'"saved":{saved}' in detail
    finally:
        registry.close()


CHILD = """
import sys
from datetime import date
from storage.csv_import import import_csv
from storage.registry import Registry
registry = Registry.open(sys.argv[1])
print("start", flush=True)
import_csv(registry, sys.argv[2], operator="Kantor", as_of=date(2026, 11, 24), group_size=250)
print("done", flush=True)
"""


def test_an_import_killed_halfway_loses_at_most_its_group_and_a_rerun_adds_the_rest(
        tmp_path, sample):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    db_path = tmp_path / "r.sqlite3"
    registry = Registry.open(db_path)
    table = load_table(sample.path)
    mapping = guess(table.headers)
    planned = run_import(registry, table, mapping, operator="Kantor", as_of=AS_OF,
                         dry_run=True)
    registry.close()

    root = Path(__file__).resolve().parent.parent
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db_path), str(sample.path)],
                             cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "start"
        reader = Registry.open_readonly(db_path)
        deadline = time.monotonic() + 120
        try:
            while reader.count(RegistrationFilter()) < 3000:
                assert child.poll() is None, "the import ended before it could be killed"
                assert time.monotonic() < deadline
                time.sleep(0.01)
        finally:
            reader.close()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    registry = Registry.open(db_path)
    try:
        registry.check_integrity()
        before = registry.count(RegistrationFilter())
        assert 3000 <= before < planned.imported
        assert registry.outbox_count() == before and registry.audit_chain_ok()
        rerun = run_import(registry, table, mapping, operator="Kantor", as_of=AS_OF)
        assert rerun.imported == planned.imported - before
        assert rerun.counts["already"] == planned.counts["already"] + before
        assert registry.count(RegistrationFilter()) == planned.imported  # nothing lost
        niks = [r[0] for r in registry.db_for_tests.execute("SELECT nik FROM workers")]
        assert len(niks) == len(set(niks))  # nobody twice
        assert registry.outbox_count() == planned.imported
        assert registry.audit_chain_ok()
    finally:
        registry.close()


def test_a_formula_error_result_is_named_not_read_as_empty(tmp_path):
    """calamine reads an error result (#N/A) as an empty cell; the import names it."""
    import io
    import zipfile

    [row] = office_rows(1, seed=3, as_of=AS_OF)
    from storage.sample_lists import write_xlsx

    plain = write_xlsx(tmp_path / "a.xlsx", [dict(row, nama_lengkap="=NA()")])
    source = zipfile.ZipFile(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = data.replace(b'<c r="B2"><f>NA()</f><v /></c>',
                                    b'<c r="B2" t="e"><f>NA()</f><v>#N/A</v></c>')
            target.writestr(item, data)
    path = tmp_path / "b.xlsx"
    path.write_bytes(out.getvalue())
    registry = Registry.open(tmp_path / "r.sqlite3")
    try:
        report = import_csv(registry, path, operator="Kantor", as_of=AS_OF)
        assert report.imported == 0
        assert "Sel B2 (nama_lengkap) berisi galat rumus #N/A" in report.skipped[0].reasons[0]
    finally:
        registry.close()


def test_dates_from_day_counts_are_the_right_days():
    from storage.import_cells import cell_text

    assert cell_text("tanggal_lahir", 32874) == ("1990-01-01", None)
    assert cell_text("tanggal_lahir", 32874.0) == ("1990-01-01", None)
    assert cell_text("tanggal_lahir", date(1990, 1, 1) + timedelta(0)) == ("1990-01-01", None)
    text, problem = cell_text("tanggal_lahir", 19900101)
    assert text == "" and "bukan tanggal" in problem
