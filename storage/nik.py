"""NIK (Nomor Induk Kependudukan) rules: `../shared/data/nik/nik_cases.md` sections 1, 2 and 4.

Structure: PP KK CC DD MM YY SSSS. Hard rules (1–8) make a NIK invalid; soft rules (9–11) are
warnings the operator confirms. Rule 12 (NIK kecamatan differs from the address) is normal and
never reported: the NIK keeps the place of first registration for life.

The reference date `as_of` is always passed in, never read from the clock, because the century
of YY depends on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from storage.models import Issue, Sex
from storage.regions import RegionData
from storage.vocabulary import show_date

NIK_LENGTH = 16
ASCII_DIGITS = frozenset("0123456789")
FEMALE_DAY_OFFSET = 40

# Characters people type or paste between digit groups ("1571 0101 0190 9928", "1571.01...").
# `\s` covers tabs and non-breaking spaces copied from documents; zero-width characters and the
# byte-order mark come along invisibly when a NIK is copied from a chat or a spreadsheet.
_SEPARATORS = re.compile(r"[\s.\-\u2010-\u2015\u200b-\u200d\u2060\ufeff]")


@dataclass
class NikCheck:
    normalized: str = ""  # the 16 digits, or "" when the input is not 16 ASCII digits
    valid: bool = False
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    birth_date: date | None = None
    sex: str = ""  # Sex value, or "" when not derivable


def _issue(code: str, message: str, fld: str = "nik") -> Issue:
    return Issue(field=fld, code=f"nik.{code}", message=message)


# Dates in messages are written the Indonesian way, 05-12-1985: the vocabulary's format.
fmt_date = show_date


def strip_separators(raw: str) -> str:
    """The input without surrounding whitespace and group separators (spaces, dots, dashes)."""
    return _SEPARATORS.sub("", raw)


def _date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def decode_birth(dd: int, mm: int, yy: int, as_of: date) -> tuple[date | None, str]:
    """Birth date and sex from the DD, MM, YY fields (rules 4–7), or (None, sex) if no such
    date exists. Sex is "" when the day field is outside 01–31 and 41–71."""
    if 1 <= dd <= 31:
        sex, day = Sex.MALE.value, dd
    elif 41 <= dd <= 71:
        sex, day = Sex.FEMALE.value, dd - FEMALE_DAY_OFFSET
    else:
        return None, ""
    if not 1 <= mm <= 12:
        return None, sex
    # Rule 7, sliding century: 20YY unless that is after as_of, then 19YY.
    recent = _date_or_none(2000 + yy, mm, day)
    if recent is not None and recent <= as_of:
        return recent, sex
    older = _date_or_none(1900 + yy, mm, day)
    if older is not None and older <= as_of:
        return older, sex
    return None, sex


def derive_birth_date_and_sex(nik: str, as_of: date) -> tuple[date | None, str]:
    """Birth date and sex encoded in a NIK, offered as defaults on the form.
    (None, "") when the NIK is not 16 digits or its date fields are impossible."""
    digits = strip_separators(nik) if isinstance(nik, str) else ""
    if len(digits) != NIK_LENGTH or not set(digits) <= ASCII_DIGITS:
        return None, ""
    birth, sex = decode_birth(int(digits[6:8]), int(digits[8:10]), int(digits[10:12]), as_of)
    return (birth, sex) if birth else (None, "")


def _character_errors(compact: str) -> list[Issue]:
    """Rule 1, characters: only ASCII 0–9. Other scripts' digits are refused, not converted:
    the number must be copied from the KTP exactly."""
    bad = [ch for ch in compact if ch not in ASCII_DIGITS]
    if not bad:
        return []
    if any(ch.isdigit() for ch in bad):
        message = (
            "NIK harus ditulis dengan angka biasa 0–9; ditemukan angka dari tulisan lain "
            "(misalnya angka Arab atau angka lebar). Ketik ulang NIK dari KTP."
        )
        return [_issue("non_ascii_digits", message)]
    shown = ", ".join(f'"{ch}"' for ch in dict.fromkeys(bad[:3]))
    message = f"NIK hanya boleh berisi angka 0–9; ditemukan {shown}."
    if "O" in bad or "o" in bad:
        message += " Huruf O mungkin maksudnya angka 0."
    return [_issue("not_digits", message)]


def _region_issues(nik: str, regions: RegionData) -> tuple[list[Issue], list[Issue]]:
    """Rules 2, 3 (hard) and 9, 10 (soft) on digits 1–6."""
    errors, warnings = [], []
    pp, kk, cc = nik[0:2], nik[2:4], nik[4:6]
    if not regions.is_province(pp):
        errors.append(_issue(
            "province_unknown",
            f"Kode provinsi {pp} pada NIK (angka ke-1 dan ke-2) bukan kode provinsi Kemendagri.",
        ))
    if kk == "00":
        errors.append(_issue(
            "kabkota_zero", "Kode kabupaten/kota 00 pada NIK (angka ke-3 dan ke-4) tidak pernah "
            "dipakai. Periksa kembali NIK pada KTP.",
        ))
    if cc == "00":
        errors.append(_issue(
            "kecamatan_zero", "Kode kecamatan 00 pada NIK (angka ke-5 dan ke-6) tidak pernah "
            "dipakai. Periksa kembali NIK pada KTP.",
        ))
    if errors:
        return errors, warnings
    ppkk = f"{pp}.{kk}"
    if regions.is_historical_kabkota(ppkk):
        warnings.append(_issue(
            "kabkota_historical",
            f"Kode kabupaten/kota {ppkk} pada NIK tidak ada dalam daftar Kemendagri saat ini; "
            f"ini kode lama sebelum pemekaran ({regions.kabkota_name(ppkk)}). NIK tidak berubah "
            "setelah pemekaran; konfirmasi bila NIK sesuai KTP.",
        ))
    elif not regions.is_current_kabkota(ppkk):
        warnings.append(_issue(
            "kabkota_unknown",
            f"Kode kabupaten/kota {ppkk} pada NIK tidak ada dalam daftar Kemendagri saat ini "
            "maupun terdahulu. Periksa NIK pada KTP; konfirmasi bila sudah sesuai.",
        ))
    elif pp + kk == regions.city_nik_prefix and not regions.is_city_kecamatan_nik_code(cc):
        warnings.append(_issue(
            "kecamatan_unknown",
            f"Kode kecamatan {ppkk}.{cc} pada NIK tidak dikenal di {regions.city_name}. "
            "Periksa NIK pada KTP; konfirmasi bila sudah sesuai.",
        ))
    return errors, warnings


def _date_issues(nik: str, as_of: date) -> tuple[list[Issue], date | None, str]:
    """Rules 4–7 on digits 7–12."""
    dd, mm, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    errors = []
    if not (1 <= dd <= 31 or 41 <= dd <= 71):
        errors.append(_issue(
            "day",
            f"Tanggal lahir pada NIK (angka ke-7 dan ke-8) adalah {nik[6:8]}; harus 01–31 "
            "untuk laki-laki atau 41–71 untuk perempuan (tanggal + 40).",
        ))
    if not 1 <= mm <= 12:
        errors.append(_issue(
            "month", f"Bulan lahir pada NIK (angka ke-9 dan ke-10) adalah {nik[8:10]}; harus 01–12.",
        ))
    if errors:
        return errors, None, ""
    birth, sex = decode_birth(dd, mm, yy, as_of)
    if birth is None:
        day = dd - FEMALE_DAY_OFFSET if dd > 31 else dd
        errors.append(_issue(
            "date_invalid",
            f"Tanggal lahir pada NIK ({day:02d}-{mm:02d}-{yy:02d}) tidak ada di kalender "
            f"(tahun 19{yy:02d} maupun 20{yy:02d}).",
        ))
        return errors, None, ""
    return errors, birth, sex


def check_nik(raw: str, as_of: date, regions: RegionData) -> NikCheck:
    """Every hard rule (1–8) and the region soft rules (9, 10). Rule 11 needs the entered
    birth date and sex: see `compare_with_entered`."""
    result = NikCheck()
    text = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
    compact = strip_separators(text)
    if not compact:
        result.errors.append(_issue("required", "NIK wajib diisi (16 angka sesuai KTP)."))
        return result
    result.errors += _character_errors(compact)
    if len(compact) != NIK_LENGTH:
        result.errors.append(_issue(
            "length", f"NIK harus 16 angka; yang dimasukkan {len(compact)} "
            f"{'angka' if not result.errors else 'karakter'}.",
        ))
    if result.errors:
        return result

    result.normalized = compact
    if compact != text:
        result.warnings.append(_issue(
            "separators_removed",
            "Spasi, titik atau tanda hubung pada NIK telah dihapus. Periksa bahwa NIK "
            f"{compact[:6]}… sesuai KTP.",
        ))
    region_errors, region_warnings = _region_issues(compact, regions)
    date_errors, birth, sex = _date_issues(compact, as_of)
    result.errors += region_errors + date_errors
    if compact[12:] == "0000":
        result.errors.append(_issue(
            "serial_zero", "Nomor urut pada NIK (4 angka terakhir) tidak boleh 0000; "
            "nomor urut dimulai dari 0001.",
        ))
    result.warnings += region_warnings
    result.birth_date, result.sex = birth, sex
    result.valid = not result.errors
    return result


def compare_with_entered(
    check: NikCheck, birth_date: date | None, sex: str, *, field_prefix: str = ""
) -> list[Issue]:
    """Rule 11: warnings when the entered (KTP/KK) sex or birth date differs from the NIK.
    Never an error: Dukcapil does not change a NIK when the birth date is corrected."""
    if not check.valid:
        return []
    warnings = []
    if sex in (Sex.MALE.value, Sex.FEMALE.value) and check.sex and sex != check.sex:
        said = "perempuan" if check.sex == Sex.FEMALE.value else "laki-laki"
        entered = "perempuan" if sex == Sex.FEMALE.value else "laki-laki"
        warnings.append(_issue(
            "sex_mismatch",
            f"Menurut NIK (angka ke-7 dan ke-8 = {check.normalized[6:8]}) orang ini {said}, "
            f"tetapi yang dimasukkan {entered}. Konfirmasi bila data KTP benar.",
            fld=f"{field_prefix}sex",
        ))
    if isinstance(birth_date, date) and check.birth_date and birth_date != check.birth_date:
        warnings.append(_issue(
            "dob_mismatch",
            f"Tanggal lahir pada NIK ({fmt_date(check.birth_date)}) berbeda dengan yang "
            f"dimasukkan ({fmt_date(birth_date)}). NIK tidak berubah bila tanggal lahir "
            "dikoreksi Dukcapil; konfirmasi bila data KTP benar.",
            fld=f"{field_prefix}birth_date",
        ))
    return warnings
