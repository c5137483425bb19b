"""Registrations from a spreadsheet (CSV or XLSX): paper forms typed up at the kelurahan office,
or a list kept in Excel before the app reached a kampung.

Every row goes through the same cleaning, rules and duplicate checks as the form. Rows are saved
in groups, one transaction each (storage/import_run.py): a cancelled, failed or killed import keeps
every group it finished, and importing the same file again adds nobody twice (their NIKs are
already registered). Rows that cannot be saved are reported with their line number, masked NIK
and reasons, so they can be fixed and imported again.

This module declares the columns (COLUMNS; the README's table is checked against it), turns one
row into a Registration, and holds the report. Reading files: storage/import_table.py (CSV) and
storage/xlsx_import.py; which column is which: storage/import_mapping.py; what a cell means:
storage/import_cells.py.
"""

from __future__ import annotations

import csv
import functools
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from storage.models import COHORT_LABELS, HEIR_RELATIONSHIPS, Heir, Registration

if TYPE_CHECKING:
    from storage.registry import Registry

MAX_ROWS = 300_000  # more than a whole city: a file this long is not a registration list
MAX_FILE_BYTES = 200 * 1024 * 1024
YES = {"ya", "y", "yes", "1", "true", "benar", "setuju"}


@dataclass(frozen=True)
class Column:
    name: str  # header in the file (case, spaces and dashes do not matter)
    required: bool
    help: str  # Indonesian, for the README and the error messages


COLUMNS = (
    Column("nik", True, "16 angka sesuai KTP"),
    Column("nama_lengkap", True, "sesuai KTP"),
    Column("tempat_lahir", False, ""),
    Column("tanggal_lahir", False, "HH-BB-TTTT atau TTTT-BB-HH; kosong: dari NIK"),
    Column("jenis_kelamin", False, "L atau P; kosong: dari NIK"),
    Column("alamat", False, "jalan dan nomor"),
    Column("rt", True, ""),
    Column("rw", True, ""),
    Column("kecamatan", True, "kode Kemendagri (15.71.01) atau nama"),
    Column("kelurahan", True, "kode Kemendagri (15.71.01.1001) atau nama"),
    Column("kode_pos", False, "kosong: dari data wilayah"),
    Column("no_hp", False, "08… atau +62 8…"),
    Column("pekerjaan", True, "kode atau nama dari daftar pekerjaan"),
    Column("kelompok", False, "pekerja_rentan atau petugas_keagamaan; kosong: dari pekerjaan"),
    Column("penghasilan", True, "rupiah per bulan, boleh dengan titik"),
    Column("ahli_waris_nama", True, ""),
    Column("ahli_waris_hubungan", True, ", ".join(HEIR_RELATIONSHIPS)),
    Column("ahli_waris_hp", False, ""),
    Column("ahli_waris_nik", False, ""),
    Column("persetujuan", True, "ya: formulir persetujuan sudah ditandatangani"),
    Column("catatan", False, ""),
)
_NAMES = {c.name for c in COLUMNS}


class ImportFileError(Exception):
    """The file as a whole cannot be imported (not CSV, required columns missing, too large).
    The message is Indonesian, for the operator."""


KINDS = ("new", "already", "similar", "warnings", "refused")
# new: passes every rule; already: the same NIK is registered (here, on the server, or earlier in
# the file); similar: a similar name with the same birth date; warnings: other warnings only;
# refused: errors, or a cell that cannot be trusted.


@dataclass
class SkippedRow:
    line: int  # line number in the file (the header's line + 1 for the first row)
    nik_masked: str
    full_name: str
    reasons: list[str]
    kind: str = "refused"  # one of KINDS but "new"


@dataclass
class ImportReport:
    total: int = 0
    imported: int = 0  # saved (in a dry run: would be saved)
    with_warnings: int = 0  # imported after accepting their warnings
    skipped: list[SkippedRow] = field(default_factory=list)
    cancelled: bool = False
    dry_run: bool = False
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    notices: list[str] = field(default_factory=list)  # how the file was read

    @property
    def done(self) -> int:
        return self.imported + len(self.skipped)


def header_key(text: str) -> str:
    """'Nama Lengkap', 'nama-lengkap' and 'NAMA_LENGKAP' are the same column."""
    return re.sub(r"[\s\-]+", "_", text.strip().lstrip("\ufeff").casefold())


