"""The server's registration rows: writing versions, the same-NIK groups, conflict flags.

Every change to a row raises its `revision` (what a verifier's decision is checked against) and
gives it a new pull sequence number (so it travels to every device again). All functions here run
inside the caller's write transaction.
"""

from __future__ import annotations

import json

from server.store import Store
from storage.models import Registration, Status
from storage.nik import strip_separators

COLUMNS = (
    "id", "arrival", "nik", "nik_hash", "full_name", "birth_date", "kecamatan_code",
    "kelurahan_code", "occupation_code", "cohort", "event_id", "data", "version", "revision",
    "status", "reason_code", "status_reason", "member_number", "programme_year",
    "programme_start", "programme_end", "possible_duplicate", "duplicate_of", "conflict",
    "device_id", "received_at", "updated_at", "seq",
    "pending_version", "pending_data", "pending_device_id", "pending_at", "seen_version",
    "card_outdated",
)
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM registrations"
# A new version sends these back in line for a new look; funded and later keep their status.
_DEFAULTS = {"reason_code": "", "status_reason": "", "member_number": "", "possible_duplicate": 0,
             "conflict": 0, "card_outdated": 0}
# A new version of these goes back in line for a new look; a decided one (verified, funded and
# the card steps) waits as a correction until a verifier approves it (docs/SYNC_API.md §4).
REOPENED = {Status.RECEIVED.value, Status.REJECTED.value}
DECIDED = {Status.VERIFIED.value, Status.FUNDED.value, Status.CARD_PRINTED.value,
           Status.CARD_HANDED_OVER.value}
# What the card prints (name, and cohort or occupation): a change needs a reprint.
CARD_FIELDS = ("full_name", "cohort", "occupation_code")
# Bookkeeping of a version, not something a person changed.
_META_FIELDS = {"id", "version", "device_id", "operator", "created_at", "updated_at",
                "status", "status_reason", "member_number"}


def as_row(values) -> dict:
    return dict(zip(COLUMNS, values, strict=True))


def fetch_row(db, record_id: str) -> dict | None:
    values = db.execute(f"{_SELECT} WHERE id = ?", [record_id]).fetchone()
    return as_row(values) if values else None


def data_columns(store: Store, reg: Registration, text: str | None = None) -> dict:
    """The row's columns for one version. `text` is the record's JSON without the server-owned
    fields when the caller has it already (a push does: it hashed that text)."""
    if text is None:
        data = reg.to_dict()
        for name in ("status", "status_reason", "member_number"):
            data.pop(name, None)
        text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    nik = strip_separators(reg.nik or "")
    return {
        "nik": nik, "nik_hash": store.nik_hash(nik), "full_name": reg.full_name,
        "birth_date": reg.birth_date.isoformat() if reg.birth_date else None,
        "kecamatan_code": reg.kecamatan_code,
        "kelurahan_code": reg.kelurahan_code, "occupation_code": reg.occupation_code,
        "cohort": reg.cohort, "event_id": reg.event_id,
        "data": text,
        "version": reg.version,
    }


def touch(db, record_id: str, now: str, **changes) -> dict:
    """Apply `changes` to a row, raise its revision and give it a new pull sequence number."""
    (seq,) = Store.next_seqs(db, "registration", [record_id])
    changes.update(seq=seq, updated_at=now)
    assignments = ", ".join(f"{k} = ?" for k in changes)
    db.execute(
        f"UPDATE registrations SET {assignments}, revision = revision + 1 WHERE id = ?",
        [*changes.values(), record_id],
    )
    return fetch_row(db, record_id)


def insert_new(db, store: Store, reg: Registration, text: str, device_id: str, now: str,
               *, nik_taken: bool = True) -> dict:
    """Store a registration new to the server. `nik_taken=False` says the caller knows no other
    registration has this NIK: no group to refresh, and the row is returned without a read."""
    (seq,) = Store.next_seqs(db, "registration", [reg.id])
    row = {
        **data_columns(store, reg, text), "id": reg.id, "arrival": seq, "revision": 1,
        "status": Status.RECEIVED.value, "device_id": device_id, "received_at": now,
        "updated_at": now, "seq": seq,
    }
    names = ", ".join(row)
    db.execute(
        f"INSERT INTO registrations ({names}) VALUES ({', '.join('?' for _ in row)})",
        list(row.values()),
    )
    if not nik_taken:
        return {**dict.fromkeys(COLUMNS), **_DEFAULTS, **row}
    refresh_group(db, row["nik"], now)
    return fetch_row(db, reg.id)


def update_version(db, store: Store, row: dict, reg: Registration, text: str,
                   now: str) -> dict:
    changes = data_columns(store, reg, text)
    if row["status"] in REOPENED:
        changes.update(status=Status.RECEIVED.value, reason_code="", status_reason="")
    if row["pending_version"] is not None:  # e.g. rejected as a duplicate while one waited
        changes.update(pending_version=None, pending_data=None, pending_device_id=None,
                       pending_at=None)
    touch(db, row["id"], now, **changes)
    if changes["nik"] != row["nik"]:
        refresh_group(db, row["nik"], now)
    refresh_group(db, changes["nik"], now)
    return fetch_row(db, row["id"])


def hold_correction(db, row: dict, text: str, version: int, device_id: str, now: str) -> dict:
    """Keep a new version of a decided registration aside: the current data stays, the
    registration shows a correction waiting for a verifier (a later one replaces it)."""
    return touch(db, row["id"], now, pending_version=version, pending_data=text,
                 pending_device_id=device_id, pending_at=now,
                 seen_version=max(version, row["seen_version"] or 0))


def changed_fields(current: dict, proposed: dict) -> list[str]:
    """The fields (Registration.to_dict() keys) whose values differ, in a stable order."""
    names = sorted((set(current) | set(proposed)) - _META_FIELDS)
    return [n for n in names if current.get(n) != proposed.get(n)]


def flag_conflict(db, store: Store, row: dict, now: str) -> dict:
    return touch(db, row["id"], now, conflict=1)


def refresh_group(db, nik: str, now: str) -> None:
    """Recompute the duplicate flags of every registration with this NIK.

    The first to arrive is the original; later ones point at it. A registration rejected as a
    duplicate has left the group. A group of one carries no flag.
    """
    if not nik:
        return
    # One rejected as a duplicate has left the group: it loses its flag too (else it stays in
    # the duplicates filter and its device keeps showing "duplikat" instead of "ditolak").
    for (record_id,) in db.execute(
        "SELECT id FROM registrations WHERE nik = ? AND status = 'rejected' "
        "AND reason_code = 'duplicate' AND (possible_duplicate != 0 OR duplicate_of IS NOT NULL)",
        [nik],
    ).fetchall():
        touch(db, record_id, now, possible_duplicate=0, duplicate_of=None)
    members = db.execute(
        "SELECT id, possible_duplicate, duplicate_of FROM registrations WHERE nik = ? "
        "AND NOT (status = 'rejected' AND reason_code = 'duplicate') ORDER BY arrival",
        [nik],
    ).fetchall()
    grouped = len(members) > 1
    first = members[0][0] if members else None
    for record_id, flagged, duplicate_of in members:
        want = (1, None if record_id == first else first) if grouped else (0, None)
        if (flagged, duplicate_of) != want:
            touch(db, record_id, now, possible_duplicate=want[0], duplicate_of=want[1])
