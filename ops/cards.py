"""The card desk's steps of several parts: a reprint and a hand-over, for the window
(ui/card_desk.py) and `main.py cards reprint|handover` alike.

A reprint on a device enrolled with a server is asked of the server, whose key every device
trusts; a device without a server (the demo) signs with its own demo key. The window runs the
parts on different threads (the database on its writer, the request on a pool, so the writer
never waits for the network): `plan_reprint` reads, `ask_server` sends, `keep_answer` keeps.
The command line runs them one after the other through `reprint`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cards import desk
from cards.keys import ensure_demo_key
from sync import card_steps
from sync.client import SyncClient
from sync.enrol import client_for, is_enrolled


@dataclass
class ReprintPlan:
    """How this device reprints one member's card: locally (`client` is None) or by asking the
    server for a card newer than `card_version`, the one held here."""

    registration_id: str
    client: SyncClient | None = None
    card_version: int = 0
    own_client: bool = True  # made for this reprint: closed once the server has answered

    @property
    def on_server(self) -> bool:
        return self.client is not None


def plan_reprint(registry, registration_id: str, *,
                 client: SyncClient | None = None) -> ReprintPlan:
    """Reads only. The card version is read before a client is made (nothing left to close
    when the read fails). A `client` given is used and left open (tests, other retries)."""
    if not is_enrolled(registry):
        return ReprintPlan(registration_id)
    version = desk.current_card_version(registry, registration_id)
    return ReprintPlan(registration_id, client or client_for(registry), version,
                       own_client=client is None)


def ask_server(plan: ReprintPlan, reason: str, *, operator: Any) -> dict:
    """The server's new card for an enrolled device's plan (touches no database); closes the
    plan's client. Errors are the sync family with the card desk's messages."""
    try:
        return card_steps.send_reprint(plan.client, plan.registration_id, plan.card_version,
                                       reason, operator=operator)
    finally:
        if plan.own_client:
            plan.client.close()


def keep_answer(registry, plan: ReprintPlan, answer: dict, reason: str, *,
                operator: Any) -> tuple[int, int]:
    """Keep the server's new card and the revocation of the earlier ones: (serial, version)."""
    return card_steps.keep_reprint(registry, plan.registration_id, answer, plan.card_version,
                                   reason, operator=operator)


def reprint_locally(registry, registration_id: str, reason: str, *, operator: Any,
                    data_dir: Path | None = None) -> tuple[int, int]:
    """A device without a server: a new version signed with this device's demo key."""
    signer = ensure_demo_key(data_dir or desk.data_dir_of(registry))
    return desk.reprint(registry, registration_id, reason, operator=operator, signer=signer)


def reprint(registry, registration_id: str, reason: str, *, operator: Any,
            data_dir: Path | None = None, client: SyncClient | None = None) -> tuple[int, int]:
    """The whole reprint on one thread (the command line): (serial, version) of the new card,
    the earlier versions revoked. On any failure nothing changes here."""
    plan = plan_reprint(registry, registration_id, client=client)
    if not plan.on_server:
        return reprint_locally(registry, registration_id, reason, operator=operator,
                               data_dir=data_dir)
    answer = ask_server(plan, reason, operator=operator)
    return keep_answer(registry, plan, answer, reason, operator=operator)


def hand_over(registry, registration_id: str, *, received_by: str, operator: Any) -> None:
    """The printed card was given to the member or their representative (CardDeskError when it
    cannot be: no printed card, no name)."""
    desk.mark_handed_over(registry, registration_id, received_by=received_by,
                          operator=operator)
