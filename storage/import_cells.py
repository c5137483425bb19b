"""What a spreadsheet cell means for one column of the import, or why it cannot be trusted.

Excel changes what people type: a NIK typed into a number cell keeps only 15 significant digits
(the 16th becomes 0), a long number is shown as `1.57101E+15`, a phone number loses its leading
0, a date becomes a day count (32874) or stays text in whatever order the typist used. The CSV
and the XLSX import both pass every cell through `cell_text`, so the same rules hold for both:
a NIK is taken only when every digit is certain, otherwise the row is refused with the reason.
Messages are Indonesian and never carry a full NIK.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta

from storage.models import mask_nik

NIK_FIELDS = ("nik", "ahli_waris_nik")
PHONE_FIELDS = ("no_hp", "ahli_waris_hp")
DATE_FIELDS = ("tanggal_lahir",)
EXACT_FLOAT_LIMIT = 2 ** 53  # every integer below it is exact in a double (Excel's numbers)
EXCEL_EPOCH = date(1899, 12, 30)  # day 0 of Excel's 1900 date system (its 1900 leap-year bug)
SERIAL_RANGE = (1, 73_050)  # 1900-01-01 … 2099-12-31: a day count that can be a birth date
EXCEL_ERRORS = ("#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!",
                "#SPILL!", "#CALC!", "#GETTING_DATA")
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d*)?[eE][+-]?\d+$")
_FLOAT_TEXT = re.compile(r"^\d+\.0+$")  # '1571010101909901.0': a number printed by a program
LABELS = {"nik": "NIK", "ahli_waris_nik": "NIK ahli waris", "tanggal_lahir": "Tanggal lahir"}

_RETYPE = "Ubah kolom menjadi Teks di Excel dan ketik ulang dari KTP."


def cell_text(field: str, value: object) -> tuple[str, str | None]:
    """The text the import reads for `field` from a cell holding `value` (str, int, float, bool,
    date, datetime, None), and a problem (Indonesian) when the cell cannot be trusted."""
    if value is None:
        return "", None
    if isinstance(value, bool):
        return ("ya" if value else "tidak"), None
    if isinstance(value, datetime | date | time | timedelta):
        return _temporal(field, value)
    if isinstance(value, int | float):
        return _number(field, value)
    text = str(value).strip()
    if text in EXCEL_ERRORS:
        return "", f"Kolom {field} berisi galat rumus {text}; perbaiki rumusnya di Excel."
    if field in NIK_FIELDS and _SCIENTIFIC.match(text):
        return "", (f"{LABELS[field]} tertulis sebagai {text} (notasi ilmiah Excel): angka-angka "
                    f"terakhirnya sudah hilang. {_RETYPE}")
    if field in NIK_FIELDS and _FLOAT_TEXT.match(text):
        return _number(field, float(text))
    return text, None


def _temporal(field: str, value: date | datetime | time | timedelta) -> tuple[str, str | None]:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date) and field not in NIK_FIELDS:
        return value.isoformat(), None
    label = LABELS.get(field, field)
    return "", f"{label} tersimpan sebagai tanggal atau jam ({value}); isi dengan teks."


def _number(field: str, value: int | float) -> tuple[str, str | None]:
    if isinstance(value, float) and not math.isfinite(value):
        return "", f"Kolom {field} berisi angka yang tidak sah."
    if field in NIK_FIELDS:
        return _nik_number(field, value)
    if field in DATE_FIELDS:
        return _serial_date(value)
    whole = isinstance(value, int) or value.is_integer()
    text = str(int(value)) if whole else repr(value)
    if field in PHONE_FIELDS and whole:
        # A number cell drops the leading 0 of 0812… (and the + of +62…).
        if text.startswith("8"):
            return "0" + text, None
        if text.startswith("62"):
            return "+" + text, None
    return text, None


def _nik_number(field: str, value: int | float) -> tuple[str, str | None]:
    """A NIK stored as a number: taken only when all 16 digits are certainly the typed ones."""
    label = LABELS[field]
    if isinstance(value, float) and not value.is_integer():
        return "", f"{label} tersimpan sebagai angka pecahan, bukan 16 angka. {_RETYPE}"
    number = int(value)
    digits = str(number)
    if number >= EXACT_FLOAT_LIMIT:
        return "", (f"{label} tersimpan sebagai angka yang terlalu besar untuk disimpan tepat "
                    f"oleh Excel ({mask_nik(digits)}). {_RETYPE}")
    if len(digits) != 16:
        return "", (f"{label} tersimpan sebagai angka dengan {len(digits)} angka, bukan 16 "
                    f"(angka di depan atau di belakang hilang?). {_RETYPE}")
    if digits.endswith("0"):
        # Excel keeps 15 significant digits: a NIK typed into a number cell ends in 0 whatever
        # its last digit was. A program may have written a true 0, but nobody can tell which.
        return "", (f"{label} tersimpan sebagai angka ({mask_nik(digits)}); Excel hanya "
                    f"menyimpan 15 angka pertama, jadi angka terakhir mungkin bukan 0. {_RETYPE}")
    return digits, None


def _serial_date(value: int | float) -> tuple[str, str | None]:
    """Excel's day count (32874 is 1990-01-01) when the cell lost its date format."""
    if float(value).is_integer() and SERIAL_RANGE[0] <= value <= SERIAL_RANGE[1]:
        return (EXCEL_EPOCH + timedelta(days=int(value))).isoformat(), None
    shown = str(int(value)) if float(value).is_integer() else str(value)
    return "", (f"Tanggal lahir tersimpan sebagai angka {shown} yang bukan tanggal; tulis "
                "HH-BB-TTTT.")
