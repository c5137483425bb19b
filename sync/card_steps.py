"""Card steps recorded at the card desk (printed, handed over) go up to the server during sync
(docs/SYNC_API.md §7), so the worker's status reaches every device.

A step leaves the desk's queue only when the server has answered for it: done, or refused with
a reason (e.g. the card was reprinted meanwhile), which is logged. Reprints are issued by the
server through its own request (with the registration's revision) and stay in the queue here.
"""

from __future__ import annotations

import logging
import threading

from cards import desk
from sync import state
from sync.client import Cancelled, ProtocolError, SyncClient

log = logging.getLogger(__name__)

CARD_ROLES = ("card_desk", "admin")
_PATHS = {"printed": "card/printed", "handed_over": "card/handed-over"}
# Refusals that are the server's final answer about this step (not about this device).
_ANSWERED = (404, 409, 422)


def push_card_steps(registry, client: SyncClient, cancel: threading.Event | None = None) -> int:
    """Send the desk's pending printed / handed-over steps; returns how many were answered."""
    if state.get_meta(registry.db, "device_role") not in CARD_ROLES:
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
    body = {"card_version": int(step["card_version"])}
    if step.get("operator"):
        body["operator"] = str(step["operator"])[:100]
    if step["kind"] == "handed_over":
        body["received_by"] = str(step.get("received_by") or "")[:100]
    return body
