"""Lists of fictitious workers as a kelurahan office keeps them in a spreadsheet: region names
instead of codes, day-month-year dates, rupiah with dots. For the import's tests, its benchmark
and for trying the import by hand. The workers come from storage/demo.py (valid NIKs with 99xx
serials, phone numbers with the unused 0800 prefix).

Writing XLSX needs openpyxl (a test dependency); it is imported only when asked for.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from storage.csv_import import COLUMNS
from storage.demo import generate_workers
from storage.models import Registration
from storage.vocabulary import show_date

HEADER = [c.name for c in COLUMNS]


def office_row(reg: Registration, regions) -> dict[str, str]:
    """One worker as an office would type it."""
    heir = reg.heirs[0]
    return {
        "nik": reg.nik, "nama_lengkap": reg.full_name, "tempat_lahir": reg.birth_place,
        "tanggal_lahir": show_date(reg.birth_date), "jenis_kelamin": reg.sex,
        "alamat": reg.street, "rt": reg.rt, "rw": reg.rw,
        "kecamatan": regions.kecamatan(reg.kecamatan_code).name,
        "kelurahan": regions.kelurahan(reg.kelurahan_code).name, "kode_pos": "",
        "no_hp": reg.phone, "pekerjaan": reg.occupation_code, "kelompok": reg.cohort,
        "penghasilan": f"{reg.monthly_income:,}".replace(",", "."),
        "ahli_waris_nama": heir.name, "ahli_waris_hubungan": heir.relationship,
        "ahli_waris_hp": heir.phone, "ahli_waris_nik": heir.nik, "persetujuan": "ya",
        "catatan": "",
    }


def office_rows(count: int, *, seed: int = 0, as_of: date | None = None,
                regions=None) -> list[dict[str, str]]:
    """`count` workers with unique NIKs, as office rows."""
    if regions is None:
        from storage.regions import load_regions

        regions = load_regions()
    return [office_row(w, regions) for w in generate_workers(count, seed=seed, as_of=as_of)]


def write_csv(path: str | Path, rows: Iterable[dict | None], *, header=HEADER,
              delimiter: str = ";", encoding: str = "utf-8-sig") -> Path:
    """A CSV as Excel in Indonesian saves it; None in `rows` is a blank line."""
    with open(path, "w", encoding=encoding, newline="") as out:
        writer = csv.DictWriter(out, fieldnames=header, delimiter=delimiter,
                                extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            if row is None:
                out.write("\r\n")
            else:
                writer.writerow(row)
    return Path(path)


def write_xlsx(path: str | Path, rows: Iterable[dict | list | None], *, header=HEADER,
               sheet: str = "Daftar") -> Path:
    """One sheet with `header` in row 1 and one row per item (a dict by header name, or a list
    of cell values as they should be stored: str, int, float, date, a formula '=...'). None is
    an empty row. Write-only mode: 15,000 rows in a few seconds."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    ws.append(list(header))
    for row in rows:
        if row is None:
            ws.append([])
        elif isinstance(row, dict):
            ws.append([row.get(name, "") for name in header])
        else:
            ws.append(list(row))
    book.save(path)
    return Path(path)
