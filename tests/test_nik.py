"""Every test vector of ../shared/data/nik/nik_cases.md §4, parsed from the table itself so the
tests follow the document; the count is asserted so no vector can silently drop out."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from storage.models import mask_nik
from storage.nik import check_nik, compare_with_entered, derive_birth_date_and_sex
from storage.regions import load_regions

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "../shared/data/nik/nik_cases.md"
AS_OF = date(2026, 11, 24)

ROW = re.compile(r"^\|\s*(\d+)\s*\|(.*)\|\s*$")


def _cells(line: str) -> tuple[int, list[str]] | None:
    match = ROW.match(line)
    if not match:
        return None
    return int(match.group(1)), [c.strip() for c in match.group(2).split("|")]


def _unquote(cell: str) -> str:
    """`" 1571… "` keeps its spaces: the quotes only make them visible in the document."""
    quoted = re.search(r"`([^`]*)`", cell)
    text = quoted.group(1) if quoted else cell.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text


def parse_vectors() -> tuple[list[tuple], list[tuple]]:
    single, cross = [], []
    section = CASES.read_text(encoding="utf-8").split("## 4. Test vectors", 1)[1]
    for line in section.splitlines():
        parsed = _cells(line)
        if parsed is None:
            continue
        number, cells = parsed
        if len(cells) == 6:  # input, case, verdict, reason, DOB / sex, python-stdnum
            verdict = cells[2].strip("* ")
            single.append((number, _unquote(cells[0]), verdict, cells[3], cells[4]))
        elif len(cells) == 3:  # NIK, entered data, expected
            cross.append((number, _unquote(cells[0]), cells[1], cells[2]))
    return single, cross


SINGLE, CROSS = parse_vectors()

# The reason column of the document, mapped to the codes check_nik gives.
REASON_CODES = [
    ("serial 0000", {"nik.serial_zero"}),
    ("kecamatan code 00", {"nik.kecamatan_zero"}),
    ("kab/kota code 00", {"nik.kabkota_zero"}),
    ("not a Kemendagri province", {"nik.province_unknown"}),
    ("no real date", {"nik.date_invalid"}),
    ("month", {"nik.month"}),
    ("day field", {"nik.day"}),
    ("length", {"nik.length"}),
    ("non-digit", {"nik.not_digits", "nik.non_ascii_digits"}),
    ("separators/whitespace removed", {"nik.separators_removed"}),
    ("historical code", {"nik.kabkota_historical"}),
    ("not in any edition", {"nik.kabkota_unknown"}),
    ("kecamatan 15.71.12 unknown", {"nik.kecamatan_unknown"}),
]


def expected_codes(reason: str) -> set[str]:
    for needle, codes in REASON_CODES:
        if needle in reason:
            return codes
    raise AssertionError(f"no code mapped for reason {reason!r}")


@pytest.fixture(scope="module")
def regions():
    return load_regions()


def test_every_vector_is_parsed():
    assert [v[0] for v in SINGLE] == list(range(1, 44))
    assert [v[0] for v in CROSS] == list(range(44, 50))
    assert len(SINGLE) + len(CROSS) == 43 + 6


@pytest.mark.parametrize(("number", "raw", "verdict", "reason", "dob_sex"), SINGLE,
                         ids=[f"v{v[0]}" for v in SINGLE])
def test_vector(regions, number, raw, verdict, reason, dob_sex):
    check = check_nik(raw, AS_OF, regions)
    codes = {i.code for i in check.errors + check.warnings}
    if verdict == "INVALID":
        assert not check.valid
        assert check.errors
        assert expected_codes(reason) & {i.code for i in check.errors}
        return
    assert check.valid, check.errors
    assert check.errors == []
    assert len(check.normalized) == 16 and check.normalized.isascii()
    if verdict == "VALID":
        assert check.warnings == []
    else:
        assert verdict == "VALID (WARN)"
        assert expected_codes(reason) & codes
    born, sex = dob_sex.split()
    assert check.birth_date == date.fromisoformat(born)
    assert check.sex == sex
    assert derive_birth_date_and_sex(raw, AS_OF) == (date.fromisoformat(born), sex)


def test_messages_are_specific_and_never_show_the_whole_nik(regions):
    check = check_nik("157101010190992", AS_OF, regions)
    assert [i.message for i in check.errors] == ["NIK harus 16 angka; yang dimasukkan 15 angka."]
    for raw, _verdict, *_ in [(v[1], v[2]) for v in SINGLE]:
        for issue in check_nik(raw, AS_OF, regions).errors + check_nik(raw, AS_OF, regions).warnings:
            assert issue.field == "nik"
            assert issue.code.startswith("nik.")
            digits = re.sub(r"\D", "", raw)
            if len(digits) == 16:
                assert digits not in issue.message


@pytest.mark.parametrize("raw", ["", "   ", None, "- . -"])
def test_empty_nik_is_required(regions, raw):
    check = check_nik(raw, AS_OF, regions)
    assert [i.code for i in check.errors] == ["nik.required"]
    assert check.normalized == ""


@pytest.mark.parametrize(
    "raw",
    [
        "１５７１０１０１０１９０９９２７",  # full-width digits
        "१५७१०१०१०१९०९९२७",  # Devanagari digits
    ],
)
def test_other_scripts_digits_are_refused(regions, raw):
    check = check_nik(raw, AS_OF, regions)
    assert [i.code for i in check.errors] == ["nik.non_ascii_digits"]


def test_separators_dots_dashes_and_tabs_are_removed_with_a_warning(regions):
    for raw in ["1571.0101.0190.9928", "1571-0101-0190-9928", "\t1571010101909928\n",
                "1571\u00a00101\u00a00190\u00a09928", "\ufeff1571010101909928\u200b"]:
        check = check_nik(raw, AS_OF, regions)
        assert check.valid and check.normalized == "1571010101909928"
        assert [i.code for i in check.warnings] == ["nik.separators_removed"]


def test_century_follows_as_of_not_the_clock(regions):
    # Vector 38 on the day before its birth date: the person would be born tomorrow, so 1926.
    check = check_nik("1571012411269934", date(2026, 11, 23), regions)
    assert check.valid and check.birth_date == date(1926, 11, 24)


def test_female_day_in_message_is_the_real_day(regions):
    check = check_nik("1571027104909906", AS_OF, regions)  # vector 7, 31 April, female
    assert "31-04-90" in check.errors[0].message


def test_derive_returns_nothing_for_impossible_input():
    assert derive_birth_date_and_sex("1571013203909922", AS_OF) == (None, "")
    assert derive_birth_date_and_sex("abc", AS_OF) == (None, "")
    assert derive_birth_date_and_sex(None, AS_OF) == (None, "")


def test_rule_11_compares_with_entered_data(regions):
    check = check_nik("1571094512859902", AS_OF, regions)  # female, 05-12-1985
    assert compare_with_entered(check, date(1985, 12, 5), "P") == []
    sex_issue, dob_issue = compare_with_entered(check, date(1985, 12, 6), "L")
    assert (sex_issue.code, sex_issue.field) == ("nik.sex_mismatch", "sex")
    assert (dob_issue.code, dob_issue.field) == ("nik.dob_mismatch", "birth_date")
    assert dob_issue.message == (
        "Tanggal lahir pada NIK (05-12-1985) berbeda dengan yang dimasukkan (06-12-1985). "
        "NIK tidak berubah bila tanggal lahir dikoreksi Dukcapil; konfirmasi bila data KTP benar."
    )
    # Nothing entered yet: nothing to compare.
    assert compare_with_entered(check, None, "") == []


# --- vectors 44–49: the record, not the NIK alone, through validate_registration -----------


class FakeFinder:
    """In-memory stand-in for the registry's duplicate search (DuplicateFinder protocol)."""

    def __init__(self, registrations=()):
        self.registrations = list(registrations)

    def exact_nik(self, nik, exclude_id):
        from storage.validation import DuplicateHit

        return [DuplicateHit(r.id, mask_nik(r.nik), r.full_name, r.birth_date, "local", r.status)
                for r in self.registrations if r.nik == nik and r.id != exclude_id]

    def similar(self, full_name, birth_date, exclude_id):
        return []


