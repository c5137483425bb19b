"""The central registry's own database: connections, schema migrations, writers, the pull
sequence.

Two engines (server/database.py): SQLite for one city on one server process, PostgreSQL for a
province on several. On SQLite, writes are serialised twice: a process-wide lock (so the threads
of one server never wait on SQLite's busy handler) and `BEGIN IMMEDIATE` (so an admin command
running in another process cannot interleave). On PostgreSQL, writers run side by side on pooled
connections and take only the locks their subject needs (`lock`): a device's batch, a NIK, a
cohort's quota.

The pull sequence (`feed.seq`) must never let a cursor skip a change that commits late. On
SQLite every sequence number is allocated under the one write lock, so commits appear in
sequence order. On PostgreSQL transactions commit in any order, so each one that allocates
numbers first announces, with a shared advisory lock, a floor below all the numbers it will get;
a pull reads only up to the lowest floor still held (`pull_snapshot`).

Readers use their own connection per thread: SQLite's WAL and PostgreSQL's MVCC let them read
while a batch is written.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import secrets
import select
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import sqlalchemy
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from server.database import (
    BUSY_TIMEOUT_MS,
    POSTGRESQL,
    READER_CACHE_KIB,
    SQLITE,
    Database,
    DatabaseUrlError,
    connect_sqlite,
    engine_name,
    postgresql_engine,
    sqlite_path,
    sqlite_url,
)
from storage.paths import private_dir, private_file

DB_FILE = "server.db"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
LEGACY_MIGRATIONS = "_sqlite_migrations"  # sqlite-utils' record, before Alembic (0001–0011)
# Advisory lock class of the pull floor (two-key form, so it never meets `lock`'s keys).
FEED_LOCK_CLASS = 0x6A5
_SEQ_TOP = ("SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END "
            "FROM feed_seq_seq")
_FLOORS_HELD = (
    "SELECT MIN(objid::bigint) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 "
    "AND classid::bigint = ? "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def default_database_url(data_dir: Path) -> str:
    """One SQLite file in the data folder: what a city's single server uses."""
    return sqlite_url(Path(data_dir) / DB_FILE)


