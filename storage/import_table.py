"""A list to import, whatever file it came in: its header labels, its rows of cell values and
what the operator should know about how it was read.

`load_table(path)` looks at the bytes, not the name: an XLSX (a ZIP with a workbook) goes to
storage/xlsx_import.py, a password-protected or old-format Excel file and anything binary are
refused with a message saying what to do, and text is read as CSV.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from storage.csv_import import MAX_FILE_BYTES, MAX_ROWS, ImportFileError
from storage.import_mapping import fingerprint, known_field
from storage.vocabulary import DATE_FORMAT

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File: .xls, or an encrypted .xlsx
ZIP_MAGIC = b"PK\x03\x04"
HEADER_SEARCH_ROWS = 10  # a title and a blank row or two may stand above the header


@dataclass
class SourceTable:
    name: str  # the file's name, for messages and the remembered mapping
    kind: str  # "csv" | "xlsx"
    headers: list[str]
    rows: list[tuple[int, list]]  # (line in the file, cell values), blank rows left out
    header_line: int = 1
    sheet: str = ""
    notices: list[str] = field(default_factory=list)  # Indonesian, shown before the import
    # (line, column) -> "" for a formula saved without its result (the value is unknown), or
    # the error it stored ("#N/A"): such cells are never read as empty
    formula_cells: dict[tuple[int, int], str] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.headers)

    def sample(self, column: int, limit: int = 3) -> list[str]:
        """The first non-empty values of a column, for the mapping step."""
        found = []
        for _line, values in self.rows:
            value = values[column] if column < len(values) else None
            if isinstance(value, float) and value.is_integer():
                value = int(value)  # a spreadsheet's numbers are floats: 3.0 is shown as 3
            elif isinstance(value, date):
                value = value.strftime(DATE_FORMAT)
            if value is not None and str(value).strip():
                found.append(str(value).strip())
                if len(found) >= limit:
                    break
        return found


def load_table(path: str | Path, *, sheet: str | None = None) -> SourceTable:
    """Read the list at `path`. ImportFileError (Indonesian) when it cannot be read at all."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ImportFileError("Berkas terlalu besar untuk daftar pendaftaran.")
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"Berkas tidak dapat dibuka: {exc.strerror or exc}.") from exc
    if raw.startswith(OLE_MAGIC):
        raise ImportFileError(_ole_message(raw))
    if raw.startswith(ZIP_MAGIC):
        from storage.xlsx_import import read_xlsx

        table = read_xlsx(raw, name=path.name, sheet=sheet)
    elif b"\x00" in raw[:4096] or raw.startswith(b"%PDF"):
        raise ImportFileError("Berkas ini bukan daftar CSV atau XLSX (isinya bukan teks dan "
                              "bukan lembar kerja Excel).")
    else:
        table = read_csv_table(raw, name=path.name)
    if len(table.rows) > MAX_ROWS:
        raise ImportFileError(f"Berkas berisi lebih dari {MAX_ROWS:,} baris.".replace(",", "."))
    return table


def _ole_message(raw: bytes) -> str:
    if "EncryptionInfo".encode("utf-16-le") in raw:
        return ("Berkas Excel ini dilindungi kata sandi, jadi isinya tidak dapat dibaca. Buka "
                "di Excel, hapus kata sandinya (File → Info → Lindungi Buku Kerja → Enkripsi "
                "dengan Kata Sandi, kosongkan), simpan, lalu impor lagi.")
    return ("Berkas ini berformat Excel lama (.xls). Buka di Excel atau LibreOffice dan simpan "
            "sebagai Buku Kerja Excel (.xlsx) atau CSV, lalu impor lagi.")


def read_csv_table(raw: bytes, *, name: str = "") -> SourceTable:
    """Semicolons (Excel in Indonesian) or commas; UTF-8 with or without BOM, else
    Windows-1252. The first row names the columns."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ImportFileError(f"Berkas bukan CSV yang dapat dibaca: {exc}.") from exc
    if not rows:
        raise ImportFileError("Berkas kosong: baris pertama harus berisi nama kolom.")
    body = [(line, values) for line, values in enumerate(rows[1:], start=2)
            if any(v.strip() for v in values)]
    return SourceTable(name=name, kind="csv", headers=[h.strip() for h in rows[0]], rows=body)


def header_row(rows: list[list], limit: int = HEADER_SEARCH_ROWS) -> int:
    """Index of the row that names the most known columns among the first rows (a title may
    stand above it); the first non-empty row when none names any."""
    best, best_score, first = -1, 0, -1
    for index, values in enumerate(rows[:limit]):
        texts = [v for v in values if isinstance(v, str) and v.strip()]
        if texts and first < 0:
            first = index
        score = len({known_field(v) for v in texts} - {""})
        if score > best_score:
            best, best_score = index, score
    return best if best >= 0 else max(first, 0)
