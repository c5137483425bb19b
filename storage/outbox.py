"""The outbox: the saved versions the server has not answered for yet (DESIGN.md §5).

An entry is only the version's `seq` plus the attempts and the last error of failed pushes
(sync/engine.py counts them with `outbox_failed`); it leaves in the transaction that keeps the
server's answer (`outbox_acknowledge`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlite_utils import Database

from storage.db import storage_errors


@dataclass
class OutboxEntry:
    seq: int
    record_id: str
    version: int
    payload: dict
    created_at: str
    attempts: int = 0
    last_error: str = ""



class Outbox:
    """The registry's outbox methods (mixed into storage.registry.Registry)."""

    _db: Database

    def outbox_pending(self, limit: int = 200) -> list[OutboxEntry]:
        """The oldest entries the server has not acknowledged yet."""
        with storage_errors():
            rows = self._db.execute(
                "SELECT o.seq, v.record_id, v.version, v.data, v.saved_at, o.attempts, "
                "o.last_error FROM outbox o JOIN worker_versions v ON v.seq = o.seq "
                "ORDER BY o.seq LIMIT ?", [int(limit)]
            ).fetchall()
        return [OutboxEntry(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6]) for r in rows]


    def outbox_acknowledge(self, seqs: Iterable[int]) -> None:
        """The server has answered for these entries: they leave the outbox."""
        with storage_errors(), self._db.atomic():
            self._db.conn.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])


    def outbox_failed(self, seqs: Iterable[int], error: str) -> None:
        """A push attempt failed for these entries; they stay, with the reason."""
        with storage_errors(), self._db.atomic():
            self._db.conn.executemany(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
                [(error, s) for s in seqs],
            )


    def outbox_count(self) -> int:
        with storage_errors():
            return self._db.execute("SELECT count(*) FROM outbox").fetchone()[0]

