"""The audit log: one hash chain of every change made on this device (DESIGN.md §8).

Each entry's hash covers the previous hash and the entry's canonical JSON, so an altered or
removed entry breaks the chain (`audit_chain_ok`). Every part of the app that changes local data
audits through `AuditLog.append_audit`, inside the transaction of the change.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlite_utils import Database

from storage.db import storage_errors

GENESIS_HASH = "0" * 64


_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 as is: the form audit hashes are computed over."""
    return _CANONICAL.encode(value)


def audit_hash(prev_hash: str, entry: dict) -> str:
    """sha256 over the previous hash and the canonical form of this entry (without hashes)."""
    body = {k: entry[k] for k in ("seq", "at", "device_id", "operator", "action", "entity",
                                  "entity_id", "detail")}
    return hashlib.sha256((prev_hash + canonical_json(body)).encode()).hexdigest()


def insert_audit(db: Database, entry: dict, prev_hash: str) -> str:
    """Insert one audit entry chained to `prev_hash`; returns its hash."""
    digest = audit_hash(prev_hash, entry)
    db.conn.execute(
        "INSERT INTO audit_log (seq, at, device_id, operator, action, entity, entity_id, detail, "
        "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [entry["seq"], entry["at"], entry["device_id"], entry["operator"], entry["action"],
         entry["entity"], entry["entity_id"], entry["detail"], prev_hash, digest],
    )
    return digest



class AuditLog:
    """The registry's audit methods (mixed into storage.registry.Registry)."""

    _db: Database
    device_id: str

    def append_audit(self, operator: str, action: str, entity: str, entity_id: str,
                      detail: dict, at: str) -> None:
        """Append one chained audit entry inside the caller's transaction. Every part of the app
        that changes local data (cards, sync decisions) audits through here, so the chain stays
        one chain."""
        last = self._db.execute(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        entry = {"seq": seq, "at": at, "device_id": self.device_id, "operator": operator,
                 "action": action, "entity": entity, "entity_id": entity_id,
                 "detail": canonical_json(detail)}
        insert_audit(self._db, entry, prev)


    def audit_chain_ok(self) -> bool:
        """Recompute every hash of the audit log; False when any entry was altered or removed."""
        prev = GENESIS_HASH
        expected_seq = 1
        with storage_errors():
            cursor = self._db.execute(
                "SELECT seq, at, device_id, operator, action, entity, entity_id, detail, "
                "prev_hash, hash FROM audit_log ORDER BY seq"
            )
            for row in cursor:
                entry = dict(zip(("seq", "at", "device_id", "operator", "action", "entity",
                                  "entity_id", "detail"), row[:8], strict=True))
                if row[0] != expected_seq or row[8] != prev or audit_hash(prev, entry) != row[9]:
                    return False
                prev, expected_seq = row[9], expected_seq + 1
        return True

