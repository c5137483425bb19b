"""Demo data touches only what it makes: on a database with CSV-imported rows, making and
funding demo workers leaves every imported row as it was, and each demo funding is audited like
a decision (never a bare UPDATE)."""

from __future__ import annotations

import csv
import json
from datetime import date

import pytest
from test_csv_import import HEADER, as_row

from cards.demo import fund_demo_members
from storage.csv_import import import_csv
from storage.demo import DEMO_OPERATOR, fill_demo_data, generate_workers
from storage.registry import Registry

AS_OF = date(2026, 11, 24)
IMPORTER = "Admin Impor"


@pytest.fixture
def registry(tmp_path):
    reg = Registry.open(tmp_path / "r.sqlite3")
    yield reg
    reg.close()


def import_rows(registry, tmp_path, count: int) -> set[str]:
    path = tmp_path / "daftar.csv"
    workers = list(generate_workers(count, seed=77, as_of=AS_OF))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        for reg in workers:
            writer.writerow(as_row(reg, registry))
    report = import_csv(registry, path, operator=IMPORTER, as_of=AS_OF, accept_warnings=True)
    assert report.imported == count, report
    return {r[0] for r in registry.db_for_tests.execute("SELECT id FROM workers")}


def snapshot(registry, ids: set[str]) -> dict:
    """Everything a demo step could change about a row: the current row, its versions, its
    outbox entries, its audit entries and its cards."""
    db = registry.db_for_tests
    out = {}
    for reg_id in sorted(ids):
        out[reg_id] = (
            db.execute("SELECT * FROM workers WHERE id = ?", [reg_id]).fetchall(),
            db.execute("SELECT seq, version FROM worker_versions WHERE record_id = ?",
                       [reg_id]).fetchall(),
            db.execute("SELECT count(*) FROM audit_log WHERE entity_id = ?",
                       [reg_id]).fetchone()[0],
        )
    return out


def test_demo_data_funds_only_what_it_made_and_audits_each_funding(registry, tmp_path):
    imported = import_rows(registry, tmp_path, 20)
    before = snapshot(registry, imported)
    cards_before = registry.db_for_tests.execute("SELECT count(*) FROM cards").fetchone()[0]

    made: list[str] = []
    assert fill_demo_data(registry, 5, seed=4, as_of=AS_OF, made=made) == 5
    assert len(made) == 5 and not set(made) & imported
    funded = fund_demo_members(registry, tmp_path, seed=4, today=AS_OF, ids=made)
    assert funded == 2  # 40 % of the five it made, not of the 25 rows there are

    assert snapshot(registry, imported) == before  # no imported row changed
    rows = registry.db_for_tests.execute(
        "SELECT id, member_number FROM workers WHERE status = 'funded'").fetchall()
    assert {r[0] for r in rows} <= set(made) and len(rows) == 2
    for reg_id, number in rows:
        audit = registry.db_for_tests.execute(
            "SELECT operator, detail FROM audit_log WHERE action = 'registration.status' "
            "AND entity_id = ?", [reg_id]).fetchall()
        assert len(audit) == 1, "each funding has its audit entry"
        operator, detail = audit[0]
        assert operator == DEMO_OPERATOR
        assert json.loads(detail)["member_number"] == number
        assert json.loads(detail)["status"] == "funded"
    assert registry.audit_chain_ok()
    cards = registry.db_for_tests.execute("SELECT count(*) FROM cards").fetchone()[0]
    assert cards == cards_before + 2


def test_without_ids_the_demo_still_funds_only_its_own_rows(registry, tmp_path):
    imported = import_rows(registry, tmp_path, 10)
    before = snapshot(registry, imported)
    fill_demo_data(registry, 5, seed=4, as_of=AS_OF)
    funded = fund_demo_members(registry, tmp_path, seed=4, today=AS_OF, share=1.0)
    assert funded == 5
    assert snapshot(registry, imported) == before


def test_the_demo_data_command_leaves_imported_rows_alone(tmp_path, monkeypatch, capsys):
    """`main.py demo-data --count 5` on a data folder with 20 imported rows: the imported rows
    are as they were, and only demo rows are funded, each with its audit entry."""
    from unlock_util import cli_args, encrypted_registry

    import main

    admin = cli_args(monkeypatch, tmp_path)
    registry = encrypted_registry(tmp_path)
    try:
        imported = import_rows(registry, tmp_path, 20)
        before = snapshot(registry, imported)
    finally:
        registry.close()
    assert main.main(["--data-dir", str(tmp_path), "demo-data", "--count", "5", *admin]) == 0
    assert "2 di antaranya didanai" in capsys.readouterr().out
    registry = encrypted_registry(tmp_path)
    try:
        assert snapshot(registry, imported) == before
        funded = [r[0] for r in registry.db_for_tests.execute(
            "SELECT id FROM workers WHERE status = 'funded'")]
        assert len(funded) == 2 and not set(funded) & imported
        audited = {r[0] for r in registry.db_for_tests.execute(
            "SELECT entity_id FROM audit_log WHERE action = 'registration.status'")}
        assert set(funded) <= audited
        assert registry.audit_chain_ok()
    finally:
        registry.close()
