"""Whatever lands in a registration's fields, validation answers with a verdict, never an
exception; cleaning never fails either. Every field is fuzzed with text, numbers, dates and None,
mixed with plausible values so that the deeper rules are reached too."""

from __future__ import annotations

from dataclasses import fields
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.config import load_program_config
from storage.models import Heir, Issue, Registration, ValidationResult
from storage.regions import load_regions
from storage.validation import DuplicateHit, clean_registration, validate_registration

REGIONS = load_regions()
CONFIG = load_program_config()
AS_OF = date(2026, 11, 24)
VERSION = CONFIG.for_date(AS_OF)

garbage = st.one_of(
    st.none(),
    st.text(),
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.binary(max_size=20),
    st.lists(st.integers(), max_size=3),
)

nik_like = st.one_of(
    st.text(alphabet="0123456789 .-", min_size=14, max_size=20),
    st.sampled_from(["1571010101909901", "1571094512859902", " 1571 0101 0190 9928 ",
                     "1571012411269934", "9101010101809935", "0000000000000000",
                     "١٥٧١٠١٠١٠١٩٠٩٩٢٧"]),
    st.from_regex(r"15710[1-9][0-7][0-9][01][0-9][0-9]{2}[0-9]{4}", fullmatch=True),
)
kecamatan_codes = [k.code for k in REGIONS.kecamatans]
kelurahan_codes = [k.code for k in REGIONS.kelurahans]

PLAUSIBLE = {
    "nik": nik_like,
    "full_name": st.text(min_size=1, max_size=60),
    "birth_date": st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)),
    "sex": st.sampled_from(["L", "P", "", "l"]),
    "rt": st.from_regex(r"[0-9]{0,4}", fullmatch=True),
    "rw": st.from_regex(r"[0-9]{0,4}", fullmatch=True),
    "kecamatan_code": st.sampled_from(kecamatan_codes + ["15.71.12", ""]),
    "kelurahan_code": st.sampled_from(kelurahan_codes + ["15.71.01.9999", ""]),
    "postal_code": st.from_regex(r"[0-9]{0,6}", fullmatch=True),
    "phone": st.from_regex(r"(\+62|62|0|)8[0-9 -]{6,14}", fullmatch=True),
    "occupation_code": st.sampled_from([o.code for o in VERSION.occupations] + ["x"]),
    "cohort": st.sampled_from(["pekerja_rentan", "petugas_keagamaan", "x"]),
    "monthly_income": st.integers(min_value=-10**12, max_value=10**12),
    "consent_version": st.sampled_from(["PDP-2026-01", "", "PDP-1999-01"]),
    "consent_given": st.booleans(),
}


def field_value(name: str):
    plausible = PLAUSIBLE.get(name)
    return st.one_of(garbage, plausible) if plausible is not None else garbage


heir = st.one_of(
    st.builds(
        Heir,
        name=st.one_of(garbage, st.text(max_size=40)),
        relationship=st.one_of(garbage, st.sampled_from(["anak", "istri", "suami", "x", ""])),
        phone=st.one_of(garbage, PLAUSIBLE["phone"]),
        nik=st.one_of(garbage, nik_like),
    ),
    garbage,
    st.dictionaries(st.sampled_from(["name", "relationship", "phone", "nik"]), garbage,
                    max_size=4),
)


@st.composite
def registrations(draw) -> Registration:
    values = {}
    for f in fields(Registration):
        if f.name == "heirs":
            values["heirs"] = draw(st.one_of(st.lists(heir, max_size=3), garbage))
        else:
            values[f.name] = draw(field_value(f.name))
    return Registration(**values)


class RecordingFinder:
    """Finds every record a duplicate, by NIK and by name, to reach the duplicate rules."""

    def exact_nik(self, nik, exclude_id):
        assert isinstance(nik, str) and len(nik) == 16
        return [DuplicateHit("other", "157101******9901", "Nama Lain", date(1990, 1, 1),
                             "server", "funded")]

    def similar(self, full_name, birth_date, exclude_id):
        assert isinstance(full_name, str)
        assert birth_date is None or isinstance(birth_date, date)
        return [DuplicateHit("other-2", "", "", None, "local", "")]


def assert_verdict(result) -> None:
    assert isinstance(result, ValidationResult)
    for issue in result.errors + result.warnings:
        assert isinstance(issue, Issue)
        assert isinstance(issue.field, str)
        assert isinstance(issue.code, str) and "." in issue.code
        assert isinstance(issue.message, str) and issue.message


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registrations(), st.booleans(),
       st.one_of(st.just(AS_OF), st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1))))
def test_validation_always_answers(reg, with_finder, as_of):
    # as_of varies too: servers derive it from device clocks, which can be years off.
    finder = RecordingFinder() if with_finder else None
    result = validate_registration(reg, as_of=as_of, regions=REGIONS, config=CONFIG,
                                   duplicates=finder)
    assert_verdict(result)
    if result.ok:
        # Nothing passes without the essentials.
        assert isinstance(reg.nik, str) and reg.consent_given is True and reg.heirs


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registrations())
def test_cleaning_never_fails_and_its_result_validates(reg):
    cleaned = clean_registration(reg)
    assert isinstance(cleaned, Registration)
    assert_verdict(validate_registration(cleaned, as_of=AS_OF, regions=REGIONS, config=CONFIG))
    assert clean_registration(cleaned) == cleaned  # cleaning twice changes nothing more