class Store:
    """The server's database. Thread-safe: writers from `write`, one reader connection per
    thread."""

    def __init__(self, data_dir: Path | str, database_url: str | None = None, *,
                 pool_size: int = 8):
        self.data_dir = Path(data_dir)
        private_dir(self.data_dir)
        self.url = database_url or default_database_url(self.data_dir)
        self.dialect = engine_name(self.url)
        self._write_lock = threading.Lock()
        self.lock_timeout_ms = BUSY_TIMEOUT_MS  # PostgreSQL writers; SQLite's is the pragma
        self._local = threading.local()
        self._readers: list[tuple[threading.Thread, Database]] = []  # each thread's reader
        self.path: Path | None = None
        if self.dialect == SQLITE:
            self.path = sqlite_path(self.url)
            # Registrations and token hashes: the owner's alone (SQLite gives -wal and -shm the
            # database file's mode).
            private_file(self.path)
            self._writer = Database(connect_sqlite(self.path), SQLITE)
            self._engine = sqlalchemy.create_engine(
                self.url, creator=lambda: connect_sqlite(self.path),
                poolclass=sqlalchemy.pool.NullPool)
        else:
            self._writer = None
            self._engine = postgresql_engine(self.url, pool_size)
        migrate(self._engine, self.dialect)
        self._nik_key = self._ensure_nik_key()

    @property
    def is_postgresql(self) -> bool:
        return self.dialect == POSTGRESQL

    # --- connections --------------------------------------------------------------------

    def _connect_postgresql(self) -> Database:
        dialect = self._engine.dialect
        cargs, cparams = dialect.create_connect_args(self._engine.url)
        conn = dialect.connect(*cargs, **cparams)
        conn.autocommit = True
        return Database(conn, POSTGRESQL)

    def reader(self) -> Database:
        db = getattr(self._local, "db", None)
        if db is not None and _lost(db):
            # PostgreSQL restarted or ended the connection: connect again now, rather than
            # fail one request on each thread's dead connection first.
            self._forget(db)
            db = self._local.db = None
        if db is None:
            if self.dialect == SQLITE:
                db = Database(connect_sqlite(self.path, READER_CACHE_KIB), SQLITE)
                db.execute("PRAGMA query_only = ON")
            else:
                db = self._connect_postgresql()
                db.execute("SET default_transaction_read_only = on")
            self._local.db = db
            self._close_orphans()
            with self._write_lock:
                self._readers.append((threading.current_thread(), db))
        return db

    def _close_orphans(self) -> None:
        """Close the readers of threads that have ended: the request pool retires idle threads
        and starts new ones later, and each new one opens its own reader, so without this the
        connections of a long-running server pile up until PostgreSQL refuses more."""
        with self._write_lock:
            ended = [(t, db) for t, db in self._readers if not t.is_alive()]
            self._readers = [(t, db) for t, db in self._readers if t.is_alive()]
        for _thread, db in ended:
            with contextlib.suppress(Exception):
                db.close()

    def _forget(self, db: Database) -> None:
        with contextlib.suppress(Exception):
            db.close()
        with self._write_lock:
            with contextlib.suppress(ValueError):
                self._readers = [(t, d) for t, d in self._readers if d is not db]

    @contextlib.contextmanager
    def write(self) -> Iterator[Database]:
        """One write transaction: everything inside commits together or not at all."""
        if self.dialect == SQLITE:
            with self._write_lock:
                yield from _transaction(self._writer, "BEGIN IMMEDIATE")
            return
        raw = self._engine.raw_connection()
        try:
            raw.driver_connection.autocommit = True
            # A lock held past the timeout (an admin's long job, a stuck session) ends this
            # transaction with a retryable 503, as SQLite's busy timeout does.
            begin = f"BEGIN; SET LOCAL lock_timeout = {int(self.lock_timeout_ms)}"
            yield from _transaction(Database(raw.driver_connection, POSTGRESQL), begin)
        except BaseException:
            if getattr(raw.driver_connection, "broken", False):
                raw.invalidate()
            raise
        finally:
            raw.close()  # back to the pool

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Database]:
        """One consistent read of several queries (a pull page, an export)."""
        db = self.reader()
        db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ" if self.is_postgresql else "BEGIN")
        try:
            yield db
        finally:
            with contextlib.suppress(Exception):
                db.execute("COMMIT")

    def close(self) -> None:
        with self._write_lock:
            for _thread, db in self._readers:
                with contextlib.suppress(Exception):
                    db.close()
            self._readers.clear()
            if self._writer is not None:
                self._writer.close()
        self._engine.dispose()

    # --- locks --------------------------------------------------------------------------

    @staticmethod
    def lock(db: Database, keys: Iterable[str]) -> None:
        """Hold these named locks until the transaction ends (PostgreSQL; SQLite's one writer
        already excludes everyone). Taken in sorted order, so two writers never deadlock on
        them."""
        if db.is_postgresql:
            db.executemany("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
                           [(key,) for key in sorted(set(keys))])

    # --- sequence and counters ----------------------------------------------------------

    @staticmethod
    def next_seqs(db: Database, kind: str, record_ids: list[str | None]) -> list[int]:
        """Allocate one pull sequence number per record id (inside a write transaction)."""
        if db.is_postgresql:
            return _next_seqs_postgresql(db, kind, record_ids)
        return [db.execute("INSERT INTO feed (kind, record_id) VALUES (?, ?)",
                           [kind, record_id]).lastrowid for record_id in record_ids]

    def horizon(self) -> tuple[int, int]:
        """The highest sequence number given out (`top`), and the highest one below which
        every change is committed (`horizon`); the same on SQLite, where one writer commits
        in sequence order."""
        db = self.reader()
        if self.dialect == SQLITE:
            top = db.execute("SELECT COALESCE(MAX(seq), 0) FROM feed").fetchone()[0]
            return top, top
        # The order matters: the top before the floors, both before any snapshot that reads
        # up to the horizon (see the module's docstring).
        top = db.execute(_SEQ_TOP).fetchone()[0]
        floor = db.execute(_FLOORS_HELD, [FEED_LOCK_CLASS]).fetchone()[0]
        return top, top if floor is None else min(top, floor)

    @contextlib.contextmanager
    def pull_snapshot(self) -> Iterator[tuple[Database, int, int]]:
        """A snapshot to read changes in, with `horizon()`'s two numbers for it."""
        if self.dialect == SQLITE:
            with self.snapshot() as db:
                yield db, *self.horizon()
            return
        top, horizon = self.horizon()
        with self.snapshot() as db:
            yield db, top, horizon

    @staticmethod
    def after_bulk_load(db: Database) -> None:
        """After rows were written with their own sequence numbers and ids (a copy from
        another server, a benchmark's seed): PostgreSQL's sequences continue above them.
        SQLite's AUTOINCREMENT follows by itself."""
        if db.is_postgresql:
            for table, column in (("feed", "seq"), ("office_audit", "id")):
                db.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                           f"GREATEST((SELECT MAX({column}) FROM {table}), 1), "
                           f"(SELECT MAX({column}) FROM {table}) IS NOT NULL)")

    @staticmethod
    def bump_counter(db: Database, name: str) -> int:
        row = db.execute(
            "INSERT INTO counters (name, value) VALUES (?, 1) "
            "ON CONFLICT(name) DO UPDATE SET value = counters.value + 1 RETURNING value",
            [name],
        ).fetchone()
        return row[0]

    # --- settings and the NIK hash key --------------------------------------------------

    def _ensure_nik_key(self) -> bytes:
        with self.write() as db:
            row = db.execute("SELECT value FROM settings WHERE name = 'nik_hash_key'").fetchone()
            if row is None:
                value = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
                db.execute("INSERT INTO settings VALUES ('nik_hash_key', ?)", [value])
            else:
                value = row[0]
        return base64.b64decode(value)

    @property
    def nik_hash_key(self) -> bytes:
        return self._nik_key

    @property
    def nik_hash_key_id(self) -> str:
        return hashlib.sha256(self._nik_key).hexdigest()[:8]

    def nik_hash(self, nik: str) -> str:
        return nik_hash(self._nik_key, nik)


