"""The dashboard's filters: programme year, kecamatan, kelurahan, cohort, occupation, kegiatan.

A value that is not a known code is dropped with a note for the page ("ignored"), never an
error: a link copied from an old report or typed by hand still opens the dashboard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from storage.config import load_program_config
from storage.models import COHORT_LABELS
from storage.regions import load_regions

FIRST_YEAR, LAST_YEAR = 2020, 2100
FIELDS = ("year", "kecamatan", "kelurahan", "cohort", "occupation", "kegiatan")
LABELS = {"year": "Tahun program", "kecamatan": "Kecamatan", "kelurahan": "Kelurahan",
          "cohort": "Kelompok", "occupation": "Pekerjaan", "kegiatan": "Kegiatan"}
COLUMNS = {"kecamatan": "kecamatan", "kelurahan": "kelurahan", "cohort": "cohort",
           "occupation": "occupation", "kegiatan": "event_id"}  # filter -> dashboard_facts column


@dataclass
class Filters:
    year: int
    kecamatan: str = ""
    kelurahan: str = ""
    cohort: str = ""
    occupation: str = ""
    kegiatan: str = ""
    notes: list[str] = field(default_factory=list)

    def where(self) -> tuple[str, list]:
        """SQL over dashboard_facts (`WHERE ...`) and its arguments."""
        clauses, args = ["year = ?"], [self.year]
        for name, column in COLUMNS.items():
            value = getattr(self, name)
            if value:
                clauses.append(f"{column} = ?")
                args.append(value)
        return "WHERE " + " AND ".join(clauses), args

    def query(self, **overrides) -> str:
        """The filters as a query string (for links and downloads)."""
        values = {name: getattr(self, name) for name in FIELDS}
        values.update(overrides)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})

    @property
    def active(self) -> bool:
        return any(getattr(self, name) for name in FIELDS if name != "year")


def occupation_names() -> dict[str, str]:
    """Every occupation code any version of the configuration knows, newest name first."""
    names: dict[str, str] = {}
    for version in reversed(load_program_config().versions):
        for o in version.occupations:
            names.setdefault(o.code, o.name)
    return names


def parse(params, this_year: int, kegiatan_ids: set[str]) -> Filters:
    """Filters from query parameters (a mapping of str -> str)."""
    f = Filters(year=this_year)
    raw_year = (params.get("year") or "").strip()
    if raw_year:
        if raw_year.isdigit() and FIRST_YEAR <= int(raw_year) <= LAST_YEAR:
            f.year = int(raw_year)
        else:
            f.notes.append(_ignored("year", raw_year))
    regions = load_regions()
    checks = {
        "kecamatan": lambda v: regions.kecamatan(v) is not None,
        "kelurahan": lambda v: regions.kelurahan(v) is not None,
        "cohort": lambda v: v in COHORT_LABELS,
        "occupation": lambda v: v in occupation_names(),
        "kegiatan": lambda v: v in kegiatan_ids,
    }
    for name, known in checks.items():
        value = (params.get(name) or "").strip()
        if not value:
            continue
        if len(value) <= 64 and known(value):
            setattr(f, name, value)
        else:
            f.notes.append(_ignored(name, value))
    if f.kecamatan and f.kelurahan and not regions.kelurahan_belongs_to(f.kelurahan, f.kecamatan):
        f.notes.append(f"Kelurahan {f.kelurahan} tidak berada di kecamatan {f.kecamatan}; "
                       "saringan kelurahan diabaikan.")
        f.kelurahan = ""
    return f


def _ignored(name: str, value: str) -> str:
    # Echoed to help, but never a long run of digits: a NIK pasted into a filter stays hidden.
    shown = re.sub(r"\d{6,}", lambda m: "*" * len(m.group()), value)
    shown = shown if len(shown) <= 40 else shown[:40] + "…"
    return f"{LABELS[name]} '{shown}' tidak dikenal; saringan ini diabaikan."
