"""The server's schema through Alembic: the same tables on both engines, an older server.db
(sqlite-utils' migrations) carried on, and a database that cannot be opened said in one line."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy
from alembic import command

from server.database import DatabaseUrlError, sqlite_url
from server.store import LEGACY_MIGRATIONS, Store, _alembic_config

REVISIONS = ["0001_core", "0002_seen", "0003_kegiatan", "0004_reprint_requests", "0005_trust",
             "0006_transfers", "0007_enrol_answers", "0008_dashboard", "0009_programme_office",
             "0010_pdp", "0011_device_outbox", "0012_list_indexes"]


def _columns(url: str) -> dict[str, list[str]]:
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        inspector = sqlalchemy.inspect(engine)
        return {t: sorted(c["name"] for c in inspector.get_columns(t))
                for t in inspector.get_table_names() if t != "alembic_version"}
    finally:
        engine.dispose()


def test_both_engines_have_the_same_tables_and_columns(tmp_path, server_engine):
    store = Store(tmp_path / "here")
    reference = Store(tmp_path / "sqlite", sqlite_url(tmp_path / "sqlite" / "server.db"))
    try:
        assert store.reader().execute("SELECT version_num FROM alembic_version").fetchall() \
            == [(REVISIONS[-1],)]
        assert _columns(store.url) == _columns(reference.url)
        assert "feed" in _columns(store.url) and "by" in _columns(store.url)["events"]
    finally:
        store.close()
        reference.close()


def test_reopening_keeps_the_data_and_the_nik_key(tmp_path, server_engine):
    first = Store(tmp_path)
    with first.write() as db:
        db.execute("INSERT INTO kegiatan (id, name, device_id, received_at, updated_at) "
                   "VALUES ('k1', 'Posyandu', 'd1', 'now', 'now')")
    key_id = first.nik_hash_key_id
    first.close()
    again = Store(tmp_path)
    try:
        assert again.nik_hash_key_id == key_id
        assert again.reader().execute("SELECT name FROM kegiatan").fetchall() == [("Posyandu",)]
    finally:
        again.close()


def _legacy_server_db(path, applied: list[str]) -> None:
    """A server.db as the server made it before Alembic: the schema of `applied` and
    sqlite-utils' record of them, no alembic_version."""
    engine = sqlalchemy.create_engine(sqlite_url(path))
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), applied[-1])
        conn.exec_driver_sql("DROP TABLE alembic_version")
        conn.exec_driver_sql(f"CREATE TABLE {LEGACY_MIGRATIONS} (migration_set TEXT, name TEXT, "
                             "applied_at TEXT)")
        for name in applied:
            conn.exec_driver_sql(f"INSERT INTO {LEGACY_MIGRATIONS} VALUES "
                                 f"('jamsos_server', '{name}', '2026-06-01')")
        conn.exec_driver_sql("INSERT INTO devices VALUES ('d1', 'Laptop 1', 'enumerator', "
                             "'hash', '2026-06-01', NULL)")
    engine.dispose()


@pytest.mark.parametrize("applied", [5, 11])
def test_an_older_server_db_continues_from_its_last_migration(tmp_path, applied):
    path = tmp_path / "server.db"
    _legacy_server_db(path, REVISIONS[:applied])
    store = Store(tmp_path, sqlite_url(path))
    try:
        db = store.reader()
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() \
            == [(REVISIONS[-1],)]
        assert db.execute("SELECT id, name FROM devices").fetchall() == [("d1", "Laptop 1")]
        # A table of a later revision exists: the migrations after the last applied one ran.
        assert db.execute("SELECT COUNT(*) FROM device_outbox").fetchone() == (0,)
    finally:
        store.close()
    assert sqlite3.connect(path).execute(
        f"SELECT COUNT(*) FROM {LEGACY_MIGRATIONS}").fetchone() == (applied,)


@pytest.mark.parametrize("url", [
    "mysql://jamsos@localhost/jamsos",
    "postgres//salah",
    "sqlite://",
    "postgresql://postgres@/jamsos?host=/nonexistent-socket-folder",
])
def test_a_database_that_cannot_be_used_is_one_clear_error(tmp_path, url):
    with pytest.raises(DatabaseUrlError) as error:
        Store(tmp_path, url)
    assert "\n" not in str(error.value) and str(error.value)


def test_without_a_url_the_store_opens_the_default_database(tmp_path, server_engine):
    # On SQLite the server's own default (server.db in the data folder); on PostgreSQL the
    # default the test fixture points at, and no file in the data folder.
    store = Store(tmp_path)
    try:
        if server_engine == "sqlite":
            assert store.url == sqlite_url(tmp_path / "server.db")
            assert store.path == tmp_path / "server.db" and store.path.exists()
        else:
            assert store.is_postgresql and store.path is None
            assert not (tmp_path / "server.db").exists()
    finally:
        store.close()
