"""What the server says about who owns a record and which cards are outdated
(docs/SYNC_API.md §3 "Transfer", §6 "Corrections"); tables of migration 0010_record_trust.

A registration belongs to the device that first sent it. When an admin moves a replaced
laptop's registrations to this device, `adopt` keeps each one as this device's own record (its
current version, not queued for sending: the server has it) so that it can be corrected here;
on the old device `mark_transferred` records that it is no longer its own. The caller (sync)
owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from storage.models import Registration, mask_nik
from storage.registry import (
    INSERT_HEIR,
    INSERT_VERSION,
    UPSERT_WORKER,
    canonical_json,
    heir_rows,
    record_dict,
    worker_row,
)

if TYPE_CHECKING:
    from storage.registry import Registry


def adopt(registry: Registry, data: dict, *, status: str, status_reason: str = "",
          member_number: str = "", from_device_id: str = "", at: str) -> bool:
    """Keep a registration moved to this device as its own current version. False (nothing
    written) when this device already holds that version or a newer one."""
    reg = Registration.from_dict(data)
    reg.status, reg.status_reason, reg.member_number = status, status_reason, member_number
    db = registry._db
    db.execute("DELETE FROM transferred_records WHERE record_id = ?", [reg.id])
    held = db.execute("SELECT version FROM workers WHERE id = ?", [reg.id]).fetchone()
    if held is not None and held[0] >= reg.version:
        return False
    conn = db.conn
    seq = conn.execute(INSERT_VERSION, [reg.id, reg.version, reg.operator, at,
                                        canonical_json(record_dict(reg))]).lastrowid
    conn.execute(UPSERT_WORKER, worker_row(reg, seq))
    conn.execute("DELETE FROM heirs WHERE record_id = ?", [reg.id])
    if reg.heirs:
        conn.executemany(INSERT_HEIR, heir_rows(reg))
    registry.append_audit("server", "registration.transferred_in", "registration", reg.id,
                          {"version": reg.version, "nik": mask_nik(reg.nik),
                           "from_device_id": from_device_id}, at)
    return True


def mark_transferred(registry: Registry, record_id: str, to_device_id: str, at: str) -> None:
    """One of this device's records now belongs to `to_device_id` (kept for history)."""
    db = registry._db
    cur = db.execute(
        "INSERT INTO transferred_records (record_id, to_device_id, at) VALUES (?, ?, ?) "
        "ON CONFLICT (record_id) DO UPDATE SET to_device_id = excluded.to_device_id, "
        "at = excluded.at WHERE to_device_id != excluded.to_device_id", [record_id,
                                                                         to_device_id, at],
    )
    if cur.rowcount:
        registry.append_audit("server", "registration.transferred_out", "registration",
                              record_id, {"to_device_id": to_device_id}, at)


def transferred_away(registry: Registry) -> dict[str, str]:
    """{record id: the device that owns it now} of records moved away from this device."""
    return dict(registry._db.execute(
        "SELECT record_id, to_device_id FROM transferred_records").fetchall())


def is_own(registry: Registry, record_id: str) -> bool:
    """Held here and not moved to another device."""
    return registry._db.execute(
        "SELECT 1 FROM workers w WHERE w.id = ? AND NOT EXISTS (SELECT 1 FROM "
        "transferred_records t WHERE t.record_id = w.id)", [record_id],
    ).fetchone() is not None


def set_card_outdated(registry: Registry, flags: Iterable[tuple[str, bool]], at: str) -> None:
    """(record id, outdated) from the server: a member whose card prints data an approved
    correction changed waits in `card_reprints_due` until a reprint clears the flag."""
    flags, db = list(flags), registry._db
    held = {r[0] for r in db.execute("SELECT record_id FROM card_reprints_due")}
    # Only what changes: a full pull carries every registration, almost none flagged.
    db.conn.executemany(
        "INSERT OR IGNORE INTO card_reprints_due (record_id, at) VALUES (?, ?)",
        [(rid, at) for rid, outdated in flags if outdated and rid not in held],
    )
    db.conn.executemany(
        "DELETE FROM card_reprints_due WHERE record_id = ?",
        [(rid,) for rid, outdated in flags if not outdated and rid in held],
    )


def card_reprints_due(registry: Registry) -> list[str]:
    """Registration ids whose current card shows data corrected since (oldest flag first)."""
    return [r[0] for r in registry._db.execute(
        "SELECT record_id FROM card_reprints_due ORDER BY at, record_id").fetchall()]
