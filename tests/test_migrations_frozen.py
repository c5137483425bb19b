"""Migrations depend on nothing but themselves: a database made today is the same, schema and
rows, as one made by the code before 0001_core stopped reading the programme configuration,
whatever that configuration says now."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest
from sqlite_utils import Database

import storage.config
from storage.migrations import MIGRATIONS

ROOT = Path(__file__).resolve().parent.parent
# The last commit whose 0001_core read resources/config/program.json.
BEFORE_FREEZE = "e06049e"
OCCUPATIONS_MADE_BEFORE = [
    ("bilal", "Bilal / muazin", 0), ("buruh_harian_lepas", "Buruh harian lepas", 0),
    ("guru_ngaji", "Guru ngaji", 0), ("imam", "Imam masjid", 0), ("khatib", "Khatib", 0),
    ("marbot", "Marbot", 0), ("nelayan", "Nelayan", 0), ("ojek_online", "Ojek online", 1),
    ("ojek_pangkalan", "Ojek pangkalan", 1), ("pedagang_kaki_lima", "Pedagang kaki lima", 0),
    ("pedagang_keliling", "Pedagang keliling", 0),
    ("pekerja_rentan_lainnya", "Pekerja rentan lainnya", 0), ("petani", "Petani", 0),
    ("petugas_keagamaan_lainnya", "Petugas keagamaan lainnya", 0),
    ("sopir", "Sopir / pengemudi angkutan", 1), ("tukang_bangunan", "Tukang bangunan", 0),
    ("tukang_parkir", "Tukang parkir", 0), ("umkm", "Pelaku usaha mikro (UMKM)", 0),
]


def _dump(migrations, stop_before: str | None = None) -> dict:
    """Every schema object and every table's rows of a fresh database after `migrations`."""
    db = Database(memory=True)
    migrations.apply(db, stop_before=stop_before)
    schema = db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master "
                        "ORDER BY type, name").fetchall()
    tables = [name for kind, name, _, sql in schema
              if kind == "table" and not (sql or "").upper().startswith("CREATE VIRTUAL")]
    rows = {t: sorted(db.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables
            if t != "_sqlite_migrations"}  # applied_at: the clock
    return {"schema": schema, "rows": rows}


def _raise(*_args, **_kwargs):
    raise AssertionError("a migration read the programme configuration")


def test_0001_writes_the_occupations_it_wrote_before():
    db = Database(memory=True)
    MIGRATIONS.apply(db)
    rows = db.execute("SELECT code, name, is_transport FROM occupations WHERE active = 1 "
                      "ORDER BY code").fetchall()
    assert rows == OCCUPATIONS_MADE_BEFORE


def test_the_schema_reads_no_configuration(monkeypatch):
    usual = _dump(MIGRATIONS)
    monkeypatch.setattr(storage.config, "load_program_config", _raise)
    assert _dump(MIGRATIONS) == usual


def _migrations_of(commit: str):
    try:
        source = subprocess.run(["git", "show", f"{commit}:storage/migrations.py"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"no git history with {commit} here")
    spec = importlib.util.spec_from_loader("migrations_before_freeze", loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(source, f"{commit}:storage/migrations.py", "exec"), module.__dict__)
    return module.MIGRATIONS


def test_a_fresh_database_equals_one_made_by_the_code_before_the_freeze():
    # Same schema and same rows, table by table, for every migration the old code knew.
    old = _migrations_of(BEFORE_FREEZE)
    known = {m.name for m in old.pending(Database(memory=True))}
    # Later migrations may change what these made (0015 rebuilds the name index).
    later = [m.name for m in MIGRATIONS.pending(Database(memory=True)) if m.name not in known]
    before, now = _dump(old), _dump(MIGRATIONS, later[0] if later else None)
    old_names = {name for kind, name, *_ in before["schema"]}
    assert [s for s in now["schema"] if s[1] in old_names] == before["schema"]
    assert {t: r for t, r in now["rows"].items() if t in before["rows"]} == before["rows"]
