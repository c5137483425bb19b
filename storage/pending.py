"""Duplicate checks that also see registrations about to be saved in the same group.

An import judges a group of rows before it writes them in one go (`Registry.save_many`), and a
dry run never writes at all; either way a later row with the same NIK, or a similar name and
the same birth date, must be judged as if the earlier row were already saved. `Pending` answers
the DuplicateFinder questions of storage/validation.py from the registry and from the rows
added to it, and describes a pending row as the saved row will be described.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING

from storage.models import Registration, Status, mask_nik
from storage.normalize import name_key

if TYPE_CHECKING:
    from storage.registry import Registry


class Pending:
    def __init__(self, registry: Registry):
        self.registry = registry
        self.by_nik: dict[str, Registration] = {}
        self.by_birth: dict[date, list[tuple[str, Registration]]] = defaultdict(list)

    def add(self, reg: Registration) -> None:
        self.by_nik.setdefault(reg.nik, reg)
        if reg.birth_date is not None:
            self.by_birth[reg.birth_date].append((name_key(reg.full_name), reg))

    def exact_nik(self, nik: str, exclude_id: str | None = None) -> list:
        hits = self.registry.exact_nik(nik, exclude_id)
        pending = self.by_nik.get(nik)
        if pending is not None:
            hits.append(_hit(pending))
        return hits

    def similar(self, full_name: str, birth_date: date | None,
                exclude_id: str | None = None) -> list:
        from storage.duplicates import _names_alike

        hits = self.registry.similar(full_name, birth_date, exclude_id)
        if birth_date is not None:
            wanted = name_key(full_name)
            hits += [_hit(reg) for key, reg in self.by_birth.get(birth_date, ())
                     if _names_alike(wanted, key)]
        return hits


def _hit(reg: Registration):
    from storage.validation import DuplicateHit

    return DuplicateHit(reg.id or f"pending:{id(reg)}", mask_nik(reg.nik), reg.full_name,
                        reg.birth_date, "local", reg.status or Status.REGISTERED.value)
