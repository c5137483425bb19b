"""Demo data: valid, clearly fictitious, unique, and stored with every part a save writes."""

from __future__ import annotations

from datetime import date

import pytest
from unlock_util import cli_args, encrypted_registry

import main
from storage.config import load_program_config
from storage.demo import DEMO_MARKER, fill_demo_data, generate_workers
from storage.regions import load_regions
from storage.registry import RegistrationFilter, Registry
from storage.validation import clean_registration, validate_registration

AS_OF = date(2026, 11, 24)


def test_generated_workers_are_valid_and_marked():
    regions, config = load_regions(), load_program_config()
    consent = config.for_date(AS_OF).consent_version
    for reg in generate_workers(200, seed=11, as_of=AS_OF, consent_version=consent):
        result = validate_registration(reg, as_of=AS_OF, regions=regions, config=config)
        assert (result.errors, result.warnings) == ([], []), reg.nik
        assert clean_registration(reg) == reg, "generated in the form a save stores"
        assert reg.notes == DEMO_MARKER
        assert reg.nik.startswith("1571") and reg.nik[12:14] == "99"
        assert regions.is_city_kecamatan_nik_code(reg.nik[4:6])
        assert regions.kelurahan_belongs_to(reg.kelurahan_code, reg.kecamatan_code)
        assert reg.phone.startswith("0800") and reg.heirs and reg.consent_given


def test_generation_is_deterministic_and_niks_unique():
    first = [r.nik for r in generate_workers(5000, seed=5, as_of=AS_OF)]
    again = [r.nik for r in generate_workers(5000, seed=5, as_of=AS_OF)]
    assert first == again
    assert len(set(first)) == len(first)
    other = [r.full_name for r in generate_workers(50, seed=6, as_of=AS_OF)]
    assert other != [r.full_name for r in generate_workers(50, seed=5, as_of=AS_OF)]


@pytest.fixture
def registry(tmp_path):
    reg = Registry.open(tmp_path / "r.sqlite3")
    yield reg
    reg.close()


def test_fill_writes_every_part_and_stays_unique(registry):
    calls = []
    assert fill_demo_data(registry, 700, seed=1, as_of=AS_OF, batch_size=300,
                          progress=lambda done, total: calls.append((done, total))) == 700
    assert calls == [(300, 700), (600, 700), (700, 700)]
    fill_demo_data(registry, 300, seed=1, as_of=AS_OF)  # same seed again: still unique NIKs
    db = registry.db_for_tests
    assert registry.count(RegistrationFilter()) == 1000
    assert db.execute("SELECT count(DISTINCT nik) FROM workers").fetchone()[0] == 1000
    for table in ("worker_versions", "outbox", "heirs"):
        assert db[table].count == 1000, table
    assert registry.audit_chain_ok()
    assert len(registry.events()) == 6, "the second fill reuses the demo events"
    # Each stored record passes the same rules a save applies (similar names may be warned).
    for row in registry.query(RegistrationFilter(), limit=40):
        reg = registry.get(row.id)
        result = registry.validate(reg, as_of=AS_OF)
        assert result.errors == [], result.errors
        assert {w.code for w in result.warnings} <= {"duplicate.similar"}
        assert registry.history(row.id) == [reg]
    name = registry.query(RegistrationFilter(), limit=1)[0].full_name
    assert registry.count(RegistrationFilter(text=name)) >= 1


def test_demo_data_command(tmp_path, capsys, monkeypatch):
    admin = cli_args(monkeypatch, tmp_path)
    assert main.main(["--data-dir", str(tmp_path), "demo-data", "--count", "50", *admin]) == 0
    captured = capsys.readouterr()
    assert "50 / 50" in captured.err and "50 pekerja contoh" in captured.out
    registry = encrypted_registry(tmp_path)
    assert registry.count(RegistrationFilter()) == 50
    registry.close()
    assert main.main(["--data-dir", str(tmp_path), "demo-data", "--count", "0", *admin]) == 2
