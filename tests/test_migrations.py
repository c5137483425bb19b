"""Schema migrations: from empty, from every earlier version, backups, and newer databases."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

from storage.db import StorageError, applied_migrations, open_database
from storage.migrations import migration_names
from storage.registry import (
    GENESIS_HASH,
    RegistrationFilter,
    Registry,
    canonical_json,
    insert_audit,
)

NAMES = migration_names()
RECORD_ID = "0192f0c1-0000-7000-8000-000000000001"


def _seed_at_first_version(db) -> None:
    """One registration written with the columns of 0001_core (frozen: never edited), or, on a
    database already past 0008_one_copy_per_version, with the columns that migration made."""
    data = canonical_json({"id": RECORD_ID, "version": 1, "nik": "1571010101909901",
                           "full_name": "Siti Nurhaliza", "birth_date": "1990-01-01",
                           "heirs": [{"name": "Ahmad", "relationship": "suami"}]})
    if "data" not in db["workers"].columns_dict:
        _seed_after_one_copy_per_version(db, data)
        return
    with db.atomic():
        db.execute("INSERT INTO worker_versions (record_id, version, data) VALUES (?, 1, ?)",
                   [RECORD_ID, data])
        db.execute(
            "INSERT INTO workers (id, seq, version, nik, full_name, birth_date, status, data) "
            "VALUES (?, 1, 1, '1571010101909901', 'Siti Nurhaliza', '1990-01-01', "
            "'registered', ?)", [RECORD_ID, data],
        )
        db.execute("INSERT INTO outbox (record_id, version, payload) VALUES (?, 1, ?)",
                   [RECORD_ID, data])
        entry = {"seq": 1, "at": "2026-11-24T10:00:00+07:00", "device_id": "dev",
                 "operator": "Budi", "action": "registration.create", "entity": "registration",
                 "entity_id": RECORD_ID, "detail": canonical_json({"version": 1})}
        insert_audit(db, entry, GENESIS_HASH)


def _seed_after_one_copy_per_version(db, data: str) -> None:
    """The same registration with the columns of 0008_one_copy_per_version (frozen)."""
    with db.atomic():
        seq = db.execute("INSERT INTO worker_versions (record_id, version, data) VALUES (?, 1, ?)",
                         [RECORD_ID, data]).lastrowid
        db.execute(
            "INSERT INTO workers (seq, id, version, nik, full_name, name_key, birth_date, status) "
            "VALUES (?, ?, 1, '1571010101909901', 'Siti Nurhaliza', 'siti nurhaliza', "
            "'1990-01-01', 'registered')", [seq, RECORD_ID],
        )
        db.execute("INSERT INTO heirs (record_id, position, name, relationship) "
                   "VALUES (?, 0, 'Ahmad', 'suami')", [RECORD_ID])
        db.execute("INSERT INTO outbox (seq) VALUES (?)", [seq])
        entry = {"seq": 1, "at": "2026-11-24T10:00:00+07:00", "device_id": "dev",
                 "operator": "Budi", "action": "registration.create", "entity": "registration",
                 "entity_id": RECORD_ID, "detail": canonical_json({"version": 1})}
        insert_audit(db, entry, GENESIS_HASH)


def test_names_are_ordered_and_numbered():
    assert len(NAMES) >= 2
    assert NAMES == sorted(NAMES)


def test_from_empty_applies_every_migration(tmp_path):
    db = open_database(tmp_path / "r.sqlite3")
    assert applied_migrations(db) == NAMES
    assert {"workers", "worker_versions", "heirs", "events", "occupations", "audit_log",
            "outbox", "known_registrations", "drafts", "settings", "workers_fts"} <= set(
        db.table_names())
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db["occupations"].count > 0
    db.close()
    assert not list(tmp_path.glob("*backup*")), "a new database needs no backup"


@pytest.mark.parametrize("stop_before", NAMES[1:])
def test_from_every_earlier_version(tmp_path, stop_before):
    path = tmp_path / "r.sqlite3"
    db = open_database(path, stop_before=stop_before)
    assert applied_migrations(db) == NAMES[: NAMES.index(stop_before)]
    _seed_at_first_version(db)
    db.close()

    registry = Registry.open(path)
    try:
        assert applied_migrations(registry.db_for_tests) == NAMES
        reg = registry.get(RECORD_ID)
        assert reg is not None and reg.full_name == "Siti Nurhaliza"
        assert [h.name for h in reg.heirs] == ["Ahmad"]
        assert [r.id for r in registry.query(RegistrationFilter(text="siti nur"))] == [RECORD_ID]
        assert registry.count(RegistrationFilter(text="157101")) == 1
        assert registry.outbox_count() == 1
        assert registry.audit_chain_ok()
        assert len(registry.history(RECORD_ID)) == 1
    finally:
        registry.close()

    # The backup holds the database as it was, and says which version it was at.
    version = NAMES.index(stop_before)
    backups = list(tmp_path.glob(f"r.backup-v{version:04d}-*.sqlite3"))
    assert len(backups) == 1
    old = sqlite3.connect(backups[0])
    assert [r[0] for r in old.execute("SELECT name FROM _sqlite_migrations ORDER BY id")] == \
        NAMES[:version]
    assert old.execute("SELECT full_name FROM workers").fetchall() == [("Siti Nurhaliza",)]
    old.close()


def test_no_backup_when_nothing_is_pending(tmp_path):
    path = tmp_path / "r.sqlite3"
    Registry.open(path).close()
    Registry.open(path).close()
    assert not list(tmp_path.glob("*backup*"))


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_newer_database_is_refused_and_untouched(tmp_path):
    path = tmp_path / "r.sqlite3"
    db = open_database(path)
    db["_sqlite_migrations"].insert({"migration_set": "jamsos_registry", "name": "9999_future",
                                     "applied_at": "2030-01-01"})
    db.close()
    before = _digest(path)
    with pytest.raises(StorageError) as info:
        Registry.open(path)
    assert info.value.code == "newer_version"
    assert "versi aplikasi yang lebih baru" in str(info.value)
    assert _digest(path) == before
    assert not list(tmp_path.glob("*backup*"))


def test_settings_table_survives_reopen(tmp_path):
    path = tmp_path / "r.sqlite3"
    registry = Registry.open(path)
    device = registry.device_id
    registry.set_setting("operator_name", "Budi")
    registry.close()
    registry = Registry.open(path)
    assert registry.device_id == device
    assert registry.get_setting("operator_name") == "Budi"
    assert json.loads(registry.db_for_tests.execute(
        "SELECT value FROM settings WHERE name = 'device_id'").fetchone()[0]) == device
    registry.close()


def test_one_copy_per_version_keeps_outbox_status_and_batch(tmp_path):
    """0008 moves the record's JSON out of the current row and the outbox: what the server
    decided, the outbox payload, and the push batch in flight all come through."""
    path = tmp_path / "r.sqlite3"
    db = open_database(path, stop_before="0008_one_copy_per_version")
    _seed_at_first_version(db)
    with db.atomic():
        db.execute("UPDATE workers SET status = 'rejected', data = json_set(data, '$.status', "
                   "'rejected', '$.status_reason', 'KTP tidak terbaca')")
        old_seq = db.execute("SELECT seq FROM outbox").fetchone()[0] + 41
        db.execute("UPDATE outbox SET seq = ?, attempts = 2, last_error = 'offline'", [old_seq])
        db.execute("INSERT INTO sync_batch (batch_id, seqs, created_at) VALUES ('b1', ?, '')",
                   [json.dumps([old_seq])])
        payload = db.execute("SELECT payload FROM outbox").fetchone()[0]
    db.close()

    registry = Registry.open(path)
    try:
        reg = registry.get(RECORD_ID)
        assert (reg.status, reg.status_reason) == ("rejected", "KTP tidak terbaca")
        [entry] = registry.outbox_pending()
        assert entry.payload == json.loads(payload)
        assert (entry.attempts, entry.last_error) == (2, "offline")
        version_seq = registry.db_for_tests.execute("SELECT seq FROM worker_versions").fetchone()[0]
        assert entry.seq == version_seq
        assert registry.db_for_tests.execute("SELECT seqs FROM sync_batch").fetchone()[0] == \
            json.dumps([version_seq])
        assert "data" not in registry.db_for_tests["workers"].columns_dict
        assert registry.db_for_tests.execute("SELECT rowid = seq FROM workers").fetchone()[0] == 1
        registry.db_for_tests.execute(
            "INSERT INTO workers_fts (workers_fts) VALUES ('integrity-check')")
        assert [h.name for h in reg.heirs] == ["Ahmad"]
        assert registry.db_for_tests.execute("PRAGMA foreign_key_check").fetchall() == []
        assert registry.db_for_tests.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        registry.close()


@pytest.mark.parametrize("stop_before", [*NAMES[1:], None])
def test_a_plain_database_of_every_earlier_version_is_upgraded_encrypted(tmp_path, stop_before):
    """The first start of the encrypting version on a plain database at any schema version:
    the first admin (before 0009_operators) or an existing account logs in, the database is
    encrypted, migrated (an encrypted backup first) and holds what it held."""
    from datetime import UTC, datetime

    from storage.db import is_plain_sqlite
    from storage.operators import hash_password
    from storage.unlock import open_with_password, set_up

    now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    db = open_database(tmp_path / "registry.sqlite3", stop_before=stop_before)
    _seed_at_first_version(db)
    has_operators = "operators" in db.table_names()
    if has_operators:
        with db.atomic():
            db.execute("INSERT INTO operators (username, display_name, role, password_hash, "
                       "created_at, password_changed_at) VALUES ('admin', 'Ibu Admin', 'admin', "
                       "?, '2026-11-01T00:00:00+00:00', '2026-11-01T00:00:00+00:00')",
                       [hash_password("sandi-admin-1")])
    db.close()
    if has_operators:
        opened = open_with_password(tmp_path, "admin", "sandi-admin-1", now)
    else:
        opened = set_up(tmp_path, "admin", "Ibu Admin", "sandi-admin-1", now)
    assert opened.recovery_key  # the admin's log-in made one, shown once
    registry = opened.registry
    try:
        assert applied_migrations(registry.db_for_tests) == NAMES
        assert registry.get(RECORD_ID).full_name == "Siti Nurhaliza"
        assert registry.audit_chain_ok()
        registry.check_integrity()
    finally:
        registry.close()
    for path in tmp_path.iterdir():
        assert not is_plain_sqlite(path), path.name
    reopened = open_with_password(tmp_path, "admin", "sandi-admin-1", now)
    assert not reopened.recovery_key
    reopened.registry.close()


def test_after_an_upgrade_every_account_keeps_its_password(tmp_path):
    """Accounts other than the one that upgraded get a wrap under their stored log-in hash;
    their first log-in replaces it by a real one."""
    import json
    from datetime import UTC, datetime

    from storage.unlock import UnlockError, open_with_password

    now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    registry = Registry.open(tmp_path / "registry.sqlite3")
    registry.operators.add("admin", "Ibu Admin", "admin", "sandi-admin-1", now=now)
    registry.operators.add("budi", "Budi", "petugas", "sandi-budi-1", now=now, by="admin")
    registry.operators.add("lama", "Lama", "petugas", "sandi-lama-1", now=now, by="admin")
    registry.operators.deactivate("lama", now=now, by="admin")
    registry.close()
    open_with_password(tmp_path, "budi", "sandi-budi-1", now).registry.close()  # upgrades
    wraps = json.loads((tmp_path / "registry.key").read_bytes())["body"]["wraps"]
    assert {u: w["kind"] for u, w in wraps.items()} == {"budi": "password", "admin": "legacy"}
    with pytest.raises(UnlockError):
        open_with_password(tmp_path, "admin", "sandi-budi-1", now)
    opened = open_with_password(tmp_path, "admin", "sandi-admin-1", now)
    assert opened.recovery_key  # the upgrade by a petugas left none; the admin's log-in makes it
    opened.registry.close()
    wraps = json.loads((tmp_path / "registry.key").read_bytes())["body"]["wraps"]
    assert wraps["admin"]["kind"] == "password"
    with pytest.raises(UnlockError):  # a deactivated account got no wrap
        open_with_password(tmp_path, "lama", "sandi-lama-1", now)


def test_name_prefixes_keep_every_search_and_the_merge_settings(tmp_path):
    """0015 rebuilds the name index with a prefix index for every word length: each search
    finds what it found before, newest first, and saves still leave merging to idle moments."""
    from datetime import date

    from storage.demo import fill_demo_data

    path = tmp_path / "r.sqlite3"
    db = open_database(path, stop_before="0015_name_prefixes")
    fill_demo_data(Registry(db, device_id="dev"), 400, seed=3, as_of=date(2026, 11, 24))
    names = [r[0] for r in db.execute("SELECT full_name FROM workers ORDER BY seq LIMIT 60")]
    texts = {" ".join(w[:n] for w in name.split()[:2]) for name in names for n in (1, 3, 4, 5, 7)}
    texts |= {name.casefold() for name in names}

    def results(registry):
        return {t: [r.id for r in registry.query(RegistrationFilter(text=t), limit=500)]
                for t in sorted(texts)}

    before = results(Registry(db, device_id="dev"))
    assert sum(len(ids) > 1 for ids in before.values()) > 10  # prefixes shared by many
    db.close()

    registry = Registry.open(path)
    try:
        migrated = registry.db_for_tests
        assert applied_migrations(migrated) == NAMES
        assert results(registry) == before
        assert dict(migrated.execute("SELECT k, v FROM workers_fts_config WHERE k IN "
                                     "('automerge', 'crisismerge')").fetchall()) == {
            "automerge": 0, "crisismerge": 64}
        migrated.execute("INSERT INTO workers_fts (workers_fts) VALUES ('integrity-check')")
    finally:
        registry.close()