def _record(nik: str, born: date, sex: str, **changes):
    from storage.models import Heir, Registration

    fields = dict(
        nik=nik, full_name="Contoh Peserta", birth_place="Jambi", birth_date=born, sex=sex,
        street="Jl. Contoh No. 1", rt="003", rw="001", kecamatan_code="15.71.01",
        kelurahan_code="15.71.01.1001", postal_code="36124", phone="081234567890",
        occupation_code="ojek_online", cohort="pekerja_rentan", monthly_income=1_500_000,
        heirs=[Heir(name="Ahli Waris", relationship="istri")], consent_version="PDP-2026-01",
        consent_given=True, id="reg-new",
    )
    fields.update(changes)
    return Registration(**fields)


def _validate(reg, regions, duplicates=None):
    from storage.config import load_program_config
    from storage.validation import validate_registration

    return validate_registration(reg, as_of=AS_OF, regions=regions,
                                 config=load_program_config(), duplicates=duplicates)


def _codes(issues):
    return sorted(i.code for i in issues)


def test_vector_44_sex_differs_from_nik(regions):
    result = _validate(_record("1571094512859902", date(1985, 12, 5), "L"), regions)
    assert result.errors == []
    assert _codes(result.warnings) == ["nik.sex_mismatch"]
    assert "perempuan" in result.warnings[0].message


