"""Moving a server's database to another engine: `main.py server migrate-db --from URL --to URL`
(a city's SQLite file to the province's PostgreSQL, typically).

Both sides are opened as the server opens them (`Store`): the target gets the current schema
from the Alembic migrations, and a source written by an older server is first brought to the
same revision. Every table of the schema is then copied row by row with its values unchanged:
sequence numbers, ids, token hashes, the NIK hash key (`settings`), so that every device's pull
cursor, token and NIK hashes stay valid on the new server.

Resumable: each chunk of rows (5,000) is its own transaction, so an interruption (Ctrl-C, a
lost connection) loses at most the chunk in flight, and the command is simply run again. A
re-run first checks that every row already in the target is a row of the source with the same
values (the source read in its order, the target's rows looked up by primary key); then tables
whose row count already matches are complete, and the others are copied again from their start
with `ON CONFLICT DO NOTHING`, which skips the rows already there. A table still empty when a
run begins gets its chunks by PostgreSQL's COPY instead, several times faster than INSERT.
`pulls` has no key (one row per pull, identical rows possible): it is copied whole in one
transaction, so a target holds either none of it or all of it, and a target's copy is compared
with the source's by count and an order-free hash of its rows.

A target holding anything else (another server's data, rows that differ) is refused before a
single row is written. A freshly made target holds only the NIK hash key its `Store` made when
it was opened: that key is replaced by the source's. On PostgreSQL one copy runs into a target
at a time (an advisory lock).

Verified at the end: every table's row count on both sides, and a SHA-256 over every row of
every table read in the source's order (the target's rows looked up by key and put in the same
order). The check before copying walks a table the same way (reading the source only until it
has met every row the target holds), so a table found whole then keeps that comparison as its
verification. The digests of `versions` and `registrations` are printed for the record.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy

from server.database import (
    POSTGRESQL,
    SQLITE,
    Database,
    DatabaseUrlError,
    engine_name,
    postgresql_engine,
    sqlite_path,
)
from server.store import LEGACY_MIGRATIONS, Store, _head
from server.table_rows import (
    Table,
    count_rows,
    encode_row,
    row_key,
    rows_by_key,
    set_hash,
    stream_rows,
)

CHUNK = 5_000
NIK_KEY = "nik_hash_key"
# Alembic's and sqlite-utils' own bookkeeping: each side keeps its own.
NOT_COPIED = {"alembic_version", LEGACY_MIGRATIONS}
LOCK = "jamsos migrate-db"  # PostgreSQL advisory lock on the target (`_only_copy`)
FIRST = "settings"  # the NIK hash key first: every NIK hash in the copy depends on it
DIGESTS_SHOWN = ("registrations", "versions")


class MigrationRefused(Exception):
    """The copy cannot start or finish; the message (Indonesian) says why and what to do."""


@dataclass
class Result:
    tables: list[Table] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    copy_seconds: float = 0.0  # the check before copying and the copy
    verify_seconds: float = 0.0
    resumed: bool = False

    @property
    def rows(self) -> int:
        return sum(t.source_rows for t in self.tables)


Progress = Callable[[str], None]
AfterChunk = Callable[[str, int], None]


def migrate_database(data_dir: Path | str, source_url: str, target_url: str, *,
                     chunk: int = CHUNK, say: Progress = print,
                     after_chunk: AfterChunk | None = None) -> Result:
    """Copy the source server database into the target and verify the copy. Raises
    `DatabaseUrlError` for an address that cannot be used or reached, `MigrationRefused` when
    the target holds other data or the copy does not verify. `after_chunk(table, rows)` is
    called after each committed chunk (progress, and the tests' interruptions)."""
    started = time.perf_counter()
    _check_urls(source_url, target_url)
    old = _old_sqlite_revision(source_url)
    source = Store(data_dir, source_url)
    try:
        if old:
            say(f"Skema sumber revisi {old} dimutakhirkan ke {_head()} sebelum disalin.")
        target = Store(data_dir, target_url)
        try:
            result = _migrate(source, target, chunk, say, after_chunk)
        finally:
            target.close()
    finally:
        source.close()
    result.seconds = time.perf_counter() - started
    return result


def _migrate(source: Store, target: Store, chunk: int, say: Progress,
             after_chunk: AfterChunk | None) -> Result:
    tables = _tables(source.url, target.url)
    src, dst = source.reader(), target.reader()
    _only_copy(dst)
    for table in tables:
        table.source_rows = count_rows(src, table.name)
        table.target_rows = count_rows(dst, table.name)
    result = Result(tables, resumed=any(t.target_rows for t in tables if t.name != FIRST))
    started = time.perf_counter()
    _check_target(src, dst, tables, chunk)
    if result.resumed:
        say("Tujuan sudah berisi sebagian salinan sebelumnya (sama dengan sumber): dilanjutkan.")
    for table in tables:
        if table.complete:
            table.copied = table.source_rows
            say(f"  {table.name}: {table.source_rows:,} baris (sudah ada)")
            continue
        _copy(src, target, table, chunk, say, after_chunk)
    _raise_sequences(src, target, tables)
    result.copy_seconds = time.perf_counter() - started
    result.digests = _verify(src, dst, tables, chunk)
    result.verify_seconds = time.perf_counter() - started - result.copy_seconds
    return result


def _only_copy(dst: Database) -> None:
    """One copy into a PostgreSQL target at a time: two would both find a table empty and
    both fill it. A session lock on the target's reader, released when the command ends."""
    if dst.is_postgresql and not dst.execute(
            "SELECT pg_try_advisory_lock(hashtextextended(?, 0))", [LOCK]).fetchone()[0]:
        raise MigrationRefused("penyalinan lain ke basis data tujuan ini sedang berjalan; "
                               "tunggu sampai selesai")


# --- addresses and the source's schema ------------------------------------------------------

def _check_urls(source_url: str, target_url: str) -> None:
    for url in (source_url, target_url):
        try:
            engine_name(url)
            if engine_name(url) == SQLITE:
                sqlite_path(url)
        except ValueError as exc:  # a bad port number, for one
            if isinstance(exc, DatabaseUrlError):
                raise
            raise DatabaseUrlError(f"alamat basis data tidak dikenal: {url!r}") from exc
    if _same_database(source_url, target_url):
        raise DatabaseUrlError("sumber dan tujuan adalah basis data yang sama")
    if engine_name(source_url) == SQLITE and not sqlite_path(source_url).is_file():
        # Opening it would make a new, empty database and copy nothing.
        raise DatabaseUrlError(f"berkas basis data sumber tidak ada: {sqlite_path(source_url)}")


def _same_database(one: str, other: str) -> bool:
    if engine_name(one) == engine_name(other) == SQLITE:
        return sqlite_path(one).resolve() == sqlite_path(other).resolve()
    return sqlalchemy.engine.make_url(one) == sqlalchemy.engine.make_url(other)


def _old_sqlite_revision(url: str) -> str | None:
    """The schema revision of a SQLite source when it is older than today's (the server's
    `Store` brings it up to date on opening), else None. Refuses a file that is no server
    database at all."""
    if engine_name(url) != SQLITE:
        return None
    uri = sqlite_path(url).resolve().as_uri() + "?mode=ro"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            names = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "alembic_version" in names:
                revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = revision[0] if revision else None
            elif LEGACY_MIGRATIONS in names:
                revision = (conn.execute(
                    f"SELECT name FROM {LEGACY_MIGRATIONS} ORDER BY rowid DESC LIMIT 1")
                    .fetchone() or ("?",))[0]
            else:
                revision = None
    except sqlite3.DatabaseError as exc:
        raise DatabaseUrlError(f"berkas sumber bukan basis data SQLite: {exc}") from exc
    if revision is None or "registrations" not in names:
        raise DatabaseUrlError("berkas sumber bukan basis data server Jamsos")
    return None if revision == _head() else revision


def _tables(source_url: str, target_url: str) -> list[Table]:
    """Every table of the source's schema (after migration), the NIK hash key's first."""
    source = _describe(source_url)
    target = _describe(target_url)
    missing = sorted(set(source) - set(target))
    if missing:
        raise MigrationRefused(f"skema tujuan tidak memiliki tabel {', '.join(missing)}")
    for name, (columns, _) in source.items():
        if set(columns) - set(target[name][0]):
            raise MigrationRefused(f"kolom tabel {name} berbeda antara sumber dan tujuan")
    tables = [Table(name, columns, key) for name, (columns, key) in sorted(source.items())]
    return sorted(tables, key=lambda t: t.name != FIRST)


def _describe(url: str) -> dict[str, tuple[list[str], list[str]]]:
    engine = (postgresql_engine(url, 1) if engine_name(url) == POSTGRESQL
              else sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool))
    try:
        inspector = sqlalchemy.inspect(engine)
        return {
            name: ([c["name"] for c in inspector.get_columns(name)],
                   list(inspector.get_pk_constraint(name)["constrained_columns"]))
            for name in inspector.get_table_names()
            if name not in NOT_COPIED and not name.startswith("sqlite_")
        }
    finally:
        engine.dispose()


