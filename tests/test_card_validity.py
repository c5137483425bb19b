"""Card validity follows the funded period (cards/validity.py, CARD_QR_FORMAT.md §3.4): a card
issued in December does not expire that month, the server signs cards by that rule, and the card
desk is warned about a card that would be valid for less than 90 days."""

from __future__ import annotations

import json
from datetime import date

import pytest
from server_util import LiveServer, record, workers

from cards.credential import PREFIX, SIGNATURE_BYTES, decode_payload
from cards.validity import (
    ValidityRule,
    batch_warning,
    card_validity,
    days_left,
    rule_for,
    short_validity_warning,
)
from storage.config import DEFAULT_CONFIG_PATH, ConfigError, parse_program_config
from storage.models import Cohort


@pytest.mark.parametrize(("funded_on", "year", "expected"), [
    (date(2026, 12, 1), 2026, (date(2026, 12, 1), date(2027, 12, 31))),  # December: 13 months
    (date(2026, 12, 31), 2026, (date(2026, 12, 31), date(2027, 12, 31))),
    (date(2026, 1, 2), 2026, (date(2026, 1, 2), date(2027, 12, 31))),
    (date(2026, 11, 20), 2027, (date(2027, 1, 1), date(2028, 12, 31))),  # funded ahead
])
def test_a_card_outlives_its_funded_year(funded_on, year, expected):
    start, until = card_validity(funded_on, year, ValidityRule(years_after_funded_year=1))
    assert (start, until) == expected
    assert days_left(until, funded_on) > 365  # never a card that lasts a month


def test_the_rule_is_programme_configuration():
    rule = rule_for(date(2026, 6, 1))
    assert rule == ValidityRule(years_after_funded_year=1, warn_below_days=90)
    data = json.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["versions"].append({"valid_from": "2027-01-01",
                             "card": {"years_after_funded_year": 2, "warn_below_days": 120}})
    config = parse_program_config(data)
    assert rule_for(date(2026, 12, 31), config).years_after_funded_year == 1
    assert rule_for(date(2027, 1, 1), config) == ValidityRule(2, 120)
    assert card_validity(date(2027, 3, 1), 2027, rule_for(date(2027, 3, 1), config))[1] == \
        date(2029, 12, 31)
    data["versions"][-1]["card"]["years_after_funded_year"] = -1
    with pytest.raises(ConfigError):
        parse_program_config(data)


def test_the_desk_warning_below_90_days():
    today = date(2026, 10, 2)
    assert days_left(date(2026, 12, 30), today) == 90
    assert short_validity_warning(date(2026, 12, 30), today) == ""
    warning = short_validity_warning("2026-12-29", today)
    assert "89 hari" in warning and "29-12-2026" in warning
    assert "sudah habis" in short_validity_warning(date(2026, 10, 1), today)
    assert short_validity_warning(date(2026, 12, 29), today, warn_below_days=30) == ""
    assert batch_warning(["2027-12-31", "2026-12-31"], today) == ""
    batch = batch_warning(["2027-12-31", "2026-11-30", "2026-12-01"], today)
    assert batch.startswith("2 dari 3 kartu") and "30-11-2026" in batch
    assert batch_warning(["2026-11-30"], today) == short_validity_warning("2026-11-30", today)


def _card_of(detail: dict):
    from cards import base45

    raw = base45.decode(detail["card"]["qr"][len(PREFIX):])
    return decode_payload(raw[:-SIGNATURE_BYTES])[1]


def test_the_server_signs_cards_by_the_rule(tmp_path):
    from server.decisions import set_quota
    from server.rules import server_today

    live = LiveServer(tmp_path / "server").start()
    try:
        set_quota(live.store, server_today().year + 1, Cohort.PEKERJA_RENTAN.value, 10)
        enumerator = live.enrol("enumerator")
        regs = workers(2, seed=61)
        for reg in regs:
            reg.cohort, reg.occupation_code = Cohort.PEKERJA_RENTAN.value, "ojek_online"
        enumerator.push([record(r, enumerator.device_id) for r in regs])
        verifier = live.enrol("verifier")
        operator = {"username": "rina", "display_name": "Rina"}
        year = server_today().year
        details = []
        for reg, programme_year in zip(regs, (None, year + 1), strict=True):
            for action, extra in (("verify", {}), ("fund", {"programme_year": programme_year})):
                body = {"revision": verifier.registration(reg.id)["revision"],
                        "operator": operator, **{k: v for k, v in extra.items() if v}}
                answer = verifier.post(f"/registrations/{reg.id}/{action}", body)
                assert answer.status_code == 200, answer.text
            details.append(answer.json()["registration"])
        this_year, next_year = details
        card = _card_of(this_year)
        assert card.valid_from == server_today() and card.valid_until == date(year + 1, 12, 31)
        assert this_year["card"]["valid_until"] == f"{year + 1}-12-31"
        assert this_year["programme_end"] == f"{year}-12-31"  # the funded period itself
        card = _card_of(next_year)
        assert (card.valid_from, card.valid_until) == (date(year + 1, 1, 1),
                                                       date(year + 2, 12, 31))
    finally:
        live.stop()