def test_vector_45_birth_date_differs_from_nik(regions):
    result = _validate(_record("1571094512859902", date(1985, 12, 6), "P"), regions)
    assert result.errors == []
    assert _codes(result.warnings) == ["nik.dob_mismatch"]
    assert "05-12-1985" in result.warnings[0].message and "06-12-1985" in result.warnings[0].message


def test_vector_46_nik_kecamatan_differs_from_address_without_warning(regions):
    reg = _record("1571071508759918", date(1975, 8, 15), "L",
                  kecamatan_code="15.71.09", kelurahan_code="15.71.09.1006", postal_code="36129")
    result = _validate(reg, regions)
    assert result.errors == [] and result.warnings == []


def test_vector_47_second_record_with_the_same_nik_is_refused(regions):
    first = _record("1571010101909901", date(1990, 1, 1), "L", id="reg-first",
                    full_name="Peserta Pertama")
    finder = FakeFinder([first])
    assert _validate(first, regions, finder).errors == []  # itself is not a duplicate
    second = _record("1571 0101 0190 9901", date(1990, 1, 1), "L", id="reg-second")
    result = _validate(second, regions, finder)
    assert _codes(result.errors) == ["duplicate.nik"]
    assert result.errors[0].field == "nik"
    assert "Peserta Pertama (157101******9901)" in result.errors[0].message
    assert "1571010101909901" not in result.errors[0].message


def test_vector_48_valid_nik_but_age_zero_is_refused(regions):
    assert check_nik("1571012411269934", AS_OF, regions).valid
    result = _validate(_record("1571012411269934", date(2026, 11, 24), "L"), regions)
    assert _codes(result.errors) == ["age.too_young"]
    assert result.errors[0].field == "birth_date"


def test_vector_49_valid_nik_age_99_decided_by_the_age_rule(regions):
    check = check_nik("1571011512269931", AS_OF, regions)
    assert check.valid and check.birth_date == date(1926, 12, 15)
    result = _validate(_record("1571011512269931", date(1926, 12, 15), "L"), regions)
    assert _codes(result.errors) == ["age.too_old"]
    assert "99 tahun" in result.errors[0].message


def test_cross_vectors_all_have_a_test():
    tested = {int(name.split("_")[2]) for name in globals() if name.startswith("test_vector_4")}
    assert tested == {v[0] for v in CROSS} == set(range(44, 50))
