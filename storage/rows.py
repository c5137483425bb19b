"""The rows a save writes: the record's JSON version, the current `workers` row, its heirs and
its outbox entry, shared by `Registry.save`, the fast demo loader (`bulk_insert_versions`) and a
transferred record's adoption (storage/trust.py); and the `settings` rows.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from storage.audit import GENESIS_HASH, audit_hash, canonical_json
from storage.db import storage_errors
from storage.models import Registration, mask_nik
from storage.normalize import name_key
from storage.vocabulary import local_now_iso

if TYPE_CHECKING:
    from storage.registry import Registry

def record_dict(reg: Registration) -> dict:
    """Registration.to_dict() without dataclasses.asdict's recursive deep copy (a save's hot
    path); tests/test_registry.py checks that both give the same dict."""
    data = {name: getattr(reg, name) for name in _FIELDS}
    data["birth_date"] = reg.birth_date.isoformat() if reg.birth_date else None
    data["heirs"] = [
        {"name": h.name, "relationship": h.relationship, "phone": h.phone, "nik": h.nik}
        for h in reg.heirs
    ]
    return data


_FIELDS = tuple(Registration.__dataclass_fields__)


def insert_version(db: Database, reg: Registration, *, operator: str, now: str) -> None:
    """Write `reg` (already numbered) as its history version, the current row, its heirs and its
    outbox entry. The caller owns the transaction."""
    conn = db.conn
    seq = conn.execute(INSERT_VERSION, [reg.id, reg.version, operator, now,
                                        canonical_json(record_dict(reg))]).lastrowid
    conn.execute(UPSERT_WORKER, worker_row(reg, seq))
    if reg.version > 1:
        conn.execute("DELETE FROM heirs WHERE record_id = ?", [reg.id])
    if reg.heirs:
        conn.executemany(INSERT_HEIR, heir_rows(reg))
    conn.execute("INSERT INTO outbox (seq) VALUES (?)", [seq])


def bulk_insert_versions(registry: Registry, regs: list[Registration], *, operator: str) -> None:
    """Insert new registrations (ids set, never saved before) in one transaction, with the same
    rows a save writes. For the demo loader: the caller guarantees validity and unique NIKs."""
    db = registry._db
    now = local_now_iso()
    with storage_errors(), db.atomic():
        last = db.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        audit_seq, prev = (last[0], last[1]) if last else (0, GENESIS_HASH)
        seq = db.execute("SELECT coalesce(max(seq), 0) FROM worker_versions").fetchone()[0]
        versions, workers, heirs, outbox, audit = [], [], [], [], []
        for reg in regs:
            seq, audit_seq = seq + 1, audit_seq + 1
            reg.version, reg.device_id, reg.operator = 1, registry.device_id, operator
            reg.created_at = reg.updated_at = now
            versions.append((seq, reg.id, 1, operator, now, canonical_json(record_dict(reg))))
            workers.append(worker_row(reg, seq))
            heirs += heir_rows(reg)
            outbox.append((seq,))
            entry = {"seq": audit_seq, "at": now, "device_id": registry.device_id,
                     "operator": operator, "action": "registration.create",
                     "entity": "registration", "entity_id": reg.id,
                     "detail": canonical_json({"version": 1, "nik": mask_nik(reg.nik)})}
            digest = audit_hash(prev, entry)
            audit.append((*entry.values(), prev, digest))
            prev = digest
        conn = db.conn
        conn.executemany("INSERT INTO worker_versions (seq, record_id, version, operator, "
                         "saved_at, data) VALUES (?, ?, ?, ?, ?, ?)", versions)
        conn.executemany(UPSERT_WORKER, workers)
        conn.executemany(INSERT_HEIR, heirs)
        conn.executemany("INSERT INTO outbox (seq) VALUES (?)", outbox)
        conn.executemany("INSERT INTO audit_log (seq, at, device_id, operator, action, entity, "
                         "entity_id, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         audit)


WORKER_COLUMNS = (
    "id, seq, version, nik, full_name, name_key, birth_date, sex, kecamatan_code, "
    "kelurahan_code, occupation_code, cohort, event_id, status, status_reason, member_number, "
    "device_id, operator, created_at, updated_at"
)


_UPDATED_ON_CORRECTION = [c for c in WORKER_COLUMNS.split(", ") if c not in ("id", "created_at")]


UPSERT_WORKER = (
    f"INSERT INTO workers ({WORKER_COLUMNS}) VALUES ({', '.join('?' * 20)}) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _UPDATED_ON_CORRECTION)
)


INSERT_VERSION = (
    "INSERT INTO worker_versions (record_id, version, operator, saved_at, data) "
    "VALUES (?, ?, ?, ?, ?)"
)


INSERT_HEIR = (
    "INSERT INTO heirs (record_id, position, name, relationship, phone, nik) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


# SQL: is a version of the list row `w` still waiting for the server's answer?
WAITING_FOR_SERVER = (
    "EXISTS (SELECT 1 FROM worker_versions wv JOIN outbox o ON o.seq = wv.seq "
    "WHERE wv.record_id = w.id)"
)


def worker_row(reg: Registration, seq: int) -> list:
    return [
        reg.id, seq, reg.version, reg.nik, reg.full_name, name_key(reg.full_name),
        reg.birth_date.isoformat() if reg.birth_date else None, reg.sex, reg.kecamatan_code,
        reg.kelurahan_code, reg.occupation_code, reg.cohort, reg.event_id or None, reg.status,
        reg.status_reason, reg.member_number, reg.device_id, reg.operator, reg.created_at,
        reg.updated_at,
    ]


def heir_rows(reg: Registration) -> list[tuple]:
    return [(reg.id, i, h.name, h.relationship, h.phone, h.nik) for i, h in enumerate(reg.heirs)]


def read_setting(db: Database, name: str) -> Any:
    row = db.execute("SELECT value FROM settings WHERE name = ?", [name]).fetchone()
    return json.loads(row[0]) if row else None


def write_setting(db: Database, name: str, value: Any) -> None:
    db.execute(
        "INSERT INTO settings (name, value) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        [name, json.dumps(value, ensure_ascii=False)],
    )

