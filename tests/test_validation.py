"""Validation of a whole registration: each rule gives its code on its field; cleaning."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from storage.config import load_program_config
from storage.models import Heir, Registration, mask_nik
from storage.normalize import name_key
from storage.regions import load_regions
from storage.validation import (
    DuplicateHit,
    age_on,
    check_age,
    clean_registration,
    validate_registration,
)

AS_OF = date(2026, 11, 24)


@pytest.fixture(scope="module")
def regions():
    return load_regions()


@pytest.fixture(scope="module")
def config():
    return load_program_config()


def good(**changes) -> Registration:
    fields = dict(
        nik="1571010101909901", full_name="Siti Nur'aini", birth_place="Jambi",
        birth_date=date(1990, 1, 1), sex="L", street="Jl. Sumantri Brojonegoro No. 5",
        rt="003", rw="001", kecamatan_code="15.71.01", kelurahan_code="15.71.01.1001",
        postal_code="36124", phone="081234567890", occupation_code="pedagang_kaki_lima",
        cohort="pekerja_rentan", monthly_income=2_000_000,
        heirs=[Heir(name="Ahmad Fauzi", relationship="suami", phone="0812 9999 0000")],
        consent_version="PDP-2026-01", consent_given=True, id="reg-1",
    )
    fields.update(changes)
    return Registration(**fields)


def run(reg, regions, config, **kw):
    return validate_registration(reg, as_of=AS_OF, regions=regions, config=config, **kw)


def issues(result):
    return {(i.field, i.code) for i in result.errors}, {(i.field, i.code) for i in result.warnings}


def test_a_complete_registration_passes(regions, config):
    result = run(good(), regions, config)
    assert result.errors == [] and result.warnings == []
    assert result.ok


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (dict(nik=""), ("nik", "nik.required")),
        (dict(nik="157101010190992"), ("nik", "nik.length")),
        (dict(full_name="   "), ("full_name", "full_name.required")),
        (dict(full_name="12345"), ("full_name", "full_name.no_letters")),
        (dict(full_name="A" * 151), ("full_name", "full_name.too_long")),
        (dict(birth_date=None), ("birth_date", "birth_date.required")),
        (dict(birth_date="1990-01-01"), ("birth_date", "birth_date.invalid")),
        (dict(birth_date=date(2027, 1, 1)), ("birth_date", "birth_date.future")),
        (dict(sex=""), ("sex", "sex.required")),
        (dict(sex="X"), ("sex", "sex.invalid")),
        (dict(kecamatan_code=""), ("kecamatan_code", "kecamatan_code.required")),
        (dict(kecamatan_code="15.71.12"), ("kecamatan_code", "kecamatan_code.unknown")),
        (dict(kelurahan_code=""), ("kelurahan_code", "kelurahan_code.required")),
        (dict(kelurahan_code="15.71.01.1099"), ("kelurahan_code", "kelurahan_code.unknown")),
        (dict(kelurahan_code="15.71.09.1001"),
         ("kelurahan_code", "kelurahan_code.not_in_kecamatan")),
        (dict(rt=""), ("rt", "rt.required")),
        (dict(rt="0003"), ("rt", "rt.invalid")),
        (dict(rt="000"), ("rt", "rt.invalid")),
        (dict(rw="1a"), ("rw", "rw.invalid")),
        (dict(rw="٣"), ("rw", "rw.invalid")),
        (dict(postal_code="3612"), ("postal_code", "postal_code.invalid")),
        (dict(phone="0741 123456"), ("phone", "phone.not_mobile")),
        (dict(phone="0812"), ("phone", "phone.length")),
        (dict(occupation_code=""), ("occupation_code", "occupation_code.required")),
        (dict(occupation_code="astronaut"), ("occupation_code", "occupation_code.unknown")),
        (dict(cohort="pns"), ("cohort", "cohort.invalid")),
        (dict(cohort=""), ("cohort", "cohort.invalid")),
        (dict(monthly_income=None), ("monthly_income", "monthly_income.required")),
        (dict(monthly_income=-5), ("monthly_income", "monthly_income.too_low")),
        (dict(monthly_income=0), ("monthly_income", "monthly_income.too_low")),
        (dict(monthly_income=1.5), ("monthly_income", "monthly_income.invalid")),
        (dict(monthly_income=True), ("monthly_income", "monthly_income.invalid")),
        (dict(monthly_income="2000000"), ("monthly_income", "monthly_income.invalid")),
        (dict(monthly_income=150_000_000), ("monthly_income", "monthly_income.too_high")),
        (dict(heirs=[]), ("heirs", "heirs.required")),
        (dict(heirs=[Heir(name="", relationship="anak")]), ("heirs[0].name", "heir.name_required")),
        (dict(heirs=[Heir(name="Anak", relationship="")]),
         ("heirs[0].relationship", "heir.relationship_required")),
        (dict(heirs=[Heir(name="Anak", relationship="tetangga")]),
         ("heirs[0].relationship", "heir.relationship_unknown")),
        (dict(heirs=[Heir(name="Anak", relationship="anak", phone="12")]),
         ("heirs[0].phone", "heir.phone.not_mobile")),
        (dict(heirs=[Heir(name="Anak", relationship="anak", nik="1571010101900000")]),
         ("heirs[0].nik", "heir.nik_invalid")),
        (dict(heirs=[Heir(name="Anak", relationship="anak", nik="1571010101909901")]),
         ("heirs[0].nik", "heir.nik_same_as_worker")),
        (dict(consent_given=False), ("consent_given", "consent.required")),
        (dict(consent_given="yes"), ("consent_given", "consent.required")),
        (dict(consent_version=""), ("consent_version", "consent.version_required")),
        (dict(consent_version="PDP-1999-01"), ("consent_version", "consent.version_unknown")),
        (dict(notes="x" * 2001), ("notes", "notes.too_long")),
        (dict(birth_date=date(2015, 1, 1), nik="1571010101159901"),
         ("birth_date", "age.too_young")),
    ],
)
def test_each_error_has_its_code_and_field(regions, config, changes, expected):
    errors, _warnings = issues(run(good(**changes), regions, config))
    assert expected in errors


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (dict(nik=" 1571010101909901 "), ("nik", "nik.separators_removed")),
        (dict(nik="1571120101909916"), ("nik", "nik.kecamatan_unknown")),
        (dict(nik="9101010101909935"), ("nik", "nik.kabkota_historical")),
        (dict(nik="6573010101909936"), ("nik", "nik.kabkota_unknown")),
        (dict(sex="P"), ("sex", "nik.sex_mismatch")),
        (dict(birth_date=date(1990, 1, 2)), ("birth_date", "nik.dob_mismatch")),
        (dict(full_name="Siti 2"), ("full_name", "full_name.has_digits")),
        (dict(monthly_income=25_000_000), ("monthly_income", "monthly_income.high")),
        (dict(heirs=[Heir(name="Anak", relationship="anak", nik="9101010101909935")]),
         ("heirs[0].nik", "heir.nik.kabkota_historical")),
        (dict(occupation_code="marbot"), ("cohort", "cohort.occupation_mismatch")),
        (dict(occupation_code="ojek_online", cohort="petugas_keagamaan"),
         ("cohort", "cohort.occupation_mismatch")),
    ],
)
def test_each_warning_has_its_code_and_field(regions, config, changes, expected):
    errors, warnings = issues(run(good(**changes), regions, config))
    assert errors == set()
    assert expected in warnings


def test_several_heirs_are_each_checked(regions, config):
    heirs = [Heir(name="Ahmad", relationship="suami"), Heir(name="", relationship="anak")]
    errors, _ = issues(run(good(heirs=heirs), regions, config))
    assert errors == {("heirs[1].name", "heir.name_required")}


def test_heir_nik_is_optional_and_may_be_valid(regions, config):
    heirs = [Heir(name="Anak", relationship="anak", nik="1571014101909940")]
    assert run(good(heirs=heirs), regions, config).errors == []


def test_messages_are_indonesian_and_specific(regions, config):
    result = run(good(kelurahan_code="15.71.09.1001", monthly_income=150_000_000), regions, config)
    messages = {i.code: i.message for i in result.errors}
    assert messages["kelurahan_code.not_in_kecamatan"] == (
        "Kelurahan Kenali Besar tidak termasuk Kecamatan Telanaipura. "
        "Pilih kelurahan dari kecamatan yang benar."
    )
    assert "Rp150.000.000" in messages["monthly_income.too_high"]


def test_age_rule_is_a_separate_business_rule(config):
    version = config.for_date(AS_OF)
    assert age_on(date(2011, 11, 25), AS_OF) == 14
    assert age_on(date(2011, 11, 24), AS_OF) == 15
    assert [i.code for i in check_age(date(2011, 11, 25), AS_OF, version)] == ["age.too_young"]
    assert check_age(date(2011, 11, 24), AS_OF, version) == []  # 15 today
    assert check_age(date(1966, 1, 1), AS_OF, version) == []  # 60
    assert [i.code for i in check_age(date(1965, 11, 23), AS_OF, version)] == ["age.too_old"]
    assert check_age(None, AS_OF, version) == []
    assert check_age(datetime(1990, 1, 1, 8, 0), AS_OF, version) == []


def test_age_limit_applies_on_the_day_of_registration(regions, config):
    # 60 when registered in March; 61 by the time a typo in the address is corrected.
    reg = good(nik="1571010405659901", birth_date=date(1965, 5, 4),
               created_at="2026-03-02T09:15:00+07:00")
    assert run(reg, regions, config).errors == []
    errors, _ = issues(run(replace(reg, created_at=""), regions, config))
    assert ("birth_date", "age.too_old") in errors
    # A device clock set in the future is not trusted.
    errors, _ = issues(run(replace(reg, created_at="2027-01-01T00:00:00"), regions, config))
    assert ("birth_date", "age.too_old") in errors
    errors, _ = issues(run(replace(reg, created_at="kemarin"), regions, config))
    assert ("birth_date", "age.too_old") in errors


def test_age_uses_the_nik_date_when_none_was_entered(regions, config):
    reg = good(nik="1571012411269934", birth_date=None)  # born on as_of per the NIK
    errors, _ = issues(run(reg, regions, config))
    assert ("birth_date", "age.too_young") in errors


def test_the_version_in_force_decides(regions, config):
    version = replace(config.for_date(AS_OF), age_max=30)
    errors, _ = issues(run(good(), regions, version))  # 36 years old
    assert ("birth_date", "age.too_old") in errors
    # With one version only, the consent version cannot be checked against the texts.
    assert ("consent_version", "consent.version_unknown") not in errors


def test_occupation_and_cohort_that_agree_give_no_warning(regions, config):
    reg = good(occupation_code="guru_ngaji", cohort="petugas_keagamaan")
    assert run(reg, regions, config).warnings == []


def test_a_date_before_the_programme_uses_its_earliest_rules(regions, config):
    result = validate_registration(good(), as_of=date(2021, 3, 1), regions=regions,
                                   config=config)
    assert result.errors == []


def test_the_device_occupation_table_replaces_the_configured_one(regions, config):
    reg = good(occupation_code="penjual_jamu")
    assert ("occupation_code", "occupation_code.unknown") in issues(run(reg, regions, config))[0]
    result = run(reg, regions, config, occupation_codes=["penjual_jamu"])
    assert result.errors == []


# --- duplicates --------------------------------------------------------------------------


class Finder:
    def __init__(self, records, where="local"):
        self.records, self.where = records, where
        self.calls = []

    def _hit(self, r):
        return DuplicateHit(r.id, mask_nik(r.nik), r.full_name, r.birth_date, self.where,
                            "verified")

    def exact_nik(self, nik, exclude_id):
        self.calls.append(("exact", nik, exclude_id))
        return [self._hit(r) for r in self.records if r.nik == nik and r.id != exclude_id]

    def similar(self, full_name, birth_date, exclude_id):
        self.calls.append(("similar", full_name, birth_date, exclude_id))
        return [self._hit(r) for r in self.records if r.id != exclude_id
                and name_key(r.full_name) == name_key(full_name) and r.birth_date == birth_date]


def test_exact_nik_from_the_server_is_an_error(regions, config):
    other = good(id="reg-server", full_name="Siti Nuraini")
    result = run(good(), regions, config, duplicates=Finder([other], where="server"))
    errors = {i.code: i for i in result.errors}
    assert "duplicate.nik" in errors
    assert "di server kota" in errors["duplicate.nik"].message
    assert "Terverifikasi" in errors["duplicate.nik"].message
    # The same record found by name is not reported twice.
    assert [w.code for w in result.warnings] == []


def test_similar_name_and_same_birth_date_is_a_warning(regions, config):
    other = good(id="reg-2", nik="1571010101909902", full_name="SITI NURAINI")
    finder = Finder([other])
    result = run(good(full_name="  Siti   Nur'aini "), regions, config, duplicates=finder)
    assert result.errors == []
    assert [(w.field, w.code) for w in result.warnings] == [("full_name", "duplicate.similar")]
    assert "157101******9902" in result.warnings[0].message
    # The finder got the cleaned name, the NIK's digits and the record's own id to exclude.
    assert ("exact", "1571010101909901", "reg-1") in finder.calls
    assert ("similar", "Siti Nur'aini", date(1990, 1, 1), "reg-1") in finder.calls


def test_an_invalid_nik_is_not_searched(regions, config):
    finder = Finder([])
    run(good(nik="1571"), regions, config, duplicates=finder)
    assert finder.calls == []


# --- cleaning ------------------------------------------------------------------------------


def test_clean_registration(regions, config):
    raw = good(
        nik=" 1571 0101 0190 9901 ", full_name="  siti   Nur'aini ", birth_place=" Jambi ",
        phone="+62 812-3456-7890", rt=" 3 ", postal_code=" 36124 ",
        heirs=[Heir(name=" Ahmad  Fauzi ", relationship=" suami ", phone="62 812 9999 0000",
                    nik="1571-0101-0190-9902"),
               Heir(name="", relationship="", phone="", nik="  ")],
    )
    cleaned = clean_registration(raw)
    assert cleaned is not raw and raw.nik == " 1571 0101 0190 9901 "  # the input is untouched
    assert cleaned.nik == "1571010101909901"
    assert cleaned.full_name == "siti Nur'aini"
    assert cleaned.birth_place == "Jambi"
    assert cleaned.phone == "081234567890"
    assert (cleaned.rt, cleaned.postal_code) == ("3", "36124")
    assert cleaned.heirs == [Heir(name="Ahmad Fauzi", relationship="suami",
                                  phone="081299990000", nik="1571010101909902")]
    assert run(cleaned, regions, config).warnings == []


def test_clean_leaves_what_it_cannot_fix_for_the_validator(regions, config):
    cleaned = clean_registration(good(nik="1571 0101 O190 9901", phone="0741-123456"))
    assert cleaned.nik == "1571 0101 O190 9901"
    assert cleaned.phone == "0741-123456"
    errors, _ = issues(run(cleaned, regions, config))
    assert {("nik", "nik.not_digits"), ("phone", "phone.not_mobile")} <= errors


def test_a_missing_consent_is_one_clear_message(regions, config):
    errors = run(good(consent_given=False, consent_version=""), regions, config).errors
    assert [e.code for e in errors] == ["consent.required"]
    assert "Versi" not in errors[0].message
    # Given, but with no consent text configured on the device: say what to do about it.
    errors = run(good(consent_version=""), regions, config).errors
    assert [e.code for e in errors] == ["consent.version_required"]
    assert "admin" in errors[0].message