# --- before copying: is the target empty, or an earlier copy of this source? ----------------

def _check_target(src: Database, dst: Database, tables: list[Table], chunk: int) -> None:
    """Refuse a target holding anything but rows of the source; mark the tables it already
    holds whole (their comparison is kept as their verification: nothing writes them)."""
    fresh = all(t.target_rows == 0 for t in tables if t.name != FIRST)
    for table in tables:
        if table.target_rows == 0:
            continue
        if not table.key:
            if table.target_rows != table.source_rows:
                raise _refusal(table.name)
            table.compared = _compare_sets(src, dst, table, chunk)
            if table.compared[0] != table.compared[1]:
                raise _refusal(table.name)
            table.complete = True
            continue
        # Read the source until every target row has been met (an interrupted table's copied
        # rows come first in the source's order: little is read).
        seen = _compare(src, dst, table, chunk, stop_after=table.target_rows)
        if table.name == FIRST and fresh and seen.differing <= {(NIK_KEY,)}:
            continue  # a new target's own NIK hash key, which the copy replaces
        if seen.differing or seen.found < table.target_rows:
            raise _refusal(table.name)
        table.complete = table.target_rows == table.source_rows
        if table.complete:
            table.compared = (seen.ours.hexdigest(), seen.theirs.hexdigest())


