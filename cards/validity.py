"""How long a card is valid, and the card desk's warning for a card that will soon expire.

The validity follows the programme's funded period, not the calendar of printing: a card is valid
from the day its holder was funded (at the earliest 1 January of the programme year) through
31 December of the programme year plus `years_after_funded_year` (programme configuration,
section "card"). So a card issued in December does not expire that month, and a member who is
funded again the next year keeps the card instead of having it reprinted every January.
CARD_QR_FORMAT.md §3.4. Used by the server when it signs a card, by the demo signer and by the
card desk; no Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from storage.vocabulary import show_date


@dataclass(frozen=True)
class ValidityRule:
    years_after_funded_year: int = 1  # the card covers the funded year and this many more
    warn_below_days: int = 90  # the desk warns before printing a card valid for fewer days


def rule_for(on: date, config=None) -> ValidityRule:
    """The rule of the programme configuration in force on `on` (default configuration file)."""
    from storage.config import load_program_config

    version = (config or load_program_config()).for_date(on)
    return ValidityRule(version.card_years_after_funded_year, version.card_warn_below_days)


def card_validity(funded_on: date, programme_year: int,
                  rule: ValidityRule | None = None) -> tuple[date, date]:
    """(valid from, valid until) of the card of a member funded on `funded_on` for
    `programme_year`: from the funding day (not before the year starts) through 31 December of
    the programme year plus the rule's further years."""
    rule = rule or ValidityRule()
    start = max(funded_on, date(programme_year, 1, 1))
    return start, date(programme_year + rule.years_after_funded_year, 12, 31)


def days_left(valid_until: date, today: date) -> int:
    """Days on which the card is still valid, today included (0 once it has expired)."""
    return max(0, (valid_until - today).days + 1)


# The desk's warnings, filled from the card's end and days left (a window in another language
# passes the same keys in its own words).
WARNING_TEXTS = {
    "expired": "Masa berlaku kartu ini sudah habis pada {until}.",
    "short": "Kartu ini hanya berlaku {left} hari lagi (sampai {until}), kurang dari {below} "
             "hari.",
    "batch": "{short} dari {total} kartu berlaku kurang dari {below} hari lagi (paling cepat "
             "sampai {until}).",
}


def short_validity_warning(valid_until: date | str, today: date | None = None,
                           warn_below_days: int = ValidityRule.warn_below_days,
                           texts: dict[str, str] = WARNING_TEXTS) -> str:
    """A warning for the desk (Indonesian unless other `texts`) when a card printed today
    would be valid for fewer than `warn_below_days` days, or "" when it is not."""
    from cards.credential import wib_today

    if isinstance(valid_until, str):
        valid_until = date.fromisoformat(valid_until)
    today = today or wib_today()
    left = days_left(valid_until, today)
    if left >= warn_below_days:
        return ""
    if left == 0:
        return texts["expired"].format(until=show_date(valid_until))
    return texts["short"].format(left=left, until=show_date(valid_until), below=warn_below_days)


def batch_warning(valid_untils, today: date | None = None,
                  warn_below_days: int = ValidityRule.warn_below_days,
                  texts: dict[str, str] = WARNING_TEXTS) -> str:
    """One warning for a batch about to be printed: how many of its cards are valid for fewer
    than `warn_below_days` days and the earliest end, or "" when none is."""
    from cards.credential import wib_today

    today = today or wib_today()
    ends = [date.fromisoformat(v) if isinstance(v, str) else v for v in valid_untils]
    short = sorted(e for e in ends if days_left(e, today) < warn_below_days)
    if not short:
        return ""
    if len(ends) == 1:
        return short_validity_warning(short[0], today, warn_below_days, texts)
    return texts["batch"].format(short=len(short), total=len(ends), below=warn_below_days,
                                 until=show_date(short[0]))
