"""Applying what the server says to the local database: per-record push answers and pull pages
(docs/SYNC_API.md §4, §5). The caller owns the transaction; nothing here commits. Every
statement is in storage/ (`registry.sync`, `registry.cards`, storage/trust.py,
storage/programme.py)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from cards import desk
from storage import programme, trust
from storage.models import Status
from storage.registry import KnownRegistration
from storage.vocabulary import utc_now_iso
from sync import state

if TYPE_CHECKING:
    from storage.registry import Registry

log = logging.getLogger(__name__)


def apply_page(registry: Registry, changes: list[dict]) -> None:
    """One pull page: records moved to or from this device, known registrations, this device's
    records (statuses, answers, corrections), cards and revocations."""
    apply_transfers(registry, [c for c in changes if c.get("kind") == "transfer"])
    registrations = [c for c in changes if c.get("kind") == "registration" and c.get("id")]
    known = [
        KnownRegistration(
            id=str(c["id"]), nik_hash=str(c.get("nik_hash", "")), status=str(c.get("status", ""))
        )
        for c in registrations
        if c.get("nik_hash")
    ]
    if known:
        registry.remember_known(known)
    own = registry.sync.own_versions([str(c["id"]) for c in registrations])
    mine = [c for c in registrations if str(c["id"]) in own]
    if mine:
        _apply_statuses(registry, own, [_status_row(c) for c in mine])
        # A record moved to another device is that device's to correct: its answers there
        # (e.g. the refusal of a late version sent from here) stay as they are.
        away = trust.transferred_away(registry)
        state.record_answers(registry, [_own_answer(c) for c in mine if str(c["id"]) not in away])
    if registrations:
        trust.set_card_outdated(registry, [(str(c["id"]), bool(c.get("card_outdated")))
                                     for c in registrations], utc_now_iso())
    _correction_answers(registry, [c for c in changes if c.get("kind") == "event"])
    remember_kegiatan(registry, changes)
    for change in changes:
        if change.get("kind") == "credential" and change.get("qr") and change.get("id"):
            _store_credential(registry, change)
    revoked = [c for c in changes if c.get("kind") == "revocation"]
    if revoked:
        desk.apply_revocations(registry, revoked)
    # The programme office: KPJ numbers, claim and PDP steps, erasures (storage/programme.py).
    programme.apply_items(registry, changes, utc_now_iso())


def remember_kegiatan(registry: Registry, changes: list[dict]) -> None:
    """The kegiatan a page names (`event_id` with `event_name`, on credential items), kept in
    this device's `events` table so that its lists and filters show the name. A kegiatan the
    device already has (its own, with its date and kelurahan) is left as it is."""
    named = {
        str(c["event_id"]): " ".join(str(c["event_name"]).split())
        for c in changes
        if c.get("event_id") and isinstance(c.get("event_name"), str) and c["event_name"].strip()
    }
    if named:
        registry.sync.add_event_names(named, utc_now_iso())


def _apply_statuses(registry: Registry, own: dict[str, int], rows: list[tuple]) -> None:
    """"received" is the server's delivery receipt (kept with its time in sync_answers) and is
    written in bulk; a decision (verified, rejected, funded, card steps) goes through the
    registry, which audits it. Either only when the server has seen the device's current
    version: an unsent newer version keeps its own state."""
    receipts = [r for r in rows if r[2] == Status.RECEIVED.value]
    registry.sync.set_server_statuses(receipts)
    for record_id, version, status, reason, member_number in rows:
        if status != Status.RECEIVED.value and own[record_id] <= version:
            registry.update_status(record_id, status, status_reason=reason,
                                   member_number=member_number, by="server")


def apply_transfers(registry: Registry, items: list[dict]) -> None:
    """Registrations an admin moved (docs/SYNC_API.md §3): to this device, kept as its own with
    the full current data the item carries; from this device, marked as no longer its own."""
    me = state.device_id(registry)
    if not me:
        return
    for item in items:
        record_id, at = str(item.get("id") or ""), str(item.get("at") or utc_now_iso())
        if not record_id:
            continue
        if item.get("to_device_id") == me and isinstance(item.get("data"), dict):
            try:
                trust.adopt(registry, item["data"],
                            status=str(item.get("status") or Status.RECEIVED.value),
                            status_reason=str(item.get("status_reason", "")),
                            member_number=str(item.get("member_number", "")),
                            from_device_id=str(item.get("from_device_id", "")), at=at)
            except (TypeError, ValueError) as exc:  # data this version cannot read: skip it
                log.warning("transferred record not kept: %s", type(exc).__name__)
        elif item.get("from_device_id") == me and item.get("to_device_id"):
            trust.mark_transferred(registry, record_id, str(item["to_device_id"]), at)


def _correction_answers(registry: Registry, events: list[dict]) -> None:
    """A verifier's rejection of one of this device's corrections, with its reason, as the
    record's answer (an approval comes with the registration item: the version is current)."""
    rejected = [e for e in events if e.get("event") == "correction_rejected" and e.get("id")]
    if not rejected:
        return
    own = registry.sync.own_versions([str(e["id"]) for e in rejected])
    away = trust.transferred_away(registry)
    answers = [
        state.Answer(str(e["id"]), int(e.get("version") or 0), state.CORRECTION_REJECTED,
                     [{"field": "", "code": str(e.get("reason_code") or "correction.rejected"),
                       "message": str(e.get("reason") or "Koreksi ditolak verifikator.")}],
                     answered_at=str(e.get("at") or ""))
        for e in rejected if str(e["id"]) in own and str(e["id"]) not in away
    ]
    if answers:
        state.record_answers(registry, answers)


