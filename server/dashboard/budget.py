"""What the funded members cost the city budget (APBD): JKK + JKM per month, from the dated
programme configuration.

Each funded member costs, for every month of their cover (`programme_start` to
`programme_end`; a month counts whole once cover has begun in it), the monthly contribution of
their declared income band under the configuration version in force on the first day of that
month, less the discount of their sector in force that day (`ProgramVersion.contribution`): the
monthly bill follows the rules of the month it is for. The year's commitment is every month of
cover; spent to date is the months begun on or before the day asked.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from datetime import date

from storage.config import ConfigError, load_program_config
from storage.models import COHORT_LABELS


def months(start: str, end: str) -> list[date]:
    """The first day of each month from month `start` to month `end` ("YYYY-MM"), inclusive."""
    out, day = [], date(int(start[:4]), int(start[5:7]), 1)
    last = date(int(end[:4]), int(end[5:7]), 1)
    while day <= last:
        out.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return out


@functools.lru_cache(maxsize=65536)
def monthly_costs(occupation: str, income: int | None, start: str,
                  end: str) -> tuple[tuple[date, int], ...]:
    """((first day of the month, rupiah), ...) for one member's cover from month `start` to
    month `end` ("YYYY-MM")."""
    config = load_program_config()
    cost = []
    for day in months(start, end):
        try:
            version = config.for_date(day)
        except ConfigError:
            version = config.versions[0]
        entry = version.occupation(occupation)
        bill = version.contribution(income or 0, is_transport=bool(entry and entry.is_transport),
                                    on=day)
        cost.append((day, bill.total))
    return tuple(cost)


def compute(db, src: str, where: str, args: list, year: int, as_of: date) -> dict:
    """Commitment and spend to `as_of` per cohort, over the funded members under the filters
    (`src`: the dashboard's copy, as queries.py reads it)."""
    found = db.execute(
        "SELECT cohort, occupation, income, cover_start, cover_end, COUNT(*) "
        f"FROM {src} {where} AND stage >= 3 AND cover_start != '' AND cover_end != '' "
        "GROUP BY cohort, occupation, income, cover_start, cover_end", args).fetchall()
    months_of = defaultdict(int)  # the same bill for every start day within a month
    for cohort, occupation, income, start, end, n in found:
        months_of[(cohort, occupation, income, start[:7], end[:7])] += n
    rows = [(*key, n) for key, n in months_of.items()]
    per = defaultdict(lambda: {"members": 0, "commitment": 0, "spent": 0})
    for cohort, occupation, income, start, end, n in rows:
        costs = monthly_costs(occupation, income, start, end)
        item = per[cohort]
        item["members"] += n
        item["commitment"] += n * sum(c for _, c in costs)
        item["spent"] += n * sum(c for day, c in costs if day <= as_of)
    cohorts = [{"cohort": c, "label": COHORT_LABELS.get(c, c), **per[c]} for c in sorted(per)]
    total = {k: sum(c[k] for c in cohorts) for k in ("members", "commitment", "spent")}
    rates = load_program_config().latest.rates
    return {"cohorts": cohorts, "total": total, "as_of": as_of.isoformat(), "year": year,
            "verified": rates.verified}