def read_rows(path: str | Path) -> list[tuple[int, dict[str, str]]]:
    """(line, {column: text}) for each row of a list with the documented headers, the header
    being line 1 in a CSV; blank rows are dropped. Semicolons (Excel in Indonesian) and commas
    are both understood; UTF-8 with or without BOM, else Windows-1252; or an XLSX."""
    from storage.import_run import extract
    from storage.import_table import load_table

    table = load_table(path)
    return [(line, row) for line, row, _problems in extract(table, documented_mapping(table))]


def documented_mapping(table) -> list[str]:
    """The mapping of a table whose headers are the documented names (or known ones);
    ImportFileError naming the required columns that are missing."""
    from storage.import_mapping import guess, missing_required

    mapping = guess(table.headers)
    missing = missing_required(mapping)
    if missing:
        raise ImportFileError(
            "Kolom wajib tidak ada: " + ", ".join(missing) + ". Baris judul harus berisi "
            "nama kolom seperti di panduan (README, bagian Impor daftar), atau pilih sendiri "
            "kolom mana yang mana (--map, atau langkah pemetaan kolom di jendela)."
        )
    return mapping


# --- one row ------------------------------------------------------------------------------


def row_to_registration(row: dict[str, str], *, regions, version, occupations: dict[str, str],
                        consent_version: str, event_id: str | None, now: str,
                        as_of: date) -> tuple[Registration, list[str]]:
    """The registration a row describes, and what could not be read in it (Indonesian). Values
    the rules judge (a wrong NIK, an unknown relationship) are passed on for the rules to report
    in the form's words."""
    problems: list[str] = []
    birth = _date(row.get("tanggal_lahir", ""), problems)
    kec = _region(row.get("kecamatan", ""), regions.kecamatan_list(), regions.kecamatan)
    kel_choices = regions.kelurahan_list(kec) if regions.kecamatan(kec) else []
    kel = _region(row.get("kelurahan", ""), kel_choices, regions.kelurahan)
    occupation = _occupation(row.get("pekerjaan", ""), occupations)
    entry = version.occupation(occupation)
    heirs = [Heir(name=row.get("ahli_waris_nama", ""),
                  relationship=_relationship(row.get("ahli_waris_hubungan", "")),
                  phone=row.get("ahli_waris_hp", ""), nik=row.get("ahli_waris_nik", ""))]
    reg = Registration(
        nik=row.get("nik", ""),
        full_name=row.get("nama_lengkap", ""),
        birth_place=row.get("tempat_lahir", ""),
        birth_date=birth,
        sex=_sex(row.get("jenis_kelamin", "")),
        street=row.get("alamat", ""),
        rt=row.get("rt", ""),
        rw=row.get("rw", ""),
        kecamatan_code=kec,
        kelurahan_code=kel,
        postal_code=row.get("kode_pos", "") or (regions.postal_code(kel) if kel else ""),
        phone=row.get("no_hp", ""),
        occupation_code=occupation,
        cohort=_cohort(row.get("kelompok", ""), entry.cohort if entry else ""),
        monthly_income=_income(row.get("penghasilan", ""), problems),
        heirs=heirs,
        consent_version=consent_version,
        consent_given=row.get("persetujuan", "").casefold() in YES,
        consent_at=now,
        event_id=event_id,
        notes=row.get("catatan", ""),
    )
    return _with_nik_facts(reg, regions, as_of), problems


def _with_nik_facts(reg: Registration, regions, as_of: date) -> Registration:
    """An empty birth date or sex is taken from the NIK, as the form does."""
    if reg.birth_date is not None and reg.sex:
        return reg
    from storage.nik import check_nik

    facts = check_nik(reg.nik, as_of, regions)
    if reg.birth_date is None:
        reg.birth_date = facts.birth_date
    if not reg.sex and facts.sex:
        reg.sex = facts.sex
    return reg


MONTHS = {name: number for number, names in enumerate((
    ("januari", "jan"), ("februari", "feb", "pebruari"), ("maret", "mar"), ("april", "apr"),
    ("mei",), ("juni", "jun"), ("juli", "jul"), ("agustus", "agu", "agt", "ags"),
    ("september", "sep", "sept"), ("oktober", "okt"), ("november", "nov", "nop"),
    ("desember", "des")), start=1) for name in names}


