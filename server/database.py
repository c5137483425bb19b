"""The server's database engines: SQLite (one city, the demo, most tests) and PostgreSQL (a
province and beyond), behind one small connection type.

SQLAlchemy parses the URL, makes and pools PostgreSQL connections (psycopg 3 underneath) and runs
the Alembic migrations (server/migrations/). The statements themselves are written once, in the
subset of SQL both engines understand, and run on the driver's own cursor: the push path runs
thousands of small statements per batch, and SQLAlchemy's result layer would add a measurable
share to each. The few places where the engines differ ask `Database.dialect`-aware helpers
here (`json_text`, `week_start`) instead of carrying two copies of a query.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

import sqlalchemy
from sqlalchemy.engine import make_url

SQLITE, POSTGRESQL = "sqlite", "postgresql"
BUSY_TIMEOUT_MS = 10_000
CONNECT_TIMEOUT_S = 10

# A literal, a `?` or a `:name` placeholder, or a bare % (which psycopg would read as one).
_TOKENS = re.compile(r"'(?:[^']|'')*'|\?|(?<![:\w]):([A-Za-z_]\w*)|%")


class DatabaseUrlError(ValueError):
    """The --database address cannot be used (its message is for the operator)."""


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path)}"


def engine_name(url: str) -> str:
    try:
        parsed = make_url(url)
    except sqlalchemy.exc.ArgumentError as exc:
        raise DatabaseUrlError(f"alamat basis data tidak dikenal: {url!r}") from exc
    except ValueError as exc:  # a port that is not a number; the URL may hold a password
        raise DatabaseUrlError("alamat basis data tidak sah (nomor port bukan angka?); "
                               "gunakan postgresql://pengguna@host:5432/nama") from exc
    backend = parsed.get_backend_name()
    if backend not in (SQLITE, POSTGRESQL):
        raise DatabaseUrlError(
            f"basis data {backend!r} tidak didukung; gunakan sqlite:///… atau postgresql://…")
    if backend == POSTGRESQL and parsed.drivername not in (POSTGRESQL, "postgresql+psycopg"):
        # Only psycopg 3 is installed and tested; another driver would fail on import.
        raise DatabaseUrlError(f"pengandar {parsed.drivername!r} tidak didukung; gunakan "
                               "postgresql://… (psycopg 3)")
    return backend


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise DatabaseUrlError("basis data SQLite harus berupa berkas (sqlite:///jalur/server.db)")
    return Path(database)


def postgresql_engine(url: str, pool_size: int) -> sqlalchemy.Engine:
    """A pooled engine on psycopg 3 (a plain postgresql:// URL gets that driver)."""
    parsed = make_url(url)
    if parsed.drivername == POSTGRESQL:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if "connect_timeout" not in parsed.query:
        # A host that drops packets would otherwise hold the start (and each reconnection)
        # for the system's TCP timeout, minutes, instead of failing with one clear line.
        parsed = parsed.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT_S)})
    try:
        return sqlalchemy.create_engine(
            parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
            pool_recycle=3600,
        )
    except sqlalchemy.exc.ArgumentError as exc:  # e.g. ?port=lima
        raise DatabaseUrlError(f"alamat basis data tidak sah: {exc}") from exc


# SQLite's page cache per connection, in KiB. The default 2 MiB holds little of a large city's
# indexes: at 1,000,000 registrations a batch of 200 took 146 ms with it and 65 ms with 64 MiB
# (docs/BENCHMARKS.md). The writer is one connection; readers, one per request thread, get less.
WRITER_CACHE_KIB, READER_CACHE_KIB = 65_536, 16_384


def connect_sqlite(path: Path, cache_kib: int = WRITER_CACHE_KIB) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), check_same_thread=False,
                           timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    # An acknowledged push is a promise to the device that it may drop its outbox entry.
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
    return conn


@functools.lru_cache(maxsize=4096)
def to_pyformat(sql: str) -> str:
    """`?` and `:name` placeholders (sqlite3's styles) as psycopg's `%s` and `%(name)s`, and
    every other percent sign doubled (psycopg reads them inside string literals too). A `?` or
    `:name` inside a string literal stays text."""

    def swap(match: re.Match) -> str:
        text = match.group(0)
        if text == "?":
            return "%s"
        if match.group(1):
            return f"%({match.group(1)})s"
        return text.replace("%", "%%")

    return _TOKENS.sub(swap, sql)


class Database:
    """One connection of either engine, with the surface the server's modules use: `execute`
    and `executemany` with sqlite3's placeholders, and the engine's name for the few helpers
    that differ. Autocommit: transactions are begun and ended explicitly (server/store.py)."""

    def __init__(self, conn, dialect: str):
        self.conn = conn
        self.dialect = dialect
        self.feed_lock_taken = False  # server/store.py next_seqs, per transaction

    @property
    def is_postgresql(self) -> bool:
        return self.dialect == POSTGRESQL

    def execute(self, sql: str, params: Sequence | dict | None = None):
        if self.dialect == SQLITE:
            return self.conn.execute(sql, () if params is None else params)
        cur = self.conn.cursor()
        if params is None or (not params and not isinstance(params, dict)):
            cur.execute(sql)  # without parameters psycopg reads no placeholders
        else:
            cur.execute(to_pyformat(sql), params)
        return cur

    def executemany(self, sql: str, rows: Iterable[Sequence | dict]) -> None:
        if self.dialect == SQLITE:
            self.conn.executemany(sql, rows)
            return
        rows = list(rows)
        if rows:
            self.conn.cursor().executemany(to_pyformat(sql), rows)

    def close(self) -> None:
        self.conn.close()


def json_text(db: Database, column: str, key: str) -> str:
    """SQL for the text of one top-level key of a JSON column (None where absent)."""
    if db.is_postgresql:
        return f"(({column})::jsonb ->> '{key}')"
    return f"json_extract({column}, '$.{key}')"


def week_start(db: Database, day_sql: str) -> str:
    """SQL for the Monday (YYYY-MM-DD) of the ISO week holding a YYYY-MM-DD text."""
    if db.is_postgresql:
        return f"to_char(date_trunc('week', ({day_sql})::date), 'YYYY-MM-DD')"
    return f"date({day_sql}, '-6 days', 'weekday 1')"
