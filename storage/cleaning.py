"""What a save does to a registration before it is judged (storage/validation.py) and stored:
names trimmed and spaces collapsed, phones in 08… form, NIK separators removed, empty heir rows
dropped. What cannot be cleaned is left as typed, for the validator to say what is wrong.
"""

from __future__ import annotations

import copy
from typing import Any

from storage.models import Heir, Registration
from storage.nik import NIK_LENGTH, strip_separators
from storage.normalize import check_phone, normalize_name


def as_text(value: Any) -> str:
    """Fields arrive from forms, files and the network: anything that is not text counts as
    what it prints as, and None as empty."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _clean_nik(value: Any) -> Any:
    """Separators go only when what is left is a 16-digit NIK; anything else stays as typed so
    that the validator can say what is wrong with it."""
    if not isinstance(value, str):
        return value
    compact = strip_separators(value)
    if len(compact) == NIK_LENGTH and compact.isascii() and compact.isdigit():
        return compact
    return value.strip()


def _clean_phone(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    result = check_phone(value)
    return result.normalized if result.error is None else value.strip()


def _clean_text(value: Any) -> Any:
    return normalize_name(value) if isinstance(value, str) else value


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _clean_heir(heir: Any) -> Any:
    if not isinstance(heir, Heir):
        return heir
    return Heir(
        name=_clean_text(heir.name),
        relationship=_strip(heir.relationship),
        phone=_clean_phone(heir.phone),
        nik=_clean_nik(heir.nik),
    )


def _is_blank_heir(heir: Any) -> bool:
    return isinstance(heir, Heir) and not any(
        as_text(v).strip() for v in (heir.name, heir.relationship, heir.phone, heir.nik))


def clean_registration(reg: Registration) -> Registration:
    """A copy of `reg` as it should be stored: names trimmed and spaces collapsed (accents and
    apostrophes kept), phones in 08… form, NIK separators removed, empty heir rows dropped.
    Values that cannot be cleaned are left for the validator to report."""
    cleaned = copy.copy(reg)  # shallow: heirs are rebuilt below, the rest is immutable
    cleaned.nik = _clean_nik(reg.nik)
    cleaned.full_name = _clean_text(reg.full_name)
    cleaned.birth_place = _clean_text(reg.birth_place)
    cleaned.street = _clean_text(reg.street)
    cleaned.rt, cleaned.rw = _strip(reg.rt), _strip(reg.rw)
    cleaned.postal_code = _strip(reg.postal_code)
    cleaned.phone = _clean_phone(reg.phone)
    cleaned.notes = _strip(reg.notes)
    if isinstance(reg.heirs, list):
        cleaned.heirs = [_clean_heir(h) for h in reg.heirs if not _is_blank_heir(h)]
    return cleaned
