"""Duplicate checks against everything this device knows (storage/validation.py's
DuplicateFinder): own records by plain NIK and by a similar name with the same birth date, and
the server's registrations (`known_registrations`, kept from pull) by keyed NIK hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from rapidfuzz import fuzz, process
from sqlite_utils import Database

from storage.db import storage_errors
from storage.models import mask_nik
from storage.normalize import name_key

SIMILAR_NAME_SCORE = 85  # rapidfuzz score (0-100) of name keys from which two names look alike


@dataclass
class KnownRegistration:
    """A registration the server told this device about (any device's)."""

    id: str
    nik_hash: str
    status: str = ""
    source: str = "server"
    updated_at: str = ""


def nik_hash(key_b64: str, nik: str) -> str:
    """Keyed hash of a NIK as the server sends it (docs/SYNC_API.md §3): lowercase hex of the
    first 16 bytes of HMAC-SHA256(key, nik), `key` being the base64 `nik_hash_key`."""
    key = base64.b64decode(key_b64)
    return hmac.new(key, nik.encode("ascii"), hashlib.sha256).digest()[:16].hex()



class DuplicateChecks:
    """The registry's duplicate checks (mixed into storage.registry.Registry)."""

    _db: Database  # and get_setting(name), the registry's

    def exact_nik(self, nik: str, exclude_id: str | None = None) -> list:
        """Registrations with this NIK: own records by plain NIK, the server's by keyed hash."""
        hits = []
        rows = self._db.execute(
            "SELECT id, full_name, birth_date, nik, status FROM workers WHERE nik = ? AND id != ?",
            [nik, exclude_id or ""],
        ).fetchall()
        own_ids = {r[0] for r in rows}
        for rid, full_name, birth, nik_value, status in rows:
            hits.append(_make_hit(rid, full_name, birth, mask_nik(nik_value), "local", status))
        key = self.get_setting("nik_hash_key")
        if key:
            for rid, status in self._db.execute(
                "SELECT id, status FROM known_registrations WHERE nik_hash = ? AND id != ?",
                [nik_hash(key, nik), exclude_id or ""],
            ).fetchall():
                if rid not in own_ids and not self._is_own(rid):
                    hits.append(_make_hit(rid, "", None, mask_nik(nik), "server", status))
        return hits


    def similar(self, full_name: str, birth_date: date | None,
                exclude_id: str | None = None) -> list:
        """Own registrations with the same birth date and a name that looks alike."""
        if birth_date is None or not full_name.strip():
            return []
        wanted = name_key(full_name)
        born_that_day = self._db.execute(
            "SELECT rowid, name_key FROM workers WHERE birth_date = ?",  # index only
            [birth_date.isoformat()],
        ).fetchall()
        alike = [born_that_day[i][0] for i in _alike_positions(wanted, [r[1] for r in born_that_day])]
        hits = []
        for rowid in alike:
            rid, other, nik, status = self._db.execute(
                "SELECT id, full_name, nik, status FROM workers WHERE rowid = ?", [rowid]
            ).fetchone()
            if rid != exclude_id:
                hits.append(_make_hit(rid, other, birth_date, mask_nik(nik), "local", status))
        return hits


    def _is_own(self, reg_id: str) -> bool:
        return self._db.execute(
            "SELECT 1 FROM workers WHERE id = ?", [reg_id]).fetchone() is not None


    def remember_known(self, items: Iterable[KnownRegistration]) -> int:
        """Store or update registrations the server reported, for offline duplicate checks."""
        rows = [(k.id, k.nik_hash, k.status, k.source, k.updated_at) for k in items]
        with storage_errors(), self._db.atomic():
            self._db.conn.executemany(
                "INSERT INTO known_registrations (id, nik_hash, status, source, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET nik_hash = excluded.nik_hash,"
                " status = excluded.status, source = excluded.source, "
                "updated_at = excluded.updated_at",
                rows,
            )
        return len(rows)



def _alike_positions(wanted: str, keys: list[str]) -> list[int]:
    """Positions in `keys` of the name keys that look alike to `wanted` (`_names_alike`), in
    order. rapidfuzz scores the whole list in C: at 1,000,000 workers some 70 share a birth
    date, and one call per name from Python took a quarter of a millisecond."""
    if not wanted:
        return []
    found: set[int] = set()
    for scorer in (fuzz.ratio, fuzz.token_sort_ratio):
        found.update(index for _key, _score, index in process.extract(
            wanted, keys, scorer=scorer, processor=None, score_cutoff=SIMILAR_NAME_SCORE,
            limit=None))
    return sorted(i for i in found if keys[i])


def _names_alike(a: str, b: str) -> bool:
    """Name keys that look alike: the same words in any order, or close in spelling (a typo, a
    letter dropped). rapidfuzz's scores are the normalised Indel similarity, as difflib's ratio
    but exact and computed in C: a save checks every worker born on the same day."""
    if not a or not b:
        return False
    return (fuzz.ratio(a, b, score_cutoff=SIMILAR_NAME_SCORE) > 0
            or fuzz.token_sort_ratio(a, b, score_cutoff=SIMILAR_NAME_SCORE) > 0)


def _make_hit(reg_id: str, full_name: str, birth: Any, nik_masked: str, where: str,
              status: str = ""):
    from storage.validation import DuplicateHit

    birth_date = date.fromisoformat(birth) if isinstance(birth, str) and birth else birth
    return DuplicateHit(reg_id, nik_masked, full_name, birth_date or None, where, status)

