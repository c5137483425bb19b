"""What the programme office's modules share (server/bpjs_export.py, kpj.py, claims.py, pdp.py):
their audit, the revocation of a member's card with a reason, and the guard that keeps a member
recorded as dead from being funded, carded or reprinted.

The office audit holds who did what and when, with counts and hashes: never a personal field,
so that an erasure leaves nothing of the person in it but the record id.
"""

from __future__ import annotations

import json

from server.auth import Device
from server.errors import ApiError
from server.store import Store
from storage.config import load_program_config
from storage.models import Status

# Statuses of a member whose cover is (or was until now) paid by the city.
MEMBER_STATUSES = {Status.FUNDED.value, Status.CARD_PRINTED.value, Status.CARD_HANDED_OVER.value}
ENDED_STATUSES = {Status.DIED.value, Status.INACTIVE.value}


def office_config():
    return load_program_config().office


def who(operator: dict) -> tuple[str, str]:
    """(username, display name) of a request's operator, spaces collapsed."""
    return (str(operator.get("username") or "").strip(),
            " ".join(str(operator.get("display_name") or "").split()))


def audit(db, action: str, device: Device | None, operator: dict, now: str, *,
          record_id: str = "", detail: dict | None = None) -> None:
    """One entry of the office audit, inside the caller's transaction."""
    username, name = who(operator)
    db.execute(
        "INSERT INTO office_audit (at, action, record_id, device_id, operator_username, "
        "operator, detail) VALUES (?,?,?,?,?,?,?)",
        [now, action, record_id, device.id if device is not None else "", username, name,
         json.dumps(detail or {}, ensure_ascii=False, sort_keys=True)],
    )


def filtered_rows(store: Store, sql: str, column: str, value: str | None, order: str,
                  limit: int) -> list[tuple]:
    """The rows of `sql`, only those whose `column` is `value` when a value is given, in
    `order`, at most `limit`: the office's lists with one optional filter. `column` and `order`
    are the caller's constants; `value` is always a parameter."""
    where, args = (f" WHERE {column} = ?", [value]) if value else ("", [])
    return store.reader().execute(f"{sql}{where} ORDER BY {order} LIMIT ?",
                                  [*args, limit]).fetchall()


def audit_entries(store: Store, action: str | None = None, limit: int = 100) -> list[dict]:
    """The newest office audit entries (of one action), newest first."""
    sql = ("SELECT id, at, action, record_id, device_id, operator_username, operator, detail "
           "FROM office_audit")
    rows = filtered_rows(store, sql, "action", action, "id DESC", limit)
    keys = ("id", "at", "action", "record_id", "device_id", "operator_username", "operator",
            "detail")
    return [{**dict(zip(keys, r, strict=True)), "detail": json.loads(r[7])} for r in rows]


def revoke_cards(db, record_id: str, now: str, reason: str) -> int:
    """Revoke every card of a member still valid (onto the revocation list devices pull)."""
    cards = db.execute(
        "SELECT serial, card_version FROM cards WHERE record_id = ? AND revoked_at IS NULL",
        [record_id],
    ).fetchall()
    for serial, version in cards:
        (seq,) = Store.next_seqs(db, "revocation", [record_id])
        db.execute(
            "INSERT INTO revocations (seq, record_id, serial, card_version, at, reason) "
            "VALUES (?,?,?,?,?,?)", [seq, record_id, serial, version, now, reason],
        )
    db.execute("UPDATE cards SET revoked_at = ? WHERE record_id = ? AND revoked_at IS NULL",
               [now, record_id])
    return len(cards)


def refuse_if_dead(db, record_id: str, action: str) -> None:
    """A member recorded as dead is never funded, given a card or reprinted."""
    row = db.execute("SELECT died_on FROM claims WHERE record_id = ?", [record_id]).fetchone()
    if row is not None:
        raise ApiError(
            409, "member.died",
            f"Peserta ini sudah tercatat meninggal dunia ({row[0]}); tidak dapat {action}.",
        )
