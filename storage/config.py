"""Programme configuration with dated versions: age limits, occupations, consent texts,
contribution rates and discounts, quotas, income bounds (`resources/config/program.json`).

Rules change by decree and by budget year, so they are data, never constants in code. A
registration is judged by the version in force on its date: `config.for_date(d)`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from storage.models import Cohort, Occupation

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = ROOT / "resources" / "config" / "program.json"
FORMAT_VERSION = 1
ALL_COHORTS = ""  # a quota that covers every cohort (e.g. an announced total)
SECTOR_TRANSPORT, SECTOR_NON_TRANSPORT, SECTOR_ALL = "transport", "non_transport", "all"


class ConfigError(ValueError):
    """The configuration file is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class OccupationEntry:
    code: str
    name: str
    is_transport: bool  # PP 50/2025 discount periods differ for transport workers
    cohort: str  # the cohort this occupation usually belongs to: a default for the form
    active: bool = True

    def to_occupation(self) -> Occupation:
        return Occupation(self.code, self.name, is_transport=self.is_transport, active=self.active)


@dataclass(frozen=True)
class ConsentText:
    version: str  # "PDP-2026-01", stored with every registration
    title: str
    text: str
    valid_from: date
    verified: bool


@dataclass(frozen=True)
class Rates:
    jkk_percent: float  # of the declared monthly income
    jkk_min_rupiah: int
    jkk_max_rupiah: int
    jkm_rupiah: int  # flat, per month
    verified: bool


@dataclass(frozen=True)
class Discount:
    name: str
    percent: int  # off JKK and JKM
    sector: str  # SECTOR_TRANSPORT, SECTOR_NON_TRANSPORT or SECTOR_ALL
    start: date
    end: date  # inclusive
    verified: bool

    def applies(self, on: date, is_transport: bool) -> bool:
        sector_ok = self.sector == SECTOR_ALL or (
            self.sector == (SECTOR_TRANSPORT if is_transport else SECTOR_NON_TRANSPORT)
        )
        return sector_ok and self.start <= on <= self.end


@dataclass(frozen=True)
class Quota:
    year: int
    cohort: str  # a Cohort value, or ALL_COHORTS
    places: int
    verified: bool


@dataclass(frozen=True)
class Target:
    """What the programme means to reach in a year (e.g. 15,000 recorded), for the dashboard."""

    year: int
    recorded: int
    verified: bool


@dataclass(frozen=True)
class Workforce:
    """The city's workers and the share already covered, against which the programme's reach is
    shown; per kecamatan/kelurahan (Kemendagri code -> workers) where known."""

    workers: int
    covered_percent: float
    as_of: str
    by_kecamatan: dict
    by_kelurahan: dict
    verified: bool


@dataclass(frozen=True)
class Contribution:
    """One person's monthly JKK + JKM bill, in rupiah."""

    jkk: int
    jkm: int
    discount: int
    total: int
    verified: bool  # False while any rate or discount used is unverified


@dataclass(frozen=True)
class ProgramVersion:
    valid_from: date
    cohorts: tuple[str, ...]
    age_min: int
    age_max: int
    age_verified: bool
    income_min: int
    income_max: int
    income_warn_above: int
    rates: Rates
    discounts: tuple[Discount, ...]
    quotas: tuple[Quota, ...]
    consent_version: str  # the consent text shown to new registrations
    occupations: tuple[OccupationEntry, ...]
    targets: tuple[Target, ...] = ()
    workforce: Workforce | None = None
    # Card validity (cards/validity.py): through 31 December of the funded year plus this many
    # years; the card desk warns before printing a card valid for fewer days than the second.
    card_years_after_funded_year: int = 1
    card_warn_below_days: int = 90

    def target(self, year: int) -> Target | None:
        return next((t for t in self.targets if t.year == year), None)

    def occupation(self, code: str) -> OccupationEntry | None:
        return next((o for o in self.occupations if o.code == code), None)

    def occupation_models(self) -> list[Occupation]:
        """The occupation table as records, e.g. to seed the registry's editable table."""
        return [o.to_occupation() for o in self.occupations]

    def quota(self, year: int, cohort: str) -> Quota | None:
        """The quota for a cohort in a programme year; a total for every cohort if that is all
        that is known."""
        exact = [q for q in self.quotas if q.year == year and q.cohort == cohort]
        total = [q for q in self.quotas if q.year == year and q.cohort == ALL_COHORTS]
        return (exact or total or [None])[0]

    def contribution(self, monthly_income: int, *, is_transport: bool, on: date) -> Contribution:
        """JKK (a percentage of the declared income, within the tier bounds) plus the flat JKM,
        less any discount in force on `on` for the worker's sector."""
        r = self.rates
        jkk = round(monthly_income * r.jkk_percent / 100)
        jkk = min(max(jkk, r.jkk_min_rupiah), r.jkk_max_rupiah)
        active = [d for d in self.discounts if d.applies(on, is_transport)]
        percent = max((d.percent for d in active), default=0)
        discount = round((jkk + r.jkm_rupiah) * percent / 100)
        verified = r.verified and all(d.verified for d in active)
        return Contribution(jkk, r.jkm_rupiah, discount, jkk + r.jkm_rupiah - discount, verified)


