"""Which registrations a device held (DESIGN.md §7): for a breach notice within 72 hours.

A device held a registration if it pushed a version of it, if a pull sent it the registration's
state (its NIK hash) or its card credential (name and member number), or if the server showed it
the registration in the verifier's list (name, masked NIK) or opened in full. Pulls are
remembered as sequence ranges; the feed table maps every sequence number ever used to its
registration, so the ranges give the exact records.
"""

from __future__ import annotations

from server.store import Store
from storage.models import mask_nik
from storage.vocabulary import utc_now_iso

_PULLED = """
    SELECT f.record_id, MIN(p.at), MAX(CASE WHEN f.kind = 'credential' AND p.with_credentials = 1 THEN 1 ELSE 0 END)
    FROM pulls p JOIN feed f ON f.seq > p.from_seq AND f.seq <= p.to_seq
    WHERE p.device_id = ? AND f.record_id IS NOT NULL AND f.kind != 'transfer'
      AND (f.kind != 'credential' OR p.with_credentials = 1)
    GROUP BY f.record_id
"""
# A transfer item carries the whole record, but only to the device it was moved to.
_TRANSFERRED = """
    SELECT t.record_id, MIN(p.at)
    FROM transferred t JOIN pulls p ON p.device_id = t.to_device_id
      AND t.seq > p.from_seq AND t.seq <= p.to_seq
    WHERE t.to_device_id = ?
    GROUP BY t.record_id
"""


def device_records(store: Store, device_id: str) -> list[dict]:
    """One row per registration: record_id, nik_masked, full_name, kelurahan_code, how
    ("pushed", "pulled: nik hash and status", "pulled: card", "pulled: full record (transfer)",
    "listed", "opened"; several joined by "; "), first_at."""
    db = store.reader()
    held: dict[str, dict] = {}
    for record_id, first_at in db.execute(
        "SELECT record_id, first_at FROM pushed WHERE device_id = ?", [device_id]
    ).fetchall():
        held[record_id] = {"how": "pushed", "first_at": first_at}
    for record_id, first_at, card in db.execute(_PULLED, [device_id]).fetchall():
        how = "pulled: card" if card else "pulled: nik hash and status"
        entry = held.setdefault(record_id, {"how": how, "first_at": first_at})
        if entry["how"] != how:
            entry["how"] = f"{entry['how']}; {how}"
    for record_id, first_at in db.execute(_TRANSFERRED, [device_id]).fetchall():
        how = "pulled: full record (transfer)"
        entry = held.setdefault(record_id, {"how": how, "first_at": first_at})
        if how not in entry["how"]:
            entry["how"] = f"{entry['how']}; {how}"
    for record_id, how, first_at in db.execute(
        "SELECT record_id, how, first_at FROM seen WHERE device_id = ?", [device_id]
    ).fetchall():
        entry = held.setdefault(record_id, {"how": how, "first_at": first_at})
        if how not in entry["how"]:
            entry["how"] = f"{entry['how']}; {how}"
            entry["first_at"] = min(entry["first_at"], first_at)
    rows = []
    for record_id, entry in sorted(held.items(), key=lambda kv: kv[1]["first_at"]):
        found = db.execute(
            "SELECT nik, full_name, kelurahan_code FROM registrations WHERE id = ?", [record_id]
        ).fetchone()
        nik, name, kelurahan = found if found else ("", "", "")
        rows.append({"record_id": record_id, "nik_masked": mask_nik(nik), "full_name": name,
                     "kelurahan_code": kelurahan, **entry})
    return rows


def remember_seen(store: Store, device_id: str, record_ids: list[str], how: str) -> None:
    """Note that the server showed these registrations to the device ("listed" or "opened")."""
    if not record_ids:
        return
    at = utc_now_iso(precise=True)
    with store.write() as db:
        db.executemany(
            "INSERT INTO seen (device_id, record_id, how, first_at) VALUES (?,?,?,?) "
            "ON CONFLICT DO NOTHING",
            [(device_id, rid, how, at) for rid in record_ids],
        )
