"""GET /sync/pull: the change feed after a cursor (docs/SYNC_API.md §5).

Five kinds of item live in five tables, each with its pull sequence number. A page takes up to
`limit` items of each kind after the cursor, merges them by sequence and keeps the first `limit`:
every item with a sequence up to the last one kept is in this page or an earlier one, so the
cursor can move there safely. Items are serialised by hand, with default values left out: a
fresh device pulls 228,000 registrations, and that is mostly JSON keys otherwise.
"""

from __future__ import annotations

import json

from server.auth import Device
from server.store import Store
from storage.models import mask_nik
from storage.vocabulary import utc_now_iso

CREDENTIAL_ROLES = ("card_desk", "verifier", "admin")

_QUERIES = {
    "registration": (
        "SELECT seq, id, nik_hash, status, version, revision, status_reason, reason_code, "
        "member_number, programme_year, possible_duplicate, duplicate_of, conflict, "
        "pending_version IS NOT NULL, pending_version, "
        "CASE WHEN seen_version > version THEN seen_version END, card_outdated "
        "FROM registrations WHERE seq > ? ORDER BY seq LIMIT ?",
        ("seq", "id", "nik_hash", "status", "version", "revision", "status_reason",
         "reason_code", "member_number", "programme_year", "possible_duplicate",
         "duplicate_of", "conflict", "correction_pending", "pending_version", "seen_version",
         "card_outdated"),
    ),
    "event": (
        "SELECT seq, record_id, event, at, \"by\", reason_code, reason, operator_username, "
        "operator, device_id, version FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
        ("seq", "id", "event", "at", "by", "reason_code", "reason", "operator_username",
         "operator_name", "device_id", "version"),
    ),
    # The card desk prints and sorts cards of workers it never registered: each credential
    # carries its holder's details as registered now (masked NIK only) and the kegiatan's name.
    "credential": (
        "SELECT c.seq, c.record_id, c.member_number, c.name, c.cohort, c.serial, "
        "c.card_version, c.valid_from, c.valid_until, c.key_id, c.qr, r.full_name, r.nik, "
        "r.occupation_code, r.kecamatan_code, r.kelurahan_code, r.event_id, k.name FROM cards c "
        "LEFT JOIN registrations r ON r.id = c.record_id LEFT JOIN kegiatan k ON k.id = r.event_id "
        "WHERE c.seq > ? ORDER BY c.seq LIMIT ?",
        ("seq", "id", "member_number", "name", "cohort", "serial", "card_version",
         "valid_from", "valid_until", "key_id", "qr", "full_name", "nik_masked",
         "occupation_code", "kecamatan_code", "kelurahan_code", "event_id", "event_name"),
    ),
    # Registrations moved to another device (server/transfers.py): only to the two devices, and
    # the full current data (with the NIK) only to the new owner while it still owns it.
    "transfer": (
        "SELECT t.seq, t.record_id, t.from_device_id, t.to_device_id, t.at, "
        "CASE WHEN r.device_id = t.to_device_id AND t.to_device_id = :device THEN r.data END, "
        "r.version, r.status, r.status_reason, r.member_number, r.event_id, k.name "
        "FROM transferred t JOIN registrations r ON r.id = t.record_id "
        "LEFT JOIN kegiatan k ON k.id = r.event_id WHERE t.seq > :cursor "
        "AND (t.from_device_id = :device OR t.to_device_id = :device) ORDER BY t.seq LIMIT :limit",
        ("seq", "id", "from_device_id", "to_device_id", "at", "data", "version", "status",
         "status_reason", "member_number", "event_id", "event_name"),
    ),
    "revocation": (
        "SELECT seq, record_id, serial, card_version, reason FROM revocations "
        "WHERE seq > ? ORDER BY seq LIMIT ?",
        ("seq", "id", "serial", "card_version", "reason"),
    ),
    # The programme office (server/kpj.py, server/pdp.py): BPJS's KPJ number of a member, and
    # a person's erasure, which every device applies to its own copy.
    # An enumerator's laptop receives the KPJ of its own registrations only; the card desk,
    # verifier and admin devices (which print and list every member) receive every one.
    "kpj": (
        "SELECT k.seq, k.record_id, k.kpj, k.start_date FROM kpj_numbers k "
        "JOIN registrations r ON r.id = k.record_id WHERE k.seq > :cursor "
        "AND (:wide = 1 OR r.device_id = :device) ORDER BY k.seq LIMIT :limit",
        ("seq", "id", "kpj", "start_date"),
    ),
    "erasure": (
        "SELECT seq, record_id, at FROM erasures WHERE seq > ? ORDER BY seq LIMIT ?",
        ("seq", "id", "at"),
    ),
}
_BOOLEAN = {"possible_duplicate", "conflict", "correction_pending", "card_outdated"}
# Columns turned into what may travel: the raw NIK never leaves the server in pull, except in a
# transferred record's data, to its new owner.
_CONVERT = {"nik_masked": mask_nik, "data": json.loads}


def _item(kind: str, names: tuple[str, ...], values: tuple) -> dict:
    item = {"seq": values[0], "kind": kind}
    for name, value in zip(names[1:], values[1:], strict=True):
        if name in _CONVERT and value:
            value = _CONVERT[name](value)
        if value:  # defaults ("", 0, None, false) are left out
            item[name] = bool(value) if name in _BOOLEAN else value
    return item


def _params(kind: str, device: Device, cursor: int, limit: int):
    if kind in ("transfer", "kpj"):
        return {"device": device.id, "cursor": cursor, "limit": limit,
                "wide": int(device.role in CREDENTIAL_ROLES)}
    return [cursor, limit]


def page(store: Store, device: Device, cursor: int, limit: int) -> dict:
    kinds = [k for k in _QUERIES if k != "credential" or device.role in CREDENTIAL_ROLES]
    with store.pull_snapshot() as (db, top, horizon):
        if cursor > top:
            # A cursor this server never gave (a new server, or one restored from a backup):
            # start again from the beginning rather than let the device miss everything.
            cursor = 0
        fetched = {k: db.execute(_QUERIES[k][0], _params(k, device, cursor, limit)).fetchall()
                   for k in kinds}
    merged = sorted(
        (values[0], kind, values) for kind, rows in fetched.items() for values in rows
    )
    # Past the horizon a change may still be joined by an earlier one committing late
    # (PostgreSQL's parallel writers, server/store.py): those wait for the next page.
    ready = [m for m in merged if m[0] <= horizon]
    taken = ready[:limit]
    has_more = (len(ready) > limit or len(ready) < len(merged)
                or any(len(rows) == limit for rows in fetched.values()))
    next_cursor = taken[-1][0] if taken else cursor
    if taken:
        _remember(store, device, cursor, next_cursor)
    return {
        "cursor": cursor, "next_cursor": next_cursor, "has_more": has_more,
        "server_time": utc_now_iso(precise=True),
        "changes": [_item(kind, _QUERIES[kind][1], values) for _, kind, values in taken],
    }


def page_json(store: Store, device: Device, cursor: int, limit: int) -> bytes:
    body = page(store, device, cursor, limit)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _remember(store: Store, device: Device, from_seq: int, to_seq: int) -> None:
    """Which sequence range this device received: `server device-records` lists the records
    behind it, for a breach notice."""
    with store.write() as db:
        db.execute(
            "INSERT INTO pulls (device_id, from_seq, to_seq, with_credentials, at) "
            "VALUES (?, ?, ?, ?, ?)",
            [device.id, from_seq, to_seq, int(device.role in CREDENTIAL_ROLES),
             utc_now_iso(precise=True)],
        )