def _lost(db: Database) -> bool:
    """A PostgreSQL reader that can no longer be used. Asked without a round trip: an idle
    connection has nothing to read, while a backend that was terminated or shut down has sent
    its last message and closed the socket, so the socket reads as ready."""
    if not db.is_postgresql:
        return False
    conn = db.conn
    if conn.broken or conn.closed:
        return True
    try:
        poller = select.poll()  # not select(): a busy server's descriptors pass 1024
        poller.register(conn.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def _transaction(db: Database, begin: str) -> Iterator[Database]:
    db.execute(begin)
    try:
        yield db
    except BaseException:
        with contextlib.suppress(Exception):
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _next_seqs_postgresql(db: Database, kind: str, record_ids: list[str | None]) -> list[int]:
    if not record_ids:
        return []
    if not db.feed_lock_taken:
        # Every number this transaction takes from now on is above `floor`; pulls stop below
        # it until the transaction ends (Store.pull_snapshot).
        floor = db.execute(_SEQ_TOP).fetchone()[0]
        db.execute("SELECT pg_advisory_xact_lock_shared(?, ?)", [FEED_LOCK_CLASS, floor])
        db.feed_lock_taken = True
    seqs = sorted(r[0] for r in db.execute(
        "SELECT nextval('feed_seq_seq') FROM generate_series(1, ?)", [len(record_ids)]))
    db.executemany("INSERT INTO feed (seq, kind, record_id) VALUES (?, ?, ?)",
                   [(seq, kind, rid) for seq, rid in zip(seqs, record_ids, strict=True)])
    return seqs


# --- schema -----------------------------------------------------------------------------

def _alembic_config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


_HEAD: list[str] = []


def _head() -> str:
    if not _HEAD:
        _HEAD.append(ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head())
    return _HEAD[0]


def migrate(engine: sqlalchemy.Engine, dialect: str) -> None:
    """Bring the schema to the newest revision (a fresh database gets all of it). One clear
    error when the database cannot be reached."""
    try:
        with engine.begin() as conn:
            if dialect == POSTGRESQL:
                # Several worker processes start at once: one migrates, the others wait.
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtextextended('jamsos "
                                     "migrations', 0))")
            if MigrationContext.configure(conn).get_current_revision() == _head():
                return
            config = _alembic_config(conn)
            if dialect == SQLITE:
                _adopt_legacy(conn, config)
            command.upgrade(config, "head")
    except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
            sqlalchemy.exc.ProgrammingError) as exc:
        # Refused, no such database or role, an unknown option: while connecting. A statement
        # of a migration that fails is not the address's fault and goes up as it is.
        if not isinstance(exc, sqlalchemy.exc.OperationalError) and exc.statement:
            raise
        raise DatabaseUrlError(
            f"basis data tidak dapat dibuka ({engine.url.render_as_string()}): "
            f"{str(exc.orig).strip().splitlines()[0]}") from exc


def _adopt_legacy(conn, config: Config) -> None:
    """A server database made before Alembic recorded its migrations in sqlite-utils' table,
    under the same names as today's revisions: continue from the last one applied."""
    inspector = sqlalchemy.inspect(conn)
    if (not inspector.has_table(LEGACY_MIGRATIONS)
            or MigrationContext.configure(conn).get_current_revision() is not None):
        return
    names = [r[0] for r in conn.exec_driver_sql(
        f"SELECT name FROM {LEGACY_MIGRATIONS} WHERE migration_set = 'jamsos_server' "
        "ORDER BY rowid")]
    if names:
        command.stamp(config, names[-1])


def nik_hash(key: bytes, nik: str) -> str:
    """docs/SYNC_API.md §3: lowercase hex of the first 16 bytes of HMAC-SHA256(key, nik)."""
    return hmac.new(key, nik.encode("ascii", "replace"), hashlib.sha256).digest()[:16].hex()
