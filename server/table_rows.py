"""Reading a table of the server's database whole and in order, or by primary key, and
fingerprinting its rows: what `server/migrate_db.py` compares two databases with."""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from server.database import SQLITE, Database

_MOD = 2**256


@dataclass
class Table:
    name: str
    columns: list[str]
    key: list[str]  # empty: no primary key (`pulls`)
    source_rows: int = 0
    target_rows: int = 0
    complete: bool = False  # the target already holds every source row
    copied: int = 0
    key_of: Callable[[Sequence], tuple] = field(init=False)  # a row's primary key
    key_types: list[str] | None = None  # on PostgreSQL, for key lookups (`key_types`)
    compared: tuple[str, str] | None = None  # digests of a table found whole before copying

    def __post_init__(self):
        positions = [self.columns.index(c) for c in self.key]
        if len(positions) == 1:
            get = operator.itemgetter(positions[0])
            self.key_of = lambda row: (get(row),)
        else:  # itemgetter of several gives a tuple; of none (`pulls`) no key at all
            self.key_of = operator.itemgetter(*positions) if positions else lambda row: ()

    @property
    def column_list(self) -> str:
        return ", ".join(quote(c) for c in self.columns)


def set_hash(db: Database, table: Table, chunk: int) -> int:
    """An order-free hash of a key-less table's rows (the sum of their SHA-256s): equal for
    the same rows in any order, identical rows included."""
    total = 0
    for rows in stream_rows(db, table, chunk):
        for row in rows:
            total += int.from_bytes(hashlib.sha256(encode_row(row)).digest(), "big")
    return total % _MOD


def encode_row(row: Sequence) -> bytes:
    # repr tells 1 from '1' and None from '': a value that changed type on the way differs.
    text = repr(row if type(row) is tuple else tuple(row))
    return text.encode("utf-8", "surrogatepass") + b"\n"


def count_rows(db: Database, name: str) -> int:
    return db.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0]


def stream_rows(db: Database, table: Table, chunk: int) -> Iterator[list[tuple]]:
    """Every row of a table, `chunk` at a time, without holding the table in memory: in
    insertion order on SQLite (rowid), in key order on PostgreSQL (a server-side cursor)."""
    if db.dialect == SQLITE:
        cursor = db.execute(f"SELECT {table.column_list} FROM {table.name} ORDER BY rowid")
        while rows := cursor.fetchmany(chunk):
            yield rows
        return
    order = f" ORDER BY {', '.join(quote(c) for c in table.key)}" if table.key else ""
    conn = db.conn
    opened = conn.info.transaction_status == 0  # idle: open one for the server-side cursor
    if opened:
        db.execute("BEGIN")
    try:
        with conn.cursor(name=f"copy_{table.name}") as cursor:
            cursor.execute(f"SELECT {table.column_list} FROM {table.name}{order}")
            while rows := cursor.fetchmany(chunk):
                yield rows
    finally:
        if opened:
            db.execute("COMMIT")


def rows_by_key(db: Database, table: Table, keys: list[tuple]) -> dict[tuple, tuple]:
    """The rows of `table` with these primary keys, by key."""
    if not keys:
        return {}
    if db.is_postgresql:
        # One array per key column: a statement of constant size, planned as a join.
        types = key_types(db, table)
        arrays = ", ".join(f"?::{t}[]" for t in types)
        names = ", ".join(f"k{i}" for i in range(len(types)))
        match = " AND ".join(f"t.{quote(c)} = k.k{i}" for i, c in enumerate(table.key))
        columns = ", ".join(f"t.{quote(c)}" for c in table.columns)
        sql = (f"SELECT {columns} FROM {table.name} AS t "
               f"JOIN unnest({arrays}) AS k({names}) ON {match}")
        params = [list(column) for column in zip(*keys, strict=True)]
    elif len(table.key) == 1:
        sql = (f"SELECT {table.column_list} FROM {table.name} "
               f"WHERE {quote(table.key[0])} IN ({', '.join('?' for _ in keys)})")
        params = [k[0] for k in keys]
    else:
        one = "(" + ", ".join("?" for _ in table.key) + ")"
        sql = (f"SELECT {table.column_list} FROM {table.name} "
               f"WHERE ({', '.join(quote(c) for c in table.key)}) IN "
               f"(VALUES {', '.join(one for _ in keys)})")
        params = [value for key in keys for value in key]
    return {row_key(table, row): tuple(row) for row in db.execute(sql, params).fetchall()}


def key_types(db: Database, table: Table) -> list[str]:
    """PostgreSQL's types of the key columns (text, integer, bigint)."""
    if table.key_types is None:
        found = dict(db.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ?", [table.name]).fetchall())
        table.key_types = [found[c] for c in table.key]
    return table.key_types


def row_key(table: Table, row: Sequence) -> tuple:
    return table.key_of(row)


def quote(column: str) -> str:
    return f'"{column}"'
