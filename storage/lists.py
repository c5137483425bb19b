"""The registrations list: filters, pages newest first, counts and the day's figures.

A page is read in two steps: its save sequence numbers from an index alone (the name index for
words, the NIK index for a long NIK prefix), then only that page's rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlite_utils import Database

from storage.db import storage_errors
from storage.models import mask_nik
from storage.programme import kpj_numbers, kpj_of
from storage.rows import WAITING_FOR_SERVER

NIK_INDEX_MIN_DIGITS = 8  # NIK prefixes at least this long are looked up in the NIK index


@dataclass
class RegistrationFilter:
    text: str = ""  # name words (prefix search) or, when digits, a NIK prefix
    kelurahan_code: str = ""
    event_id: str = ""
    status: str = ""


@dataclass
class RegistrationRow:
    """What the list shows. Never the full NIK."""

    id: str
    nik_masked: str
    full_name: str
    birth_date: date | None
    kelurahan_name: str
    event_name: str
    status: str
    sync_state: str  # "pending" while an outbox entry waits, else "synced"
    updated_at: str
    version: int = 0
    kpj: str = ""  # BPJS's KPJ number, once the server has sent it (storage/programme.py)


@dataclass
class RegistryStats:
    registered_today: int
    total: int
    waiting_for_sync: int


def fts_query(text: str) -> str:
    """'siti nur' -> '"siti"* "nur"*': every word as a prefix, all words required."""
    words = re.findall(r"\w+", text.casefold())
    return " ".join(f'"{w}"*' for w in words)


def _nik_range(prefix: str) -> tuple[str, str]:
    # ':' sorts right after '9', so [prefix, prefix + ':') holds exactly the NIKs with the prefix.
    return prefix, prefix + ":"



class RegistrationLists:
    """The registry's list queries (mixed into storage.registry.Registry)."""

    _db: Database
    regions: object

    def _selection(self, flt: RegistrationFilter, *, ordered: bool = True
                   ) -> tuple[str, list, str]:
        """FROM and WHERE selecting the matching rows, their parameters, and the expression of
        their save sequence (the list's order)."""
        clauses, params = [], []
        text = flt.text.strip()
        digits = re.sub(r"[\s.\-]", "", text)
        match = ""
        if digits.isdigit() and digits.isascii():
            # A long prefix selects few rows: use the NIK index. A short one selects many: walk
            # newest first and stop after a page ("+" keeps SQLite off the NIK index).
            short = ordered and len(digits) < NIK_INDEX_MIN_DIGITS
            column = "+w.nik" if short else "w.nik"
            clauses.append(f"{column} >= ? AND {column} < ?")
            params += list(_nik_range(digits))
        elif text:
            match = fts_query(text)
        for column, value in (("kelurahan_code", flt.kelurahan_code),
                              ("event_id", flt.event_id), ("status", flt.status)):
            if value:
                clauses.append(f"w.{column} = ?")
                params.append(value)
        if match:
            # The name index is keyed by save sequence (migration 0005): newest first for free.
            source = "workers_fts"
            if clauses:
                source += " JOIN workers w ON w.seq = workers_fts.rowid"
            clauses.insert(0, "workers_fts MATCH ?")
            params.insert(0, match)
            seq = "workers_fts.rowid"
        else:
            source, seq = "workers w", "w.seq"
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        return source + where, params, seq


    def query(self, flt: RegistrationFilter | None = None, *, offset: int = 0,
              limit: int = 100) -> list[RegistrationRow]:
        """Matching registrations, most recently saved first.

        Two steps: the page's sequence numbers from an index alone (cheap even deep into
        228,000 rows), then only that page's rows."""
        selection, params, seq = self._selection(flt or RegistrationFilter())
        with storage_errors(), self._db.atomic():  # one snapshot for both steps
            seqs = [r[0] for r in self._db.execute(
                f"SELECT {seq} FROM {selection} ORDER BY {seq} DESC LIMIT ? OFFSET ?",
                [*params, int(limit), max(0, int(offset))],
            )]
            if not seqs:
                return []
            rows = self._db.execute(
                "SELECT w.seq, w.id, w.nik, w.full_name, w.birth_date, w.kelurahan_code, e.name, "
                f"w.status, {WAITING_FOR_SERVER}, "
                "w.updated_at, w.version FROM workers w LEFT JOIN events e ON e.id = w.event_id "
                f"WHERE w.seq IN ({', '.join('?' * len(seqs))})", seqs,
            ).fetchall()
        by_seq = {r[0]: r[1:] for r in rows}
        page = [self._row(by_seq[s]) for s in seqs if s in by_seq]
        with storage_errors():
            kpj = kpj_numbers(self._db, [row.id for row in page])  # one query for the page
        for row in page:
            row.kpj = kpj.get(row.id, "")
        return page

    def kpj_of(self, reg_id: str) -> tuple[str, str] | None:
        """(KPJ number, start of cover) of a registration, or None (the record window)."""
        with storage_errors():
            return kpj_of(self._db, reg_id)


    def _row(self, r: tuple) -> RegistrationRow:
        kel = self.regions.kelurahan(r[4]) if r[4] else None
        return RegistrationRow(
            id=r[0], nik_masked=mask_nik(r[1]), full_name=r[2],
            birth_date=date.fromisoformat(r[3]) if r[3] else None,
            kelurahan_name=kel.name if kel else r[4], event_name=r[5] or "", status=r[6],
            sync_state="pending" if r[7] else "synced", updated_at=r[8], version=r[9],
        )


    def count(self, flt: RegistrationFilter | None = None) -> int:
        selection, params, _ = self._selection(flt or RegistrationFilter(), ordered=False)
        with storage_errors():
            return self._db.execute(f"SELECT count(*) FROM {selection}", params).fetchone()[0]


    def stats(self, today: date) -> RegistryStats:
        """Registered today (device date), total, and saves waiting for the server."""
        start = today.isoformat()
        with storage_errors():
            registered_today = self._db.execute(
                "SELECT count(*) FROM workers WHERE created_at >= ? AND created_at < ?",
                [start, start + "~"],  # '~' sorts after the time part of every ISO timestamp
            ).fetchone()[0]
            total = self._db.execute("SELECT count(*) FROM workers").fetchone()[0]
            waiting = self._db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        return RegistryStats(registered_today, total, waiting)

