"""Validation of one registration: errors block the save, warnings are confirmed by the operator.

Every issue carries a stable code and the field it belongs to, so the form shows it next to the
field and the registry can record which warnings were confirmed. `validate_registration` never
raises on any content of the record: whatever the enumerator typed, a verdict comes back.

The NIK's own rules live in `storage.nik`; the business rules (age limits, duplicates) are kept
apart here, in their own functions, because they change with the programme, not with Dukcapil.
What a save does to a record before it is judged is `storage.cleaning.clean_registration`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from storage.cleaning import as_text as _text
from storage.cleaning import clean_registration  # noqa: F401 - callers find it here too
from storage.config import ProgramConfig, ProgramVersion
from storage.models import (
    COHORT_LABELS,
    HEIR_RELATIONSHIPS,
    STATUS_LABELS,
    Issue,
    Registration,
    Sex,
    ValidationResult,
)
from storage.nik import (
    NikCheck,
    check_nik,
    compare_with_entered,
    fmt_date,
    strip_separators,
)
from storage.normalize import check_phone, normalize_name
from storage.regions import RegionData

NAME_MAX = 150  # KTP names are far shorter; longer is a paste gone wrong
PLACE_MAX = 100
STREET_MAX = 200
NOTES_MAX = 2000
_RT_RW = re.compile(r"[0-9]{1,3}")
_POSTAL = re.compile(r"[0-9]{5}")


# --- duplicates ----------------------------------------------------------------------------


@dataclass
class DuplicateHit:
    """A registration that may be the same person. Carries the masked NIK only."""

    registration_id: str
    nik_masked: str = ""
    full_name: str = ""
    birth_date: date | None = None
    where: str = "local"  # "local" (this device) or "server" (pulled from the city registry)
    status: str = ""  # a Status value, when known


class DuplicateFinder(Protocol):
    def exact_nik(self, nik: str, exclude_id: str | None) -> list[DuplicateHit]: ...

    def similar(
        self, full_name: str, birth_date: date | None, exclude_id: str | None
    ) -> list[DuplicateHit]: ...


def _describe_hit(hit: Any) -> str:
    """'Siti Aminah (157101******9901), lahir 01-01-1990, di perangkat ini, status Terverifikasi'."""
    parts = []
    name = getattr(hit, "full_name", "") or "nama tidak diketahui"
    masked = getattr(hit, "nik_masked", "")
    parts.append(f"{name} ({masked})" if masked else name)
    born = getattr(hit, "birth_date", None)
    if isinstance(born, date):
        parts.append(f"lahir {fmt_date(born)}")
    where = getattr(hit, "where", None) or getattr(hit, "source", "local")
    parts.append("di server kota" if where == "server" else "di perangkat ini")
    status = getattr(hit, "status", "")
    if status:
        parts.append(f"status {STATUS_LABELS.get(status, status)}")
    return ", ".join(parts)


def _hits_issue(fld: str, code: str, hits: list, text: str) -> Issue:
    """One issue naming the first hit and how many more there are."""
    more = f" (dan {len(hits) - 1} lainnya)" if len(hits) > 1 else ""
    return Issue(fld, code, text.format(hit=_describe_hit(hits[0]), more=more))


def check_duplicates(
    nik: str, full_name: str, birth_date: date | None, exclude_id: str, finder: DuplicateFinder
) -> tuple[list[Issue], list[Issue]]:
    """An exact NIK match is an error (vector 47); a similar name with the same birth date is a
    warning, because two people can share both."""
    exact = list(finder.exact_nik(nik, exclude_id)) if nik else []
    errors = [_hits_issue(
        "nik", "duplicate.nik", exact,
        "NIK ini sudah terdaftar: {hit}{more}. Satu orang hanya boleh didaftarkan sekali; buka "
        "data yang sudah ada untuk memperbaikinya.",
    )] if exact else []
    seen = {getattr(h, "registration_id", None) for h in exact}
    similar = [
        h for h in (finder.similar(full_name, birth_date, exclude_id) if full_name else [])
        if getattr(h, "registration_id", None) not in seen
    ]
    warnings = [_hits_issue(
        "full_name", "duplicate.similar", similar,
        "Mungkin sudah terdaftar: {hit}{more} — nama mirip dan tanggal lahir sama. Periksa KTP; "
        "konfirmasi bila ini orang yang berbeda.",
    )] if similar else []
    return errors, warnings


# --- business rule: age --------------------------------------------------------------------


def age_on(birth_date: date, on: date) -> int:
    """Completed years on `on`."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def registration_day(reg: Registration, as_of: date) -> date:
    """The day the person was first registered: `created_at` for a stored record (a correction
    must not make someone too old months later), else `as_of`. The device clock may be off by
    a little; a date after `as_of` is not trusted."""
    created = _text(reg.created_at)
    try:
        day = datetime.fromisoformat(created).date() if created else None
    except ValueError:
        day = None
    return day if day is not None and day <= as_of else as_of


