"""The record rules on the server: the same Qt-free module the app validates with
(`storage.validation`), with the city's region file and the dated programme configuration."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime

from storage.config import load_program_config
from storage.models import Registration, ValidationResult
from storage.regions import load_regions
from storage.validation import validate_registration

EARLIEST_AS_OF = date(2020, 1, 1)


def server_today() -> date:
    return datetime.now(UTC).date()


def reference_date(reg: Registration, today: date | None = None) -> date:
    """The day the rules are applied as of: the day consent was given on the device (ages and
    the configuration in force then), kept within [2020-01-01, today] because device clocks can
    be wrong after a battery swap."""
    today = today or server_today()
    try:
        given = datetime.fromisoformat(reg.consent_at).date() if reg.consent_at else today
    except ValueError:
        given = today
    return min(max(given, EARLIEST_AS_OF), today)


@functools.cache
def _resources():
    # Loaded once per server process: resolving the file paths on every record of a 15,000-record
    # sync costs more than the rules themselves. A new region or programme file needs a restart.
    return load_regions(), load_program_config()


def validate(reg: Registration, today: date | None = None) -> ValidationResult:
    """Errors and warnings for one pushed record. Duplicates are the server's own business (it
    sees every registration), so the validator's duplicate source is not used here."""
    regions, config = _resources()
    return validate_registration(
        reg, as_of=reference_date(reg, today), regions=regions, config=config, duplicates=None,
    )


def card_validity_rule(on: date):
    """The card validity rule (cards/validity.py) of the programme configuration in force on
    `on`: how long the cards the server signs are valid."""
    from cards.validity import rule_for

    return rule_for(on, _resources()[1])
