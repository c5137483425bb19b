"""Registrations from a spreadsheet (CSV): paper forms typed up at the kelurahan office, or a list
kept in Excel before the app reached a kampung.

Every row goes through the same cleaning, rules and duplicate checks as the form, and is saved as
its own transaction: a cancelled or failed import keeps what it saved, and importing the same file
again adds nothing (the NIKs are already registered). Rows that cannot be saved are reported with
their line number, masked NIK and reasons, so they can be fixed and imported again.

The columns are declared once in COLUMNS; the README's table is checked against it.
"""

from __future__ import annotations

import csv
import io
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from storage.models import COHORT_LABELS, HEIR_RELATIONSHIPS, Heir, Registration, mask_nik

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


@dataclass
class SkippedRow:
    line: int  # line number in the file, the header being line 1
    nik_masked: str
    full_name: str
    reasons: list[str]


@dataclass
class ImportReport:
    total: int = 0
    imported: int = 0
    with_warnings: int = 0  # imported after accepting their warnings
    skipped: list[SkippedRow] = field(default_factory=list)
    cancelled: bool = False

    @property
    def done(self) -> int:
        return self.imported + len(self.skipped)


def header_key(text: str) -> str:
    """'Nama Lengkap', 'nama-lengkap' and 'NAMA_LENGKAP' are the same column."""
    return re.sub(r"[\s\-]+", "_", text.strip().lstrip("\ufeff").casefold())


def read_rows(path: str | Path) -> list[tuple[int, dict[str, str]]]:
    """(line, {column: text}) for each row, the header being line 1; blank rows are dropped. Semicolons (Excel in
    Indonesian) and commas are both understood; UTF-8 with or without BOM, else Windows-1252."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ImportFileError("Berkas terlalu besar untuk daftar pendaftaran.")
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"Berkas tidak dapat dibuka: {exc.strerror or exc}.") from exc
    text = _decode(raw)
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ImportFileError(f"Berkas bukan CSV yang dapat dibaca: {exc}.") from exc
    if not rows:
        raise ImportFileError("Berkas kosong: baris pertama harus berisi nama kolom.")
    keys = [header_key(name) for name in rows[0]]
    missing = [c.name for c in COLUMNS if c.required and c.name not in keys]
    if missing:
        raise ImportFileError(
            "Kolom wajib tidak ada: " + ", ".join(missing) + ". Baris pertama harus berisi "
            "nama kolom seperti di panduan (README, bagian Impor CSV)."
        )
    rows = [(line, values) for line, values in enumerate(rows[1:], start=2)
            if any(v.strip() for v in values)]
    if len(rows) > MAX_ROWS:
        raise ImportFileError(f"Berkas berisi lebih dari {MAX_ROWS:,} baris.".replace(",", "."))
    return [(line, {k: v.strip() for k, v in zip(keys, values, strict=False) if k in _NAMES})
            for line, values in rows]


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


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


def _date(text: str, problems: list[str]) -> date | None:
    text = text.strip()
    if not text:
        return None
    for fmt in ("%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
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


def import_csv(registry, path: str | Path, *, operator: str, as_of: date | None = None,
               event_id: str | None = None, accept_warnings: bool = False,
               progress: Callable[[int, int], None] | None = None,
               cancel: threading.Event | None = None) -> ImportReport:
    """Save every row of the file that passes the rules. Rows with warnings (a similar name, a
    NIK that does not match the birth date) are skipped unless `accept_warnings`: nobody is
    there to confirm them row by row. ImportFileError when the file cannot be read at all."""
    from storage.registry import now_iso

    as_of = as_of or date.today()
    rows = read_rows(path)
    config = registry.config
    occupations = {o.code: o.name for o in registry.occupations()}
    consent = config.current_consent(as_of).version
    version = config.for_date(max(as_of, config.versions[0].valid_from))
    report = ImportReport(total=len(rows))
    for index, (line, row) in enumerate(rows):
        if cancel is not None and cancel.is_set():
            report.cancelled = True
            break
        reg, problems = row_to_registration(
            row, regions=registry.regions, version=version, occupations=occupations,
            consent_version=consent, event_id=event_id, now=now_iso(), as_of=as_of)
        _import_row(registry, reg, problems, line, operator, as_of, accept_warnings, report)
        if progress is not None and not (cancel is not None and cancel.is_set()):
            progress(index + 1, len(rows))  # after a cancel the loop ends with the report
    return report


def _import_row(registry, reg: Registration, problems: list[str], line: int, operator: str,
                as_of: date, accept_warnings: bool, report: ImportReport) -> None:
    def skip(reasons: list[str]) -> None:
        report.skipped.append(SkippedRow(line, mask_nik(reg.nik.strip()),
                                         reg.full_name.strip(), reasons))

    if problems:
        skip(problems)
        return
    result = registry.save(reg, operator=operator, as_of=as_of)
    if not result.saved and not result.validation.errors and accept_warnings:
        codes = [w.code for w in result.validation.warnings]
        result = registry.save(reg, operator=operator, as_of=as_of, confirmed_warnings=codes)
        report.with_warnings += result.saved
    if result.saved:
        report.imported += 1
    else:
        issues = result.validation.errors or result.validation.warnings
        skip([issue.message for issue in issues])


def write_skipped(report: ImportReport, path: str | Path) -> None:
    """The skipped rows as CSV (semicolons, for Excel): line, masked NIK, name, reasons. Only the
    masked NIK: the report may be mailed or printed."""
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["baris", "nik", "nama_lengkap", "alasan"])
        for row in report.skipped:
            writer.writerow([row.line, row.nik_masked, row.full_name, " | ".join(row.reasons)])