def _date(text: str, problems: list[str]) -> date | None:
    """HH-BB-TTTT (also with / or .), TTTT-BB-HH, '5 Januari 1990'; day before month, as
    Indonesians write it."""
    text = text.strip()
    if not text:
        return None
    for fmt in ("%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    words = re.fullmatch(r"(\d{1,2})[\s\-]+([A-Za-z]+)[\s\-]+(\d{4})", text)
    if words and words.group(2).casefold() in MONTHS:
        try:
            return date(int(words.group(3)), MONTHS[words.group(2).casefold()],
                        int(words.group(1)))
        except ValueError:
            pass
    problems.append(f"Tanggal lahir '{text}' tidak dapat dibaca; tulis HH-BB-TTTT.")
    return None


def _income(text: str, problems: list[str]) -> int | None:
    digits = re.sub(r"^rp\s*", "", text.strip().casefold()).replace(".", "").replace(" ", "")
    if not digits:
        return None
    if digits.isascii() and digits.isdigit():
        return int(digits)
    problems.append(f"Penghasilan '{text}' bukan angka rupiah.")
    return None


def _sex(text: str) -> str:
    key = text.strip().casefold()
    return {"l": "L", "laki-laki": "L", "laki laki": "L", "pria": "L",
            "p": "P", "perempuan": "P", "wanita": "P"}.get(key, text.strip())


@functools.lru_cache(maxsize=4096)  # region and occupation names, compared for every row
def _plain_name(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.casefold()).strip()


def _region(text: str, choices, lookup) -> str:
    """A Kemendagri code as written, or the code of the region with that name."""
    text = text.strip()
    if not text or lookup(text) is not None:
        return text
    wanted = _plain_name(text)
    match = [c.code for c in choices if _plain_name(c.name) == wanted]
    return match[0] if len(match) == 1 else text


def _occupation(text: str, occupations: dict[str, str]) -> str:
    text = text.strip()
    if text in occupations:
        return text
    wanted = _plain_name(text)
    match = [code for code, name in occupations.items() if _plain_name(name) == wanted]
    return match[0] if len(match) == 1 else text


def _relationship(text: str) -> str:
    key = header_key(text)
    if key in HEIR_RELATIONSHIPS:
        return key
    by_label = {_plain_name(label): code for code, label in HEIR_RELATIONSHIPS.items()}
    return by_label.get(_plain_name(text), text.strip())


def _cohort(text: str, default: str) -> str:
    key = header_key(text)
    if not key:
        return default or "pekerja_rentan"
    by_label = {_plain_name(label): str(code) for code, label in COHORT_LABELS.items()}
    return by_label.get(_plain_name(text), key)


# --- the whole file -----------------------------------------------------------------------


def import_csv(registry: Registry, path: str | Path, *, operator: str,
               as_of: date | None = None,
               event_id: str | None = None, accept_warnings: bool = False,
               dry_run: bool = False, group_size: int | None = None,
               progress: Callable[[int, int], None] | None = None,
               cancel: threading.Event | None = None) -> ImportReport:
    """Import the list at `path` (CSV or XLSX, told apart by content) whose headers are the
    documented ones (or names storage/import_mapping.py knows). Rows with warnings (a similar
    name, a NIK that does not match the birth date) are skipped unless `accept_warnings`:
    nobody is there to confirm them row by row. `dry_run` saves nothing and reports what an
    import would do. ImportFileError when the file cannot be read or a required column is
    missing."""
    from storage.import_run import GROUP_SIZE, run_import
    from storage.import_table import load_table

    table = load_table(path)
    mapping = documented_mapping(table)
    return run_import(registry, table, mapping, operator=operator, as_of=as_of,
                      event_id=event_id, accept_warnings=accept_warnings, dry_run=dry_run,
                      group_size=group_size or GROUP_SIZE, progress=progress, cancel=cancel)


def write_skipped(report: ImportReport, path: str | Path) -> None:
    """The skipped rows as CSV (semicolons, for Excel): line, masked NIK, name, what kind of
    row, reasons. Only the masked NIK: the report may be mailed or printed."""
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["baris", "nik", "nama_lengkap", "jenis", "alasan"])
        for row in report.skipped:
            writer.writerow([row.line, row.nik_masked, row.full_name, KIND_LABELS[row.kind],
                             " | ".join(row.reasons)])


KIND_LABELS = {
    "new": "baru",
    "already": "sudah terdaftar",
    "similar": "mungkin duplikat",
    "warnings": "menunggu peringatan diterima",
    "refused": "ditolak",
}