@dataclass(frozen=True)
class ExportColumn:
    field: str  # a name server/bpjs_export.py knows (FIELDS there)
    header: str  # the branch's column title


@dataclass(frozen=True)
class ClaimDocument:
    code: str
    label: str


@dataclass(frozen=True)
class ProgrammeOffice:
    """The programme office's work with BPJS: the collective registration file's columns, the
    JKM benefit, the claim's document checklist and how long data is kept after a membership
    ends (erasure at the person's request is refused before that)."""

    bpjs_export_columns: tuple[ExportColumn, ...] = ()
    bpjs_export_programmes: str = "JKK+JKM"
    jkm_benefit_rupiah: int = 42_000_000
    retention_days: int = 1825
    claim_documents: tuple[ClaimDocument, ...] = ()


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: it is loaded once
class ProgramConfig:
    programme: str
    city: str
    versions: tuple[ProgramVersion, ...]  # oldest first
    consent_texts: dict[str, ConsentText]
    office: ProgrammeOffice = ProgrammeOffice()

    def for_date(self, d: date) -> ProgramVersion:
        """The version in force on `d`."""
        in_force = [v for v in self.versions if v.valid_from <= d]
        if not in_force:
            raise ConfigError(f"no programme configuration in force on {d.isoformat()}")
        return in_force[-1]

    config_for = for_date

    def consent_text(self, version: str) -> ConsentText | None:
        return self.consent_texts.get(version)

    def current_consent(self, on: date | None = None) -> ConsentText:
        """The consent text to show a new registration on `on` (default: today, for the form)."""
        return self.consent_texts[self.for_date(on or date.today()).consent_version]

    @property
    def latest(self) -> ProgramVersion:
        """The newest version, possibly dated ahead (e.g. next year's quotas set in advance)."""
        return self.versions[-1]

    @property
    def occupations(self) -> tuple[OccupationEntry, ...]:
        """The newest occupation table: what a new device database is seeded with."""
        return self.latest.occupations


# --- reading the file ---------------------------------------------------------------------


def _date(value: str) -> date:
    return date.fromisoformat(value)


def _version(merged: dict) -> ProgramVersion:
    age, income, rates = merged["age"], merged["income"], merged["rates"]
    return ProgramVersion(
        valid_from=_date(merged["valid_from"]),
        cohorts=tuple(merged["cohorts"]),
        age_min=int(age["min"]),
        age_max=int(age["max"]),
        age_verified=bool(age.get("verified", False)),
        income_min=int(income["min_rupiah"]),
        income_max=int(income["max_rupiah"]),
        income_warn_above=int(income.get("warn_above_rupiah", income["max_rupiah"])),
        rates=Rates(
            jkk_percent=float(rates["jkk_percent"]),
            jkk_min_rupiah=int(rates["jkk_min_rupiah"]),
            jkk_max_rupiah=int(rates["jkk_max_rupiah"]),
            jkm_rupiah=int(rates["jkm_rupiah"]),
            verified=bool(rates.get("verified", False)),
        ),
        discounts=tuple(
            Discount(d["name"], int(d["percent"]), d["sector"], _date(d["start"]),
                     _date(d["end"]), bool(d.get("verified", False)))
            for d in merged.get("discounts", [])
        ),
        quotas=tuple(
            Quota(int(q["year"]), q.get("cohort", ALL_COHORTS), int(q["places"]),
                  bool(q.get("verified", False)))
            for q in merged.get("quotas", [])
        ),
        consent_version=merged["consent_version"],
        occupations=tuple(
            OccupationEntry(o["code"], o["name"], bool(o.get("is_transport", False)),
                            o.get("cohort", ""), bool(o.get("active", True)))
            for o in merged["occupations"]
        ),
        targets=tuple(
            Target(int(t["year"]), int(t["recorded"]), bool(t.get("verified", False)))
            for t in merged.get("targets", [])
        ),
        workforce=_workforce(merged.get("workforce")),
        card_years_after_funded_year=int(merged.get("card", {}).get("years_after_funded_year", 1)),
        card_warn_below_days=int(merged.get("card", {}).get("warn_below_days", 90)),
    )


def _workforce(raw: dict | None) -> Workforce | None:
    if not raw:
        return None
    return Workforce(
        int(raw["workers"]), float(raw["covered_percent"]), str(raw.get("as_of", "")),
        {k: int(v) for k, v in raw.get("by_kecamatan", {}).items()},
        {k: int(v) for k, v in raw.get("by_kelurahan", {}).items()},
        bool(raw.get("verified", False)),
    )


