"""Demo cards: fund a share of the demo registrations and sign their cards with this device's
local demo key, so that the card desk can be tried at once (`python main.py demo-data`).

Only registrations the demo made are funded (the ids it made, or else rows saved by the demo's
operator and never corrected): a row imported from CSV or typed by an enumerator is never
touched. Funding goes through `Registry.update_status`, the same audited path a server decision
takes on the device, so every funded demo row has its audit entry.

Real member numbers and credentials come from the central server; the demo key is trusted only
on the device that made it (its public key is written to that device's data directory only).
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from cards.credential import CardData, issue_credential
from cards.desk import next_local_serial, store_credential
from cards.keys import ensure_demo_key
from cards.validity import card_validity, rule_for
from storage.db import storage_errors
from storage.demo import DEMO_OPERATOR, highest_member_number, undecided
from storage.models import Cohort, Status
from storage.vocabulary import MEMBER_COHORT_CODES, member_number, member_prefix

if TYPE_CHECKING:
    from storage.registry import Registry


def _next_sequence(registry: Registry, year: int, cohort: str) -> int:
    prefix = member_prefix(year, cohort)
    highest = highest_member_number(registry, prefix)
    return int(highest[len(prefix) :]) + 1 if highest else 1


def fund_demo_members(registry: Registry, data_dir: Path, *, share: float = 0.4, seed: int = 0,
                      today: date | None = None, ids: list[str] | None = None) -> int:
    """Fund `share` of the demo's registrations (`ids`, those it just made; without ids,
    those the demo's operator saved and nobody corrected) that are not funded yet, with member
    numbers in the server's format (JMB-2026-PR-000123) and demo-signed cards valid by the
    programme's rule (cards/validity.py), as the server signs them.
    Returns how many were funded."""
    today = today or date.today()
    private_key, kid = ensure_demo_key(data_dir)
    rows = _fundable(registry, ids)
    chosen = random.Random(seed).sample(rows, round(len(rows) * share))
    chosen.sort(key=lambda r: r[0])
    serial = next_local_serial(registry)
    sequences: dict[str, int] = {}
    start, until = card_validity(today, today.year, rule_for(today))
    with storage_errors(), registry.atomic():
        for reg_id, name, cohort in chosen:
            cohort = cohort if cohort in MEMBER_COHORT_CODES else Cohort.PEKERJA_RENTAN.value
            if cohort not in sequences:
                sequences[cohort] = _next_sequence(registry, today.year, cohort)
            number = member_number(today.year, cohort, sequences[cohort])
            sequences[cohort] += 1
            # The audited path of a decision (an audit entry, no new version, nothing pushed).
            registry.update_status(reg_id, Status.FUNDED.value, member_number=number,
                                   by=DEMO_OPERATOR)
            card = CardData(number, name, cohort, start, until, serial, 1)
            store_credential(registry, reg_id, issue_credential(private_key, kid, card),
                             source="local_demo")
            serial += 1
    return len(chosen)


def _fundable(registry: Registry, ids: list[str] | None) -> list[tuple[str, str, str]]:
    """(id, name, cohort) of the demo's registrations still waiting for a decision, in save
    order: those of `ids`, or (without ids) those the demo's operator saved as version 1."""
    rows = undecided(registry)
    if ids is not None:
        wanted = set(ids)
        return [(r.id, r.full_name, r.cohort) for r in rows if r.id in wanted]
    return [(r.id, r.full_name, r.cohort) for r in rows
            if r.operator == DEMO_OPERATOR and r.version == 1]
