"""Reading an XLSX list: python-calamine (Rust), about twelve times faster than openpyxl's
read-only mode on the city's 15,000-row list (docs/ARCHITECTURE.md has the numbers).

What Excel users do to lists, and what happens here:
- hidden sheets (lookup lists, old versions) are never imported, and the notice names them;
- a title above the header row is skipped: the header is the row naming the most known columns;
- merged cells count as their value in every cell they cover; a merged heading over a second
  header row ("Ahli Waris" over "Nama | Hubungan") becomes "Ahli Waris Nama", …;
- formulas count as the result Excel stored with them; a formula saved without a result (a
  file written by a program) leaves the cell unknown, and its row is refused with the cell named;
- numbers, dates and text are passed on typed; storage/import_cells.py judges each cell.
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree

from storage.csv_import import ImportFileError
from storage.import_mapping import column_index, column_letter, guess, known_field
from storage.import_table import SourceTable, header_row

_NOT_XLSX = ("Berkas ini bukan lembar kerja XLSX yang dapat dibaca (rusak, atau berkas lain "
             "yang diberi nama .xlsx). Simpan daftar dari Excel sebagai Buku Kerja Excel (.xlsx) "
             "atau CSV.")
_CELL = re.compile(rb'<c\b([^>]*?\br="([A-Z]{1,3})(\d+)"[^>]*)(?<!/)>(.*?)</c>', re.S)
_ERROR_TYPE = re.compile(rb'\bt="e"')
_VALUE = re.compile(rb"<v>[^<]+</v>")


def read_xlsx(raw: bytes, *, name: str = "", sheet: str | None = None) -> SourceTable:
    from python_calamine import CalamineWorkbook, PasswordError

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(raw))
    except PasswordError as exc:
        raise ImportFileError("Berkas Excel ini dilindungi kata sandi; hapus kata sandinya di "
                              "Excel, simpan, lalu impor lagi.") from exc
    except Exception as exc:  # noqa: BLE001 - calamine raises several kinds for a bad file
        raise ImportFileError(_NOT_XLSX) from exc
    with book:
        visible, hidden = _sheet_names(book)
        notices = []
        if hidden:
            notices.append("Lembar tersembunyi tidak diimpor: "
                           + ", ".join(f"'{h}'" for h in hidden) + ".")
        chosen, rows = _choose_sheet(book, visible, hidden, sheet)
        merged = _merged(book, chosen)
    if len(visible) > 1:
        notices.append(f"Berkas berisi {len(visible)} lembar; yang diimpor lembar '{chosen}'.")
    table = _table(rows, merged, name=name, sheet=chosen, notices=notices)
    table.formula_cells = _formula_cells(raw, chosen, table.header_line)
    unknown = sum(1 for v in table.formula_cells.values() if not v)
    if unknown:
        table.notices.append(f"{unknown} sel berisi rumus tanpa hasil tersimpan; baris-barisnya "
                             "ditolak. Buka berkas di Excel atau LibreOffice dan simpan ulang "
                             "agar hasil rumus ikut tersimpan.")
    return table


def _sheet_names(book) -> tuple[list[str], list[str]]:
    from python_calamine import SheetTypeEnum, SheetVisibleEnum

    visible, hidden = [], []
    for meta in book.sheets_metadata:
        if meta.typ != SheetTypeEnum.WorkSheet:
            continue
        (visible if meta.visible == SheetVisibleEnum.Visible else hidden).append(meta.name)
    return visible, hidden


def _read(book, name: str) -> list[list]:
    try:
        return book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception as exc:  # noqa: BLE001 - a damaged sheet
        raise ImportFileError(f"Lembar '{name}' tidak dapat dibaca: {exc}.") from exc


def _choose_sheet(book, visible: list[str], hidden: list[str],
                  wanted: str | None) -> tuple[str, list[list]]:
    """The named sheet, else the first visible sheet whose header names known columns, else
    the first visible sheet with anything in it."""
    if wanted:
        if wanted in hidden:
            raise ImportFileError(f"Lembar '{wanted}' tersembunyi. Tampilkan lembar itu di "
                                  "Excel (klik kanan tab lembar → Tampilkan) bila memang ini "
                                  "daftarnya, lalu impor lagi.")
        if wanted not in visible:
            raise ImportFileError(f"Lembar '{wanted}' tidak ada. Lembar yang ada: "
                                  + ", ".join(f"'{v}'" for v in visible) + ".")
        return wanted, _read(book, wanted)
    fallback = None
    for name in visible:
        rows = _read(book, name)
        if not any(_filled(r) for r in rows):
            continue
        head = rows[header_row(rows)]
        if len({known_field(v) for v in head if isinstance(v, str)} - {""}) >= 2:
            return name, rows
        fallback = fallback or (name, rows)
    if fallback:
        return fallback
    where = (" Data hanya ada di lembar tersembunyi " + ", ".join(f"'{h}'" for h in hidden)
             + "; tampilkan lembar itu di Excel bila memang daftarnya.") if hidden else ""
    raise ImportFileError("Berkas tidak berisi data di lembar yang terlihat." + where)


def _merged(book, name: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    try:
        return list(book.get_sheet_by_name(name).merged_cell_ranges or [])
    except Exception:  # noqa: BLE001 - older files without merge records
        return []


def _filled(values: list) -> bool:
    return any(v is not None and str(v).strip() for v in values)


def _table(rows: list[list], merged, *, name: str, sheet: str,
           notices: list[str]) -> SourceTable:
    rows = [list(r) for r in rows]
    if not any(_filled(r) for r in rows):
        raise ImportFileError(f"Lembar '{sheet}' kosong.")
    width = max((len(r) for r in rows), default=0)
    for r in rows:
        r.extend([""] * (width - len(r)))
    _fill_merged(rows, merged)
    found = header_row(rows)
    # The header may be two rows: a merged heading ("Ahli Waris") over the names of the
    # columns it covers. Both readings of the row found and of the row above it are tried;
    # the one naming the most known columns wins (a merged title above a one-row header names
    # none).
    candidates = [c for h in (found - 1, found) if h >= 0 for c in _readings(rows, merged, h)]
    head, headers, first_data = max(candidates, key=lambda c: (
        sum(1 for m in guess(c[1]) if m), c[0] == found, c[2] == c[0] + 1))
    if first_data == head + 2:
        first = next(c0 for c0, _c1 in _across(merged, head))
        notices.append(f"Judul kolom dua baris (baris {head + 1}–{head + 2}) dengan sel "
                       f"digabung dibaca sebagai satu judul, mis. '{headers[first]}'.")
    elif _across(merged, head):
        spans = ", ".join(f"{column_letter(c0)}{head + 1}:{column_letter(c1)}{head + 1}"
                          for c0, c1 in _across(merged, head))
        notices.append(f"Judul kolom digabung di {spans}: kolom-kolom itu berjudul sama. "
                       "Pilih sendiri kolom mana yang mana pada pemetaan kolom.")
    if any(r0 >= first_data for (r0, _c0), _end in merged):
        notices.append("Sel digabung di baris data dibaca sebagai nilai yang sama di setiap "
                       "baris yang digabung.")
    while headers and not headers[-1] and all(not _filled([r[len(headers) - 1]])
                                              for r in rows[first_data:]):
        headers.pop()  # empty columns at the right edge
    body = [(index + 1, r[:len(headers)]) for index, r in enumerate(rows)
            if index >= first_data and _filled(r)]
    return SourceTable(name=name, kind="xlsx", headers=headers, rows=body,
                       header_line=head + 1, sheet=sheet, notices=notices)


def _across(merged, row: int) -> list[tuple[int, int]]:
    """Column spans of the cells merged across columns in `row`."""
    return [(c0, c1) for (r0, c0), (r1, c1) in merged if r0 <= row <= r1 and c1 > c0]


def _readings(rows: list[list], merged, head: int) -> list[tuple[int, list[str], int]]:
    """(header row, labels, first data row) reading row `head` as the header; and joined with
    the row below, when that row could name the columns under a merged heading."""
    labels = [_label(v) for v in rows[head]]
    found = [(head, labels, head + 1)]
    across = _across(merged, head)
    if across and head + 1 < len(rows) and _is_sub_header(rows[head + 1], across):
        joined = list(labels)
        for c0, c1 in across:
            for c in range(c0, c1 + 1):
                joined[c] = f"{labels[c]} {_label(rows[head + 1][c])}".strip()
        found.append((head, joined, head + 2))
    return found


def _fill_merged(rows: list[list], merged) -> None:
    for (r0, c0), (r1, c1) in merged:
        if r0 >= len(rows) or c0 >= len(rows[r0]):
            continue
        value = rows[r0][c0]
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            for c in range(c0, min(c1, len(rows[r]) - 1) + 1):
                rows[r][c] = value


def _is_sub_header(below: list, across: list[tuple[int, int]]) -> bool:
    """The row under a merged heading names the columns it covers (text, not data)."""
    cells = [below[c] for c0, c1 in across for c in range(c0, c1 + 1)]
    return all(isinstance(v, str) and v.strip() for v in cells) and len(set(cells)) == len(cells)


def _label(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


# --- formulas without a stored result ------------------------------------------------------


def _formula_cells(raw: bytes, sheet: str, header_line: int) -> dict[tuple[int, int], str]:
    """{(line, column): ""} for formula cells below the header whose result was not saved, and
    {(line, column): "#N/A"} for cells holding an error result (calamine reads both as empty)."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            data = archive.read(_sheet_part(archive, sheet))
    except (KeyError, StopIteration, zipfile.BadZipFile, ElementTree.ParseError, OSError):
        return {}
    if b"<f" not in data and b't="e"' not in data:
        return {}
    found = {}
    for match in _CELL.finditer(data):
        attributes, body = match.group(1), match.group(4)
        error = _ERROR_TYPE.search(attributes)
        if error or (b"<f" in body and not _VALUE.search(body)):
            line = int(match.group(3))
            if line > header_line:
                value = _VALUE.search(body)
                text = value.group(0)[3:-4].decode("utf-8", "replace") if error and value else ""
                found[(line, column_index(match.group(2).decode()))] = text or (
                    "#?" if error else "")
    return found


def _sheet_part(archive: zipfile.ZipFile, sheet: str) -> str:
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
          "p": "http://schemas.openxmlformats.org/package/2006/relationships"}
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rel_id = next(s.get(f"{{{ns['r']}}}id") for s in book.iterfind(".//m:sheet", ns)
                  if s.get("name") == sheet)
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    target = next(r.get("Target") for r in rels.iterfind("p:Relationship", ns)
                  if r.get("Id") == rel_id)
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