def _refusal(name: str) -> MigrationRefused:
    return MigrationRefused(
        f"basis data tujuan sudah berisi data lain (tabel {name} tidak sama dengan sumber); "
        "tidak ada yang ditulis. Gunakan basis data PostgreSQL yang baru dan kosong, atau "
        "kosongkan tujuan lalu jalankan lagi. (Salinan yang terputus boleh dilanjutkan selama "
        "server sumber tidak dijalankan di antaranya.)")


@dataclass
class _Seen:
    """One walk over a table: the source's rows in its order beside the target's rows with the
    same keys."""
    ours: Any = field(default_factory=hashlib.sha256)
    theirs: Any = field(default_factory=hashlib.sha256)
    found: int = 0  # source rows whose key the target holds
    differing: set[tuple] = field(default_factory=set)  # ... with other values


def _compare(src: Database, dst: Database, table: Table, chunk: int,
             stop_after: int | None = None) -> _Seen:
    """SHA-256 of the source's rows in its order, and of the target's rows with the same keys
    in the same order (a row the target lacks changes its digest); stops once `stop_after`
    target rows were met."""
    seen = _Seen()
    for rows in stream_rows(src, table, chunk):
        keys = [row_key(table, row) for row in rows]
        held = rows_by_key(dst, table, keys)
        seen.found += len(held)
        for row, key in zip(rows, keys, strict=True):
            theirs = held.get(key)
            if theirs is not None and theirs != tuple(row):
                seen.differing.add(key)
            seen.ours.update(encode_row(row))
            seen.theirs.update(encode_row(theirs or ("<missing>",)))
        if stop_after is not None and seen.found >= stop_after:
            break
    return seen


# --- the copy --------------------------------------------------------------------------------

def _copy(src: Database, target: Store, table: Table, chunk: int, say: Progress,
          after_chunk: AfterChunk | None) -> None:
    write = _writer(target, table)
    total, shown = table.source_rows, time.monotonic()
    if not table.key:
        # No key to skip rows already there by: all of it in one transaction, chunk by chunk.
        with target.write() as db:
            for rows in stream_rows(src, table, chunk):
                write(db, rows)
                table.copied += len(rows)
                if after_chunk:
                    after_chunk(table.name, table.copied)
    else:
        for rows in stream_rows(src, table, chunk):
            with target.write() as db:
                write(db, rows)
            table.copied += len(rows)
            if after_chunk:
                after_chunk(table.name, table.copied)
            if time.monotonic() - shown > 2 and table.copied < total:
                say(f"  {table.name}: {table.copied:,} / {total:,} baris")
                shown = time.monotonic()
    if table.target_rows:  # resumed: rows already there were sent again and skipped
        added = count_rows(target.reader(), table.name) - table.target_rows
        say(f"  {table.name}: {added:,} baris disalin ({table.target_rows:,} sudah ada)")
    else:
        say(f"  {table.name}: {table.copied:,} baris disalin")


