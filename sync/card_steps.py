"""Card steps recorded at the card desk (printed, handed over) go up to the server during sync
(docs/SYNC_API.md §7), so the worker's status reaches every device.

A step leaves the desk's queue only when the server has answered for it: done, or refused with
a reason (e.g. the card was reprinted meanwhile), which is logged.

A reprint is not queued: an enrolled desk asks the server at once (ops/cards.py), naming
the card version it replaces, because only the server's key is trusted by every device. The
answer carries the new card, which the desk keeps with the revocation of the earlier versions;
the same credential and revocation reach every other device in pull. Each reprint asked carries
its own `request_id`, sent again unchanged when the client retries, so that a request whose
answer was lost after the server applied it is answered with the card it made (not refused as
"already reprinted elsewhere").
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import TYPE_CHECKING, Any

from cards import desk
from storage.vocabulary import REPRINT_REASONS
from sync import state
from sync import verifier as api
from sync.client import Cancelled, Offline, ProtocolError, SyncClient

if TYPE_CHECKING:
    from storage.registry import Registry

log = logging.getLogger(__name__)

CARD_ROLES = ("card_desk", "admin")
_PATHS = {"printed": "card/printed", "handed_over": "card/handed-over"}
# Refusals that are the server's final answer about this step (not about this device).
_ANSWERED = (404, 409, 422)

REPRINT_OFFLINE = (
    "Kartu belum dicetak ulang: perangkat tidak dapat menghubungi server; coba lagi saat "
    "tersambung. Kartu lama tetap tercatat seperti semula."
)
REPRINT_NOT_CURRENT = (
    "Kartu ini sudah dicetak ulang di tempat lain, sehingga versi yang ada di perangkat ini "
    "bukan lagi kartu yang berlaku. Sinkronkan perangkat ini untuk mengambil kartu terbaru, lalu "
    "periksa lagi sebelum mencetak ulang."
)
REPRINT_FORBIDDEN = (
    "Peran perangkat ini tidak berwenang mencetak ulang kartu. Cetak ulang dilakukan di meja "
    "kartu (perangkat petugas cetak kartu atau admin)."
)


def push_card_steps(registry: Registry, client: SyncClient,
                    cancel: threading.Event | None = None) -> int:
    """Send the desk's pending printed / handed-over steps; returns how many were answered."""
    if state.get_meta(registry, "device_role") not in CARD_ROLES:
        return 0
    answered = 0
    pending = [e for e in desk.card_events_pending(registry, 10_000) if e["kind"] in _PATHS]
    for step in pending:
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        try:
            client.call("POST", f"/registrations/{step['registration_id']}/"
                        f"{_PATHS[step['kind']]}", _body(step))
        except ProtocolError as exc:
            if exc.status not in _ANSWERED:
                raise
            log.warning("card step %s refused by the server: %s", step["kind"], exc.code)
        desk.card_events_acknowledge(registry, [step["seq"]])
        answered += 1
    return answered


def _body(step: dict) -> dict:
    """The step as the API wants it, with the operator who recorded it at the desk (username
    kept in the step's detail since operators log in; a step recorded before carries its name
    only, sent as both parts)."""
    name = str(step.get("operator") or "")
    who = {"username": step.get("operator_username") or name, "display_name": name}
    try:
        operator = api.operator_body(who)
    except api.DecisionRefused:
        operator = {"username": "tidak_tercatat", "display_name": "(tidak tercatat)"}
    body = {"card_version": int(step["card_version"]), "operator": operator}
    if step["kind"] == "handed_over":
        body["received_by"] = str(step.get("received_by") or "")[:100]
    return body


# --- reprints, asked of the server --------------------------------------------------------


def send_reprint(client: SyncClient, registration_id: str, card_version: int, reason: str, *,
                 operator: Any, reason_text: str = "") -> dict:
    """Ask the server for a new card replacing `card_version`; returns its Detail. Touches no
    database, so the window runs it on a worker thread. Errors are the sync family with
    messages for the card desk: Offline, DecisionRefused (e.g. `card.not_current`),
    CannotDecide, ServerError."""
    if reason not in REPRINT_REASONS:
        raise desk.CardDeskError("Pilih alasan cetak ulang.")
    # One id for this reprint; SyncClient's retries send the same body, so the same id.
    request_id = str(uuid.uuid4())
    try:
        try:
            return api.card_reprint(client, registration_id, reason, card_version=card_version,
                                    reason_text=reason_text, operator=operator,
                                    request_id=request_id)
        except api.DecisionRefused as exc:
            if not _refuses_request_id(exc):
                raise
            log.warning("the server does not take request_id with a reprint; sent without it")
            return api.card_reprint(client, registration_id, reason, card_version=card_version,
                                    reason_text=reason_text, operator=operator)
    except Offline as exc:
        raise Offline(REPRINT_OFFLINE, detail=exc.detail) from exc
    except api.CannotDecide as exc:
        if exc.detail.startswith("403"):
            raise api.CannotDecide(REPRINT_FORBIDDEN, detail=exc.detail) from exc
        raise
    except api.DecisionRefused as exc:
        if exc.code != "card.not_current":
            raise
        raise api.DecisionRefused(REPRINT_NOT_CURRENT, detail=exc.detail, code=exc.code,
                                  status=exc.status) from exc


def _refuses_request_id(exc: ProtocolError) -> bool:
    """A 422 about the body's `request_id`: a server from before reprints carried one."""
    details = exc.details if isinstance(exc.details, list) else []
    return exc.status == 422 and any(
        isinstance(d, dict) and list(d.get("loc") or [])[:2] == ["body", "request_id"]
        for d in details
    )


def keep_reprint(registry: Registry, registration_id: str, answer: dict, card_version: int,
                 reason: str, *, operator: Any, reason_text: str = "") -> tuple[int, int]:
    """Keep the server's answer to `send_reprint`: the new card with its holder, and the
    revocation of the earlier versions. Returns the new (serial, version)."""
    detail = answer.get("registration") if isinstance(answer, dict) else None
    card = (detail or {}).get("card") or {}
    if not card.get("qr") or int(card.get("card_version") or 0) <= card_version:
        raise ProtocolError(detail="reprint answer without a newer card")
    holder = {name: detail.get(name) or "" for name in desk.HOLDER_FIELDS}
    try:
        return desk.store_server_reprint(registry, registration_id, str(card["qr"]),
                                         reason=reason, operator=operator,
                                         reason_text=reason_text, holder=holder)
    except ValueError as exc:  # a credential this device cannot read
        raise ProtocolError(detail=f"unreadable reprint credential: {type(exc).__name__}") from exc