def check_age(birth_date: date | None, as_of: date, version: ProgramVersion) -> list[Issue]:
    """Age limits at registration (configuration; not verified, see bpjs_bpu_notes.md)."""
    birth_date = _as_date(birth_date)
    if birth_date is None or birth_date > as_of:
        return []
    age = age_on(birth_date, as_of)
    limits = f"{version.age_min}–{version.age_max} tahun"
    if age < version.age_min:
        return [Issue("birth_date", "age.too_young",
                      f"Umur pada hari pendaftaran {age} tahun; peserta harus berumur {limits}.")]
    if age > version.age_max:
        return [Issue("birth_date", "age.too_old",
                      f"Umur pada hari pendaftaran {age} tahun; peserta harus berumur {limits}.")]
    return []


# --- field rules ---------------------------------------------------------------------------


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _as_date(value: Any) -> date | None:
    """A date, or None. A datetime counts as its day (comparing the two types raises)."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def rupiah(amount: int) -> str:
    """Rp1.000.000: the Indonesian way, dots between thousands."""
    return f"Rp{amount:,}".replace(",", ".")


def _name_issues(raw: Any, fld: str, label: str, *, required: bool) -> list[Issue]:
    name = normalize_name(_text(raw))
    if not name:
        return [Issue(fld, f"{fld}.required", f"{label} wajib diisi.")] if required else []
    if len(name) > NAME_MAX:
        return [Issue(fld, f"{fld}.too_long",
                      f"{label} terlalu panjang ({len(name)} karakter; paling banyak {NAME_MAX}).")]
    if not any(ch.isalpha() for ch in name):
        return [Issue(fld, f"{fld}.no_letters", f"{label} harus berisi huruf.")]
    return []


def _person_issues(reg: Registration, nik: NikCheck, as_of: date) -> tuple[list, list]:
    errors = _name_issues(reg.full_name, "full_name", "Nama lengkap (sesuai KTP)", required=True)
    warnings = []
    if not errors and any(ch.isdigit() for ch in _text(reg.full_name)):
        warnings.append(Issue("full_name", "full_name.has_digits",
                              "Nama berisi angka. Periksa kembali sesuai KTP."))
    if len(_text(reg.birth_place)) > PLACE_MAX:
        errors.append(Issue("birth_place", "birth_place.too_long",
                            f"Tempat lahir terlalu panjang (paling banyak {PLACE_MAX} karakter)."))
    birth = _as_date(reg.birth_date)
    if reg.birth_date is None:
        errors.append(Issue("birth_date", "birth_date.required", "Tanggal lahir wajib diisi."))
    elif birth is None:
        errors.append(Issue("birth_date", "birth_date.invalid",
                            "Tanggal lahir tidak dapat dibaca; tulis sebagai tanggal-bulan-tahun."))
    elif birth > as_of:
        errors.append(Issue("birth_date", "birth_date.future",
                            f"Tanggal lahir ({fmt_date(birth)}) belum terjadi."))
    sex = _text(reg.sex)
    if not sex:
        errors.append(Issue("sex", "sex.required", "Jenis kelamin wajib dipilih."))
    elif sex not in (Sex.MALE.value, Sex.FEMALE.value):
        errors.append(Issue("sex", "sex.invalid",
                            "Jenis kelamin harus L (laki-laki) atau P (perempuan)."))
    warnings += compare_with_entered(nik, birth, sex)  # rule 11
    return errors, warnings


def _address_issues(reg: Registration, regions: RegionData) -> list[Issue]:
    errors = []
    kec, kel = _text(reg.kecamatan_code), _text(reg.kelurahan_code)
    if not kec:
        errors.append(Issue("kecamatan_code", "kecamatan_code.required", "Kecamatan wajib dipilih."))
    elif regions.kecamatan(kec) is None:
        errors.append(Issue("kecamatan_code", "kecamatan_code.unknown",
                            f"Kecamatan {kec} tidak ada di {regions.city_name}."))
    if not kel:
        errors.append(Issue("kelurahan_code", "kelurahan_code.required", "Kelurahan wajib dipilih."))
    elif regions.kelurahan(kel) is None:
        errors.append(Issue("kelurahan_code", "kelurahan_code.unknown",
                            f"Kelurahan {kel} tidak ada di {regions.city_name}."))
    elif regions.kecamatan(kec) is not None and not regions.kelurahan_belongs_to(kel, kec):
        errors.append(Issue(
            "kelurahan_code", "kelurahan_code.not_in_kecamatan",
            f"Kelurahan {regions.kelurahan(kel).name} tidak termasuk Kecamatan "
            f"{regions.kecamatan(kec).name}. Pilih kelurahan dari kecamatan yang benar.",
        ))
    for fld, label in (("rt", "RT"), ("rw", "RW")):
        value = _text(getattr(reg, fld)).strip()
        if not value:
            errors.append(Issue(fld, f"{fld}.required", f"{label} wajib diisi (contoh: 003)."))
        elif not _RT_RW.fullmatch(value) or int(value) == 0:
            errors.append(Issue(fld, f"{fld}.invalid",
                                f"{label} harus 1–3 angka dan bukan 0 (contoh: 003)."))
    postal = _text(reg.postal_code).strip()
    if postal and not _POSTAL.fullmatch(postal):
        errors.append(Issue("postal_code", "postal_code.invalid", "Kode pos harus 5 angka."))
    if len(_text(reg.street)) > STREET_MAX:
        errors.append(Issue("street", "street.too_long",
                            f"Alamat terlalu panjang (paling banyak {STREET_MAX} karakter)."))
    return errors


def _phone_issues(raw: Any, fld: str, code_prefix: str) -> list[Issue]:
    result = check_phone(_text(raw))
    if result.error is None:
        return []
    suffix = result.error.code.split(".", 1)[-1]
    return [Issue(fld, f"{code_prefix}.{suffix}", result.error.message)]


def _work_issues(
    reg: Registration, version: ProgramVersion, occupation_codes: set[str] | None
) -> tuple[list[Issue], list[Issue]]:
    errors, warnings = [], []
    occupation = _text(reg.occupation_code)
    known = occupation_codes if occupation_codes is not None else {
        o.code for o in version.occupations if o.active}
    if not occupation:
        errors.append(Issue("occupation_code", "occupation_code.required",
                            "Pekerjaan wajib dipilih."))
    elif occupation not in known:
        errors.append(Issue("occupation_code", "occupation_code.unknown",
                            "Pekerjaan tidak ada dalam daftar; pilih dari daftar pekerjaan."))
    cohort = _text(reg.cohort)
    if cohort not in version.cohorts:
        errors.append(Issue("cohort", "cohort.invalid",
                            "Kelompok peserta harus Pekerja rentan atau Petugas keagamaan."))
    else:
        # Quotas are per cohort, so a worker counted in the wrong one takes someone's place.
        entry = version.occupation(occupation)
        if entry is not None and entry.cohort and entry.cohort != cohort:
            warnings.append(Issue(
                "cohort", "cohort.occupation_mismatch",
                f"Pekerjaan {entry.name} biasanya termasuk kelompok "
                f"{COHORT_LABELS.get(entry.cohort, entry.cohort)}, tetapi yang dipilih "
                f"{COHORT_LABELS.get(cohort, cohort)}. Konfirmasi bila kelompok ini benar.",
            ))
    income = reg.monthly_income
    if income is None or income == "":
        errors.append(Issue("monthly_income", "monthly_income.required",
                            "Penghasilan per bulan wajib diisi (dalam rupiah)."))
    elif isinstance(income, bool) or not isinstance(income, int):
        errors.append(Issue("monthly_income", "monthly_income.invalid",
                            "Penghasilan per bulan harus berupa angka rupiah tanpa desimal."))
    elif income < version.income_min:
        errors.append(Issue("monthly_income", "monthly_income.too_low",
                            "Penghasilan per bulan harus lebih dari 0."))
    elif income > version.income_max:
        errors.append(Issue("monthly_income", "monthly_income.too_high",
                            f"Penghasilan {rupiah(income)} per bulan tidak wajar; periksa "
                            "jumlah angka nol."))
    elif income > version.income_warn_above:
        warnings.append(Issue("monthly_income", "monthly_income.high",
                              f"Penghasilan {rupiah(income)} per bulan di atas batas tertinggi "
                              "iuran JKK; tidak biasa untuk pekerja rentan. Konfirmasi bila "
                              "benar."))
    return errors, warnings


def _heir_issues(
    heirs: Any, worker_nik: str, as_of: date, regions: RegionData
) -> tuple[list[Issue], list[Issue]]:
    errors, warnings = [], []
    items = list(heirs) if isinstance(heirs, list | tuple) else []
    if not items:
        return [Issue("heirs", "heirs.required",
                      "Ahli waris wajib diisi (sedikitnya satu orang), untuk klaim Jaminan "
                      "Kematian.")], []
    for i, heir in enumerate(items):
        where = f"heirs[{i}]"
        label = f"Ahli waris {i + 1}"
        if not normalize_name(_text(_get(heir, "name"))):
            errors.append(Issue(f"{where}.name", "heir.name_required", f"{label}: nama wajib diisi."))
        else:
            errors += [
                Issue(f"{where}.name", f"heir.name_{issue.code.rsplit('.', 1)[-1]}",
                      f"{label}: {issue.message}")
                for issue in _name_issues(_get(heir, "name"), "name", "nama", required=True)
            ]
        relationship = _text(_get(heir, "relationship"))
        if not relationship:
            errors.append(Issue(f"{where}.relationship", "heir.relationship_required",
                                f"{label}: hubungan keluarga wajib dipilih."))
        elif relationship not in HEIR_RELATIONSHIPS:
            errors.append(Issue(f"{where}.relationship", "heir.relationship_unknown",
                                f"{label}: hubungan keluarga tidak dikenal; pilih dari daftar."))
        errors += _phone_issues(_get(heir, "phone"), f"{where}.phone", "heir.phone")
        raw_nik = _text(_get(heir, "nik"))
        if strip_separators(raw_nik):  # the heir's NIK is optional
            check = check_nik(raw_nik, as_of, regions)
            if check.errors:
                errors.append(Issue(f"{where}.nik", "heir.nik_invalid",
                                    f"{label}, NIK: {check.errors[0].message}"))
            elif worker_nik and check.normalized == worker_nik:
                errors.append(Issue(f"{where}.nik", "heir.nik_same_as_worker",
                                    f"{label}: NIK ahli waris sama dengan NIK peserta."))
            else:
                warnings += [Issue(f"{where}.nik", f"heir.{w.code}", f"{label}: {w.message}")
                             for w in check.warnings if w.code != "nik.separators_removed"]
    return errors, warnings


def _consent_issues(reg: Registration, config: ProgramConfig | None) -> list[Issue]:
    errors = []
    if reg.consent_given is not True:
        errors.append(Issue("consent_given", "consent.required",
                            "Persetujuan pemrosesan data pribadi wajib diberikan sebelum "
                            "menyimpan (UU 27/2022)."))
    version = _text(reg.consent_version)
    if reg.consent_given is not True:
        return errors  # one message: the consent itself; its text's version follows from it
    if not version:
        errors.append(Issue("consent_version", "consent.version_required",
                            "Persetujuan belum dapat dicatat karena teks persetujuan yang "
                            "berlaku belum diatur di perangkat ini. Hubungi admin."))
    elif config is not None and config.consent_text(version) is None:
        errors.append(Issue("consent_version", "consent.version_unknown",
                            f"Versi teks persetujuan {version} tidak dikenal."))
    return errors


def _notes_issues(reg: Registration) -> list[Issue]:
    if len(_text(reg.notes)) > NOTES_MAX:
        return [Issue("notes", "notes.too_long",
                      f"Catatan terlalu panjang (paling banyak {NOTES_MAX} karakter).")]
    return []


# --- the whole record ----------------------------------------------------------------------


def validate_registration(
    reg: Registration,
    *,
    as_of: date,
    regions: RegionData,
    config: ProgramConfig | ProgramVersion,
    duplicates: DuplicateFinder | None = None,
    occupation_codes: Iterable[str] | None = None,
) -> ValidationResult:
    """Every rule for one registration on `as_of`.

    `config` is the programme configuration (the version in force on `as_of` is used) or one
    version. `occupation_codes`, when given, is the device's editable occupation table and
    replaces the configuration's list. `duplicates` finds earlier registrations of the same
    person; without it duplicates are not checked.
    """
    if isinstance(config, ProgramConfig):
        # A date before the programme began comes from a wrong device clock: judge the record
        # by the earliest rules rather than fail.
        full_config = config
        version = config.for_date(max(as_of, config.versions[0].valid_from))
    else:
        full_config, version = None, config
    result = ValidationResult()

    nik = check_nik(reg.nik, as_of, regions)
    result.errors += nik.errors
    result.warnings += nik.warnings

    errors, warnings = _person_issues(reg, nik, as_of)
    result.errors += errors
    result.warnings += warnings
    birth = _as_date(reg.birth_date) or nik.birth_date
    result.errors += check_age(birth, registration_day(reg, as_of), version)

    result.errors += _address_issues(reg, regions)
    result.errors += _phone_issues(reg.phone, "phone", "phone")

    codes = occupation_codes
    if codes is not None and not isinstance(codes, set | frozenset):
        codes = set(codes)
    errors, warnings = _work_issues(reg, version, codes)
    result.errors += errors
    result.warnings += warnings

    errors, warnings = _heir_issues(reg.heirs, nik.normalized, as_of, regions)
    result.errors += errors
    result.warnings += warnings

    result.errors += _consent_issues(reg, full_config)
    result.errors += _notes_issues(reg)

    if duplicates is not None and nik.valid:
        name = normalize_name(_text(reg.full_name))
        errors, warnings = check_duplicates(
            nik.normalized, name, birth, _text(reg.id), duplicates
        )
        result.errors += errors
        result.warnings += warnings
    return result