def _writer(target: Store, table: Table) -> Callable[[Database, list[tuple]], None]:
    """How a chunk goes in: PostgreSQL's COPY into a table that was empty when this run began
    (several times faster than INSERT; a chunk is still its own transaction), else INSERT,
    which skips rows an earlier run copied."""
    if target.is_postgresql and table.target_rows == 0 and table.name != FIRST:
        statement = f"COPY {table.name} ({table.column_list}) FROM STDIN"

        def copy(db: Database, rows: list[tuple]) -> None:
            with db.conn.cursor().copy(statement) as stream:
                for row in rows:
                    stream.write_row(row)

        return copy
    insert = _insert_sql(table)
    return lambda db, rows: db.executemany(insert, rows)


def _insert_sql(table: Table) -> str:
    marks = ", ".join("?" for _ in table.columns)
    sql = f"INSERT INTO {table.name} ({table.column_list}) VALUES ({marks})"
    if table.name == FIRST:
        # The source's NIK hash key replaces the one the new target made for itself.
        return sql + " ON CONFLICT (name) DO UPDATE SET value = excluded.value"
    # Any key or unique column: the target holds only rows of the source (`_check_target`), so
    # a conflict is a row copied before.
    return sql + " ON CONFLICT DO NOTHING" if table.key else sql


def _raise_sequences(src: Database, target: Store, tables: list[Table]) -> None:
    """PostgreSQL's sequences behind BIGSERIAL keys (`feed.seq`, `office_audit.id`) continue
    after the copied numbers, never below the source's own high-water mark."""
    if not target.is_postgresql:
        return  # SQLite's AUTOINCREMENT follows the inserted keys itself
    with target.write() as db:
        for table in tables:
            if len(table.key) != 1:
                continue
            column = table.key[0]
            sequence = db.execute("SELECT pg_get_serial_sequence(?, ?)",
                                  [table.name, column]).fetchone()[0]
            if sequence is None:
                continue
            top = max(_source_top(src, table.name, column), db.execute(
                f"SELECT COALESCE(MAX({column}), 0) FROM {table.name}").fetchone()[0])
            db.execute("SELECT setval(?, ?, ?)", [sequence, max(top, 1), top > 0])


def _source_top(src: Database, name: str, column: str) -> int:
    """The highest number the source's sequence has given out (rows may have been removed)."""
    if src.is_postgresql:
        sequence = src.execute("SELECT pg_get_serial_sequence(?, ?)", [name, column]).fetchone()[0]
        if sequence is None:
            return 0
        row = src.execute(f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END "
                          f"FROM {sequence}").fetchone()
        return row[0]
    row = src.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", [name]).fetchone()
    return row[0] if row else 0


# --- verification ----------------------------------------------------------------------------

def _verify(src: Database, dst: Database, tables: list[Table], chunk: int) -> dict[str, str]:
    """Counts and a SHA-256 of every table on both sides; raises when anything differs."""
    digests, wrong = {}, []
    for table in tables:
        source_rows, target_rows = count_rows(src, table.name), count_rows(dst, table.name)
        if table.compared is not None:
            ours, theirs = table.compared  # whole before this run, compared by `_check_target`
        elif table.key:
            seen = _compare(src, dst, table, chunk)
            ours, theirs = seen.ours.hexdigest(), seen.theirs.hexdigest()
        else:
            ours, theirs = _compare_sets(src, dst, table, chunk)
        if source_rows != target_rows or ours != theirs:
            wrong.append(f"{table.name} ({source_rows:,} / {target_rows:,} baris)")
        digests[table.name] = ours
    if wrong:
        raise MigrationRefused("salinan tidak sama dengan sumber: " + ", ".join(wrong)
                               + ". Jalankan lagi; bila tetap berbeda, hentikan server sumber "
                               "selama penyalinan.")
    return digests


def _compare_sets(src: Database, dst: Database, table: Table, chunk: int) -> tuple[str, str]:
    return f"{set_hash(src, table, chunk):064x}", f"{set_hash(dst, table, chunk):064x}"


