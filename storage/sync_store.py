"""What the device remembers about sync (tables of migration 0004_sync): the small key/value
state (cursor, token, device id and role, trust), the batch in flight, and the server's answer
for each record; plus the writes sync makes to the registrations' own tables (the server's
statuses, kegiatan names, forgetting known registrations). Reached as `registry.sync`;
`sync/` keeps the protocol and calls this store for every read and write.

Nothing here commits a caller's transaction: `with registry.atomic():` around several calls
keeps them together (a pull page and its cursor, a batch's answers and its outbox entries).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlite_utils import Database

from storage.models import mask_nik

_CHUNK = 500  # SQLite host parameters per IN (...) query, well under its limit


@dataclass
class AnswerRow:
    """The server's latest answer for one record, as `sync_answers` keeps it."""

    record_id: str
    version: int
    outcome: str
    errors: list[dict]
    duplicate_of: str = ""
    answered_at: str = ""


@dataclass
class AttentionRecord:
    """An answer that needs a person, with the record's name and masked NIK."""

    answer: AnswerRow
    full_name: str
    nik_masked: str
    fixed: bool  # a newer version waits in the outbox


class SyncStore:
    """Statements on the sync tables (and sync's writes to the registrations)."""

    def __init__(self, db: Database):
        self._db = db

    # --- small key/value state ------------------------------------------------------

    def get_meta(self, key: str, default: str = "") -> str:
        row = self._db.conn.execute("SELECT value FROM sync_meta WHERE key = ?",
                                    (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self._db.conn.execute(
            "INSERT INTO sync_meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # --- the batch in flight ----------------------------------------------------------

    def pending_batch(self) -> tuple[str, list[int]] | None:
        row = self._db.conn.execute("SELECT batch_id, seqs FROM sync_batch LIMIT 1").fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def remember_batch(self, batch_id: str, seqs: list[int], at: str) -> None:
        with self._db.atomic():
            self._db.conn.execute("DELETE FROM sync_batch")
            self._db.conn.execute(
                "INSERT INTO sync_batch(batch_id, seqs, created_at) VALUES (?, ?, ?)",
                (batch_id, json.dumps(seqs), at),
            )

    def forget_batch(self) -> None:
        with self._db.atomic():  # its own commit when called outside a batch's transaction
            self._db.conn.execute("DELETE FROM sync_batch")

    # --- per-record answers -----------------------------------------------------------

    def record_answers(self, answers: Iterable[AnswerRow], now: str) -> None:
        """Keep the latest answer per record: an older version's answer never replaces a
        newer one, and an unchanged answer is not rewritten (its time stays)."""
        self._db.conn.executemany(
            "INSERT INTO sync_answers(record_id, version, outcome, errors, duplicate_of, "
            "answered_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(record_id) DO UPDATE SET "
            "version = excluded.version, outcome = excluded.outcome, errors = excluded.errors, "
            "duplicate_of = excluded.duplicate_of, answered_at = excluded.answered_at "
            "WHERE excluded.version >= sync_answers.version AND (excluded.version != "
            "sync_answers.version OR excluded.outcome != sync_answers.outcome OR "
            "excluded.errors != sync_answers.errors OR "
            "excluded.duplicate_of != sync_answers.duplicate_of)",
            [
                (a.record_id, a.version, a.outcome, json.dumps(a.errors, ensure_ascii=False),
                 a.duplicate_of, a.answered_at or now)
                for a in answers
            ],
        )

    def answer_for(self, record_id: str) -> AnswerRow | None:
        row = self._db.conn.execute(
            "SELECT record_id, version, outcome, errors, duplicate_of, answered_at "
            "FROM sync_answers WHERE record_id = ?", (record_id,),
        ).fetchone()
        return AnswerRow(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5]) \
            if row else None

    def attention(self, outcomes: tuple[str, ...]) -> list[AttentionRecord]:
        """Answers with one of `outcomes`, newest first, with the record's name."""
        rows = self._db.execute(
            "SELECT a.record_id, a.version, a.outcome, a.errors, a.duplicate_of, "
            "a.answered_at, w.full_name, w.nik, EXISTS (SELECT 1 FROM worker_versions v "
            "JOIN outbox o ON o.seq = v.seq WHERE v.record_id = a.record_id "
            "AND v.version > a.version) "
            "FROM sync_answers a LEFT JOIN workers w ON w.id = a.record_id "
            f"WHERE a.outcome IN ({','.join('?' * len(outcomes))}) "
            "ORDER BY a.answered_at DESC, a.record_id",
            list(outcomes),
        ).fetchall()
        return [AttentionRecord(AnswerRow(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5]),
                                r[6] or "", mask_nik(r[7] or ""), bool(r[8])) for r in rows]

    # --- sync's writes to the registrations -------------------------------------------

    def set_server_statuses(self, rows: Iterable[tuple[str, int, str, str, str]]) -> None:
        """(record_id, version, status, reason, member_number), applied when the server has
        seen at least the device's current version; unchanged rows are not rewritten."""
        self._db.conn.executemany(
            "UPDATE workers SET status = ?3, status_reason = ?4, member_number = ?5 "
            "WHERE id = ?1 AND version <= ?2 AND (status != ?3 OR status_reason != ?4 "
            "OR member_number != ?5)",
            list(rows),
        )

    def own_versions(self, ids: Iterable[str]) -> dict[str, int]:
        """{id: version} of the ids that are this device's own records."""
        ids = list(ids)
        found: dict[str, int] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT id, version FROM workers WHERE id IN ({marks})",
                                    chunk)
            found.update(rows.fetchall())
        return found

    def add_event_names(self, named: dict[str, str], at: str) -> None:
        """Kegiatan named by the server; one the device already has is left as it is."""
        self._db.conn.executemany(
            "INSERT OR IGNORE INTO events (id, name, held_on, kelurahan_code, created_at) "
            "VALUES (?, ?, NULL, '', ?)",
            [(event_id, name, at) for event_id, name in named.items()],
        )

    def events_by_id(self, ids: list[str]) -> list[tuple[str, str, str | None, str]]:
        """(id, name, held_on, kelurahan_code) of this device's kegiatan with these ids."""
        marks = ",".join("?" * len(ids))
        return self._db.execute(
            f"SELECT id, name, held_on, kelurahan_code FROM events WHERE id IN ({marks})", ids
        ).fetchall()

    def forget_known(self) -> None:
        """Drop the server's registrations (their NIK hashes) before reading the feed again."""
        self._db.execute("DELETE FROM known_registrations")