def _server_version(change: dict) -> int:
    """The newest version of the record the server has answered for: its current one, or a
    correction of it that waits or was rejected. The server's status applies to it."""
    return max(int(change.get("version", 0)), int(change.get("pending_version") or 0),
               int(change.get("seen_version") or 0))


def _status_row(change: dict) -> tuple[str, int, str, str, str]:
    return (str(change["id"]), _server_version(change),
            str(change.get("status") or Status.RECEIVED.value),
            str(change.get("status_reason", "")), str(change.get("member_number", "")))


def _own_answer(change: dict) -> state.Answer:
    """What a person must see about one of this device's records: a duplicate or conflict
    waiting at the server, a verifier's rejection with its reason, or nothing (accepted)."""
    answer = state.Answer(str(change["id"]), int(change.get("version", 0)), state.ACCEPTED, [])
    if change.get("correction_pending") and change.get("pending_version"):
        answer.outcome, answer.version = state.CORRECTION_PENDING, int(change["pending_version"])
    elif change.get("possible_duplicate"):
        answer.outcome = state.DUPLICATE
        answer.duplicate_of = str(change.get("duplicate_of") or "")
    elif change.get("conflict"):
        answer.outcome = state.CONFLICT
    elif change.get("status") == Status.REJECTED.value:
        answer.outcome = state.REJECTED
        code = str(change.get("reason_code", "")) or "verifier.rejected"
        reason = str(change.get("status_reason", "")) or "Ditolak verifikator."
        answer.errors = [{"field": "", "code": code, "message": reason}]
    return answer


def _store_credential(registry: Registry, change: dict) -> None:
    """The card desk keeps signed cards with their holder's details (it may never have held
    the registration); one the device cannot read is skipped, not fatal (a newer key or format
    it does not know yet), so the rest of the page still applies."""
    try:
        holder = {name: change[name] for name in desk.HOLDER_FIELDS if name in change}
        desk.store_credential(registry, str(change["id"]), str(change["qr"]), holder=holder)
    except (ValueError, KeyError) as exc:
        log.warning("credential for serial %s not stored: %s", change.get("serial"),
                    type(exc).__name__)
