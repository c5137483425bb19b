"""What the programme office tells a device in pull (docs/SYNC_API.md §5 `kpj`, `erasure`, and
the claim and PDP events): tables of migration 0014_programme_office.

- `member_kpj`: BPJS's KPJ number and start of cover of a member (lists and reprinted cards may
  show it; `kpj_numbers(db, ids)` reads them in one query).
- `office_steps`: the steps of a death claim and of a person's PDP requests as the events say
  them (what and when, never a certificate number or a claimant's name).
- `erase_record`: the server erased a person's personal fields; this device removes them from
  its own copy: the current row, every saved version, heirs, the outbox, card holders and
  credentials, known NIK hashes, KPJ and step reasons, and the name search index. What stays is
  the record id with its status and one audit entry saying what was erased, when and by whom.

The caller (sync) owns the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from storage.vocabulary import OFFICE_STEP_LABELS

if TYPE_CHECKING:
    from sqlite_utils import Database

    from storage.registry import Registry

OFFICE_EVENTS = frozenset(OFFICE_STEP_LABELS)  # the programme office's steps a device keeps
# Registration.to_dict() fields of the person (server/pdp.py PERSONAL_FIELDS).
_BLANK = {"nik": "", "full_name": "", "birth_place": "", "birth_date": None, "sex": "",
          "street": "", "rt": "", "rw": "", "postal_code": "", "phone": "",
          "monthly_income": None, "heirs": [], "notes": ""}


def apply_items(registry: Registry, changes: list[dict], now: str) -> None:
    """KPJ numbers, claim and PDP steps, and erasures of one pull page."""
    db = registry._db
    kpj = [c for c in changes if c.get("kind") == "kpj" and c.get("id") and c.get("kpj")]
    if kpj:
        db.conn.executemany(
            "INSERT INTO member_kpj (record_id, kpj, start_date, at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (record_id) DO UPDATE SET kpj = excluded.kpj, "
            "start_date = excluded.start_date, at = excluded.at",
            [(str(c["id"]), str(c["kpj"]), str(c.get("start_date") or ""), now) for c in kpj],
        )
    steps = [c for c in changes if c.get("kind") == "event" and c.get("event") in OFFICE_EVENTS
             and c.get("id")]
    # Only for people this device holds (its records, or cards it keeps): a laptop does not
    # collect the city's deaths.
    held = _held(db, {str(c["id"]) for c in steps})
    steps = [c for c in steps if str(c["id"]) in held]
    if steps:
        db.conn.executemany(
            "INSERT OR REPLACE INTO office_steps (record_id, event, at, by, reason) "
            "VALUES (?, ?, ?, ?, ?)",
            [(str(c["id"]), str(c["event"]), str(c.get("at") or now), str(c.get("by") or ""),
              str(c.get("reason") or "")) for c in steps],
        )
    erased = [c for c in changes if c.get("kind") == "erasure" and c.get("id")]
    if not erased:
        return
    db.conn.execute("PRAGMA secure_delete = ON")  # freed pages are zeroed, not left readable
    try:
        for item in erased:
            erase_record(registry, str(item["id"]), str(item.get("at") or now))
        # Merge the name index so the erased names' old entries are gone, not only marked.
        db.execute("INSERT INTO workers_fts (workers_fts) VALUES ('optimize')")
    finally:
        db.conn.execute("PRAGMA secure_delete = OFF")


def _held(db: Database, ids: set[str]) -> set[str]:
    """The ids among `ids` of registrations this device holds or keeps a card of."""
    found: set[str] = set()
    ids_list = sorted(ids)
    for start in range(0, len(ids_list), 500):
        chunk = ids_list[start:start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(r[0] for r in db.execute(
            f"SELECT id FROM workers WHERE id IN ({marks}) UNION "
            f"SELECT registration_id FROM card_holders WHERE registration_id IN ({marks})",
            chunk + chunk).fetchall())
    return found


def erase_record(registry: Registry, record_id: str, at: str) -> bool:
    """Remove the person's personal fields from this device. False when already done."""
    db = registry._db
    if db.execute("SELECT 1 FROM erased_records WHERE record_id = ?", [record_id]).fetchone():
        return False
    conn = db.conn
    versions = conn.execute("SELECT seq, data FROM worker_versions WHERE record_id = ?",
                            [record_id]).fetchall()
    conn.executemany("UPDATE worker_versions SET data = ? WHERE seq = ?",
                     [(json.dumps({**json.loads(data), **_BLANK, "erased": True},
                                  sort_keys=True, separators=(",", ":")), seq)
                      for seq, data in versions])
    conn.executemany("DELETE FROM outbox WHERE seq = ?", [(seq,) for seq, _ in versions])
    conn.execute("UPDATE workers SET nik = '', full_name = '', name_key = '', birth_date = NULL, "
                 "sex = '' WHERE id = ?", [record_id])
    conn.execute("DELETE FROM heirs WHERE record_id = ?", [record_id])
    conn.execute("UPDATE card_holders SET full_name = '', nik_masked = '' "
                 "WHERE registration_id = ?", [record_id])
    conn.execute("UPDATE cards SET credential = '' WHERE registration_id = ?", [record_id])
    conn.execute("DELETE FROM known_registrations WHERE id = ?", [record_id])
    conn.execute("DELETE FROM member_kpj WHERE record_id = ?", [record_id])
    conn.execute("DELETE FROM sync_answers WHERE record_id = ?", [record_id])
    conn.execute("UPDATE office_steps SET reason = '' WHERE record_id = ?", [record_id])
    conn.execute("INSERT INTO erased_records (record_id, at) VALUES (?, ?)", [record_id, at])
    registry.append_audit("server", "registration.erased", "registration", record_id,
                          {"fields": sorted(_BLANK), "versions": len(versions)}, at)
    return True


def kpj_numbers(db: Database, ids: Iterable[str]) -> dict[str, str]:
    """{record id: KPJ number} of the ids that have one (for lists and cards)."""
    ids = list(ids)
    found: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(db.execute(
            f"SELECT record_id, kpj FROM member_kpj WHERE record_id IN ({marks})", chunk
        ).fetchall())
    return found


def kpj_of(db: Database, record_id: str) -> tuple[str, str] | None:
    """(KPJ number, start date) of a member, or None."""
    row = db.execute("SELECT kpj, start_date FROM member_kpj WHERE record_id = ?",
                     [record_id]).fetchone()
    return (row[0], row[1]) if row else None


def office_steps(db: Database, record_id: str) -> list[dict]:
    """The claim and PDP steps of a record, oldest first, with Indonesian labels."""
    rows = db.execute("SELECT event, at, by, reason FROM office_steps WHERE record_id = ? "
                      "ORDER BY at", [record_id]).fetchall()
    return [{"event": e, "label": OFFICE_STEP_LABELS.get(e, e), "at": at, "by": by, "reason": reason}
            for e, at, by, reason in rows]


def is_erased(db: Database, record_id: str) -> bool:
    return db.execute("SELECT 1 FROM erased_records WHERE record_id = ?",
                      [record_id]).fetchone() is not None
