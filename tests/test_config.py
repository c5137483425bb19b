"""Programme configuration: dated versions, inheritance, rates, quotas, consent texts."""

from __future__ import annotations

import json
from datetime import date

import pytest

from storage.config import (
    DEFAULT_CONFIG_PATH,
    ConfigError,
    config_for,
    load_program_config,
    parse_program_config,
)
from storage.models import Cohort


@pytest.fixture(scope="module")
def config():
    return load_program_config()


def _raw() -> dict:
    return json.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))


def test_version_in_force_follows_the_date(config):
    assert config.for_date(date(2025, 6, 1)).valid_from == date(2025, 1, 1)
    assert config.for_date(date(2025, 12, 31)).valid_from == date(2025, 1, 1)
    assert config.for_date(date(2026, 1, 1)).valid_from == date(2026, 1, 1)
    assert config_for(date(2026, 11, 24)) == config.for_date(date(2026, 11, 24))
    with pytest.raises(ConfigError):
        config.for_date(date(2024, 12, 31))


def test_later_versions_inherit_what_they_do_not_change(config):
    v2025, v2026 = config.for_date(date(2025, 6, 1)), config.for_date(date(2026, 6, 1))
    assert (v2026.age_min, v2026.age_max) == (15, 60)
    assert v2026.occupations == v2025.occupations
    assert v2025.discounts == () and len(v2026.discounts) == 2


def test_age_limits_are_marked_unverified(config):
    version = config.for_date(date(2026, 11, 24))
    assert (version.age_min, version.age_max, version.age_verified) == (15, 60, False)


def test_occupation_table(config):
    version = config.for_date(date(2026, 11, 24))
    codes = {o.code for o in version.occupations}
    assert {"ojek_pangkalan", "ojek_online", "sopir", "pedagang_kaki_lima", "umkm",
            "tukang_bangunan", "buruh_harian_lepas", "tukang_parkir", "imam", "marbot",
            "guru_ngaji", "bilal"} <= codes
    assert version.occupation("ojek_online").is_transport
    assert not version.occupation("umkm").is_transport
    assert version.occupation("marbot").cohort == Cohort.PETUGAS_KEAGAMAAN
    assert version.occupation("nope") is None
    assert version.occupation_models()[0].code == version.occupations[0].code
    assert config.occupations == config.latest.occupations


def test_current_consent(config):
    assert config.current_consent(date(2026, 11, 24)).version == "PDP-2026-01"
    assert config.current_consent().version == config.latest.consent_version


def test_quotas(config):
    version = config.for_date(date(2026, 11, 24))
    assert version.quota(2025, "pekerja_rentan").places == 3000
    assert version.quota(2025, "petugas_keagamaan").places == 1316
    # Only the announced 2026 total is known: it answers for every cohort, marked unverified.
    q2026 = version.quota(2026, "petugas_keagamaan")
    assert (q2026.places, q2026.cohort, q2026.verified) == (4000, "", False)
    assert version.quota(2030, "pekerja_rentan") is None


def test_contribution_rates_and_discount_periods(config):
    version = config.for_date(date(2026, 6, 1))
    # Lowest tier: JKK Rp10.000 + JKM Rp6.800 = Rp16.800, halved during PP 50/2025.
    bill = version.contribution(1_000_000, is_transport=False, on=date(2026, 3, 31))
    assert (bill.jkk, bill.jkm, bill.discount, bill.total) == (10_000, 6_800, 0, 16_800)
    bill = version.contribution(1_000_000, is_transport=False, on=date(2026, 4, 1))
    assert (bill.discount, bill.total, bill.verified) == (8_400, 8_400, False)
    bill = version.contribution(500_000, is_transport=True, on=date(2026, 1, 1))
    assert bill.jkk == 10_000 and bill.total == 8_400  # below the lowest tier: the minimum
    bill = version.contribution(50_000_000, is_transport=True, on=date(2025, 12, 1))
    assert bill.jkk == 207_000 and bill.discount == 0


def test_consent_text_cites_the_law(config):
    version = config.for_date(date(2026, 11, 24))
    text = config.consent_text(version.consent_version)
    assert text.version == "PDP-2026-01"
    assert "Undang-Undang Nomor 27 Tahun 2022" in text.text
    for needed in ("Tujuan", "Jangka waktu", "Hak Bapak/Ibu", "menarik kembali persetujuan"):
        assert needed in text.text
    assert config.consent_text("PDP-1999-01") is None


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: d["versions"][0]["age"].update(min=70), "age limits"),
        (lambda d: d["versions"][0].update(consent_version="X"), "consent text"),
        (lambda d: d["versions"][0]["occupations"].append(
            dict(d["versions"][0]["occupations"][0])), "unique"),
        (lambda d: d["versions"][1].update(valid_from="2024-01-01"), "increasing"),
        (lambda d: d["versions"][0]["quotas"].append(
            {"year": 2025, "cohort": "tukang", "places": 1}), "quota"),
        (lambda d: d.update(format=99), "format"),
    ],
)
def test_inconsistent_files_are_refused(mutate, needle):
    data = _raw()
    mutate(data)
    with pytest.raises(ConfigError, match=needle):
        parse_program_config(data)


def test_unreadable_file_gives_a_config_error(tmp_path):
    (tmp_path / "p.json").write_text("[]", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_program_config(tmp_path / "p.json")
    with pytest.raises(ConfigError):
        load_program_config(tmp_path / "absent.json")