def _check(config: ProgramConfig) -> None:
    """Refuse a file that would make the rules misbehave later, at a field event."""
    cohorts = {c.value for c in Cohort}
    dates = [v.valid_from for v in config.versions]
    if dates != sorted(set(dates)):
        raise ConfigError("versions must have distinct valid_from dates in increasing order")
    for v in config.versions:
        where = f"version {v.valid_from.isoformat()}"
        if not 0 <= v.age_min < v.age_max:
            raise ConfigError(f"{where}: age limits {v.age_min}-{v.age_max}")
        if not 0 <= v.income_min <= v.income_warn_above <= v.income_max:
            raise ConfigError(f"{where}: income bounds")
        if not set(v.cohorts) <= cohorts:
            raise ConfigError(f"{where}: unknown cohort in {v.cohorts}")
        codes = [o.code for o in v.occupations]
        if len(codes) != len(set(codes)) or not all(codes):
            raise ConfigError(f"{where}: occupation codes must be unique and non-empty")
        if any(o.cohort and o.cohort not in cohorts for o in v.occupations):
            raise ConfigError(f"{where}: occupation with an unknown cohort")
        if v.consent_version not in config.consent_texts:
            raise ConfigError(f"{where}: consent text {v.consent_version!r} is not defined")
        for d in v.discounts:
            if d.sector not in (SECTOR_TRANSPORT, SECTOR_NON_TRANSPORT, SECTOR_ALL):
                raise ConfigError(f"{where}: discount sector {d.sector!r}")
        for q in v.quotas:
            if q.cohort not in cohorts | {ALL_COHORTS} or q.places < 0:
                raise ConfigError(f"{where}: quota {q}")
        if not 0 <= v.card_years_after_funded_year <= 10 or v.card_warn_below_days < 0:
            raise ConfigError(f"{where}: card validity")
        if any(t.recorded < 0 for t in v.targets):
            raise ConfigError(f"{where}: negative target")
        w = v.workforce
        if w and (w.workers <= 0 or not 0 <= w.covered_percent <= 100):
            raise ConfigError(f"{where}: workforce {w.workers} / {w.covered_percent}%")


def _office(raw: dict) -> ProgrammeOffice:
    office = ProgrammeOffice(
        bpjs_export_columns=tuple(ExportColumn(str(c["field"]), str(c["header"]))
                                  for c in raw.get("bpjs_export_columns", [])),
        bpjs_export_programmes=str(raw.get("bpjs_export_programmes", "JKK+JKM")),
        jkm_benefit_rupiah=int(raw.get("jkm_benefit_rupiah", 42_000_000)),
        retention_days=int(raw.get("retention_days", 1825)),
        claim_documents=tuple(ClaimDocument(str(d["code"]), str(d["label"]))
                              for d in raw.get("claim_documents", [])),
    )
    if office.jkm_benefit_rupiah <= 0 or office.retention_days < 0:
        raise ConfigError("programme_office: JKM benefit and retention must be positive")
    codes = [d.code for d in office.claim_documents]
    if len(codes) != len(set(codes)) or not all(codes):
        raise ConfigError("programme_office: claim document codes must be unique and non-empty")
    return office


def parse_program_config(data: dict) -> ProgramConfig:
    if data.get("format") != FORMAT_VERSION:
        raise ConfigError(f"unsupported configuration format: {data.get('format')!r}")
    versions, merged = [], {}
    for raw in data["versions"]:
        # A version names only what changed; the rest is inherited from the one before.
        merged = {**merged, **raw}
        versions.append(_version(merged))
    texts = {
        t["version"]: ConsentText(t["version"], t["title"], t["text"], _date(t["valid_from"]),
                                  bool(t.get("verified", False)))
        for t in data["consent_texts"]
    }
    config = ProgramConfig(data.get("programme", ""), data.get("city", ""), tuple(versions), texts,
                           _office(data.get("programme_office") or {}))
    _check(config)
    return config


@functools.lru_cache(maxsize=8)
def _load_cached(path: str) -> ProgramConfig:
    try:
        return parse_program_config(json.loads(Path(path).read_text(encoding="utf-8")))
    except ConfigError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"cannot read programme configuration {path}: {exc}") from exc


def load_program_config(path: Path | str | None = None) -> ProgramConfig:
    """The programme configuration of `path` (default `resources/config/program.json`), read
    once per path and then cached."""
    return _load_cached(str(Path(path or DEFAULT_CONFIG_PATH).resolve()))


load_program_config.cache_clear = _load_cached.cache_clear  # after an admin edits the file


def config_for(as_of: date, config: ProgramConfig | None = None) -> ProgramVersion:
    """The programme version in force on `as_of` (default configuration file if none given)."""
    return (config or load_program_config()).for_date(as_of)
