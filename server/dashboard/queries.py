"""Every number the dashboard, its downloads and the monthly report show, from one function.

`overview(store, filters, today)` brings `dashboard_facts` up to date and counts over it; the
pages, the XLSX and the PDF all render the same dictionary, so they never disagree. Nothing in
it names a person: lists of people come from `people()`, which only the disnaker role reaches.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from datetime import UTC, date, datetime, time, timedelta

from server import device_outbox
from server.claims import claims_summary
from server.dashboard import budget, facts
from server.dashboard.filters import Filters, occupation_names
from server.decisions import quota_places
from server.store import Store
from storage.config import load_program_config
from storage.models import COHORT_LABELS, STATUS_LABELS, mask_nik
from storage.regions import load_regions
from storage.vocabulary import REJECT_REASONS

SILENT_AFTER = timedelta(days=7)
SEX_LABELS = {"L": "Laki-laki", "P": "Perempuan", "": "Tidak diisi"}
AGE_BANDS = (("lt25", "< 25 tahun"), ("25_34", "25–34 tahun"), ("35_44", "35–44 tahun"),
             ("45_54", "45–54 tahun"), ("55up", "≥ 55 tahun"), ("unknown", "Tidak diketahui"))
STAGE_LABELS = {"recorded": "Tercatat", "received": "Diterima (tidak ditolak)",
                "verified": "Terverifikasi", "funded": "Didanai",
                "card_printed": "Kartu dicetak", "card_handed_over": "Kartu diserahkan"}
PAGE_SIZE = 100
_CACHE_SIZE = 32


class _Cache:
    """The last overviews computed, keyed by filters, day and the facts' high-water mark: a
    reload with nothing changed costs one indexed lookup."""

    def __init__(self):
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > _CACHE_SIZE:
                self._items.popitem(last=False)


_cache = _Cache()


def overview(store: Store, f: Filters, today: date, *, use_cache: bool = True) -> dict:
    mark = facts.refresh(store)
    key = (store.url, f.year, f.kecamatan, f.kelurahan, f.cohort, f.occupation,
           f.kegiatan, today, mark, _devices_mark(store))
    if use_cache and (found := _cache.get(key)) is not None:
        return found
    db = store.reader()
    where, args = f.where()
    src = _source(f, db)

    def grouped(columns: str, extra: str = "") -> list:
        """Rows (columns..., stage, count) of the filtered year, grouped by columns + stage."""
        return db.execute(
            f"SELECT {columns}, stage, COUNT(*) FROM {src} {where} {extra} "
            f"GROUP BY {columns}, stage", args).fetchall()

    areas = grouped("kecamatan, kelurahan")
    cohorts = grouped("cohort")
    result = {
        "year": f.year, "today": today.isoformat(),
        "areas": _areas(areas),
        "dims": {
            "cohort": _rows(_group(cohorts, lambda r: r[0]),
                            {str(k): v for k, v in COHORT_LABELS.items()}),
            "sex": _sex(_group(grouped("sex"), lambda r: r[0])),
            "age": _ages(db, src, where, args, f.year, today),
        },
        "quota": _quota(db, f, cohorts),
        "freshness": freshness(db, today),
        # JKM claims of deaths in the year: aggregates only, over every place and cohort (a
        # claim is counted by the year of the death, not by the dashboard's other filters).
        "claims": claims_summary(db, f.year),
    }
    occupations = grouped("occupation, event_id")
    result["dims"]["occupation"] = _rows(_group(occupations, lambda r: r[0]),
                                         occupation_names())
    result["kegiatan"] = _kegiatan(db, _group(occupations, lambda r: r[1]))
    result["weeks"] = _weeks(db, src, where, args)
    result["rejections"], result["open"] = _work(db, src, where, args)
    result["budget"] = budget.compute(db, src, where, args, f.year, today)
    result["funnel"] = _funnel(result["areas"], f.year, result["quota"])
    result["coverage"] = _coverage(result["funnel"])
    _cache.put(key, result)
    return result


def _source(f: Filters, db) -> str:
    """The copy, and the index to read it through. A whole year: SQLite picks the covering
    index of each grouping (facts.INDEXES). A place or an occupation: the index that finds those
    rows. A cohort or a kegiatan alone: a plain scan (an index pointing at half the year costs
    more than reading it). PostgreSQL takes no hints: its planner's statistics decide."""
    if db.is_postgresql:
        return "dashboard_facts"
    if f.kecamatan or f.kelurahan:
        return "dashboard_facts INDEXED BY dashboard_facts_area"
    if f.occupation:
        return "dashboard_facts INDEXED BY dashboard_facts_occupation"
    if f.cohort or f.kegiatan:
        return "dashboard_facts NOT INDEXED"
    return "dashboard_facts"


def _devices_mark(store: Store) -> tuple:
    """Device activity and claims change without touching registrations (pulls, outbox
    reports, a claim's steps): part of the cache key."""
    db = store.reader()
    pulls = db.execute("SELECT MAX(at), COUNT(*) FROM pulls").fetchone()
    batches = db.execute("SELECT COUNT(*) FROM batches").fetchone()
    devices = db.execute("SELECT COUNT(*), COUNT(revoked_at) FROM devices").fetchone()
    waiting = db.execute("SELECT MAX(at), COALESCE(SUM(pending), 0) FROM device_outbox").fetchone()
    claims = db.execute("SELECT COUNT(*), MAX(updated_at) FROM claims").fetchone()
    return (*pulls, *batches, *devices, *waiting, *claims)


_YOUNGER = "COUNT(*) FILTER (WHERE birth_date > ?), "


def _ages(db, src: str, where: str, args: list, year: int, today: date) -> list[dict]:
    """Counts per age band, from birth dates compared with the days that make a person 25, 35,
    45 and 55 (no age computed per row). Ages are counted on today's date, or on 31 December
    of a past programme year."""
    ref = min(today, date(year, 12, 31))

    def cutoff(years: int) -> str:
        try:
            return ref.replace(year=ref.year - years).isoformat()
        except ValueError:  # 29 February
            return ref.replace(year=ref.year - years, day=28).isoformat()

    cuts = [cutoff(n) for n in (25, 35, 45, 55)]
    rows = db.execute(
        f"SELECT stage, COUNT(*) FILTER (WHERE birth_date = ''), {_YOUNGER * 4}COUNT(*) "
        f"FROM {src} {where} GROUP BY stage",
        [*cuts, *args]).fetchall()
    pairs = defaultdict(list)
    for stage, unknown, lt25, lt35, lt45, lt55, total in rows:
        counts = {"lt25": lt25, "25_34": lt35 - lt25, "35_44": lt45 - lt35,
                  "45_54": lt55 - lt45, "55up": total - unknown - lt55, "unknown": unknown}
        for band, n in counts.items():
            if n:
                pairs[band].append((stage, n))
    found = {band: _stage_counts(p) for band, p in pairs.items()}
    return _rows(found, dict(AGE_BANDS), order=[k for k, _ in AGE_BANDS])


def _stage_counts(rows) -> dict[str, int]:
    """{funnel stage: count at that stage or beyond} from (stage, count) pairs."""
    by_stage = defaultdict(int)
    for stage, n in rows:
        by_stage[stage] += n
    counts = {}
    for i, name in enumerate(facts.STAGES):  # "recorded" (i = 0) includes the rejected
        counts[name] = sum(n for s, n in by_stage.items() if s >= i)
    counts["rejected"] = by_stage.get(0, 0)
    return counts


def _group(rows, key) -> dict:
    """{key(row): {stage counts}} from rows ending in (stage, count)."""
    pairs = defaultdict(list)
    for row in rows:
        pairs[key(row)].append((row[-2], row[-1]))
    return {k: _stage_counts(p) for k, p in pairs.items()}


# --- places -----------------------------------------------------------------------------------


def _areas(rows) -> dict:
    """Per kecamatan, per kelurahan and the city, from (kecamatan, kelurahan, stage, count)."""
    kel_of = {row[1]: row[0] for row in rows}
    kec_counts = _group(rows, lambda r: r[0])
    kel_counts = _group(rows, lambda r: r[1])
    regions = load_regions()
    workforce = load_program_config().latest.workforce
    city_workers = workforce.workers if workforce else 0

    def row(code: str, name: str, counts: dict, workers: int | None, kind: str) -> dict:
        return {
            "code": code, "name": name, "kind": kind, **counts, "workers": workers,
            "coverage_pct": _pct(counts["funded"], workers, 1),
            "adds_pp": _pct(counts["funded"], city_workers, 2),
        }

    kecamatan = []
    for code in sorted(kec_counts):
        kec = regions.kecamatan(code)
        name = kec.name if kec else f"{code} (kode tidak dikenal)"
        kecamatan.append(row(code, name, kec_counts[code],
                             workforce.by_kecamatan.get(code) if workforce else None, "kec"))
    kelurahan = []
    for code in sorted(kel_counts, key=lambda c: (kel_of[c], c)):
        kel = regions.kelurahan(code)
        name = kel.name if kel else f"{code} (kode tidak dikenal)"
        item = row(code, name, kel_counts[code],
                   workforce.by_kelurahan.get(code) if workforce else None, "kel")
        item["kecamatan"] = kel_of[code]
        kelurahan.append(item)
    total = row("", "Kota Jambi", _stage_counts([(r[-2], r[-1]) for r in rows]),
                city_workers or None, "city")
    return {"kecamatan": kecamatan, "kelurahan": kelurahan, "total": total}


def _pct(part: int, whole: int | None, digits: int) -> float | None:
    return round(part * 100 / whole, digits) if whole else None


# --- funnel, targets and quota ----------------------------------------------------------------


def _quota(db, f: Filters, cohorts) -> dict:
    """Places per cohort (the server's setting, else the configuration) and the funded of the
    whole year: the quota is the city's, whatever the place filters."""
    if f.active:
        rows = db.execute(
            "SELECT cohort, stage, COUNT(*) FROM dashboard_facts WHERE year = ? AND stage >= 3 "
            "GROUP BY cohort, stage", [f.year]).fetchall()
    else:
        rows = cohorts  # (cohort, stage, count) of the whole year already
    funded = defaultdict(int)
    for cohort, stage, n in rows:
        funded[cohort] += n if stage >= 3 else 0
    items = []
    for cohort in load_program_config().latest.cohorts:
        places, shared = quota_places(db, f.year, cohort)
        places = places or 0
        taken = sum(funded.values()) if shared else funded[cohort]
        items.append({"cohort": cohort, "label": COHORT_LABELS.get(cohort, cohort),
                      "places": places, "funded": funded[cohort],
                      "left": max(0, places - taken), "shared": shared})
    return {"programme_year": f.year, "cohorts": items}


def _funnel(areas: dict, year: int, quota: dict) -> dict:
    total = areas["total"]
    target = load_program_config().latest.target(year)
    places = _quota_places(quota)
    stages = []
    for name in facts.STAGES:
        goal = target.recorded if (name == "recorded" and target) else None
        if name == "funded" and places:
            goal = places
        stages.append({"key": name, "label": STAGE_LABELS[name], "count": total[name],
                       "target": goal})
    return {"stages": stages, "rejected": total["rejected"],
            "target_recorded": target.recorded if target else None, "places": places}


def _quota_places(quota: dict) -> int:
    """The year's places over every cohort (a shared total counted once)."""
    shared = [c["places"] for c in quota["cohorts"] if c["shared"]]
    return max(shared) if shared else sum(c["places"] for c in quota["cohorts"])


def _coverage(funnel: dict) -> dict:
    workforce = load_program_config().latest.workforce
    funded = next(s["count"] for s in funnel["stages"] if s["key"] == "funded")
    if not workforce:
        return {"known": False, "funded": funded}
    adds = round(funded * 100 / workforce.workers, 2)
    return {"known": True, "workers": workforce.workers, "base_pct": workforce.covered_percent,
            "as_of": workforce.as_of, "funded": funded, "adds_pp": adds,
            "total_pct": round(workforce.covered_percent + adds, 2),
            "verified": workforce.verified}


# --- who ------------------------------------------------------------------------------------


def _rows(found: dict, labels: dict, order=None) -> list[dict]:
    keys = order if order is not None else sorted(found, key=lambda k: labels.get(k, k))
    return [{"code": k, "name": labels.get(k, f"{k} (kode tidak dikenal)"), **found[k]}
            for k in keys if k in found]


def _sex(by_sex: dict) -> list[dict]:
    return _rows(by_sex, SEX_LABELS, order=["L", "P", ""] + sorted(
        k for k in by_sex if k not in SEX_LABELS))


def _kegiatan(db, found: dict) -> list[dict]:
    ids = [k for k in found if k]
    info = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        marks = ",".join("?" * len(chunk))
        info.update({r[0]: r[1:] for r in db.execute(
            f"SELECT id, name, held_on, kelurahan_code FROM kegiatan WHERE id IN ({marks})",
            chunk)})
    regions = load_regions()
    items = []
    for event_id, counts in found.items():
        name, held_on, kel = info.get(event_id, ("", None, ""))
        kelurahan = regions.kelurahan(kel or "")
        items.append({
            "id": event_id or "none",
            "name": name or ("Tanpa kegiatan" if not event_id else "(nama belum dikirim)"),
            "held_on": held_on or "", "place": kelurahan.name if kelurahan else (kel or ""),
            **counts,
        })
    items.sort(key=lambda i: (i["id"] == "none", i["held_on"] == "", i["held_on"], i["name"]))
    return items


def _monday(day: str) -> str:
    d = date.fromisoformat(day[:10])
    return (d - timedelta(days=d.weekday())).isoformat()


def _weeks(db, src: str, where: str, args: list) -> list[dict]:
    received = dict(db.execute(
        f"SELECT received_week, COUNT(*) FROM {src} {where} GROUP BY received_week",
        args).fetchall())
    started = defaultdict(int)
    for day, n in db.execute(
            f"SELECT cover_start, COUNT(*) FROM {src} {where} AND stage >= 3 "
            "AND cover_start != '' GROUP BY cover_start", args).fetchall():
        started[_monday(day)] += n
    weeks = sorted(set(received) | set(started))
    return [{"week": w, "received": received.get(w, 0), "cover_started": started.get(w, 0)}
            for w in weeks]


def _work(db, src: str, where: str, args: list) -> tuple[list[dict], dict]:
    """Rejection reasons, and the work waiting for verifiers, in one scan."""
    rows = db.execute(
        "SELECT stage, reason_code, "
        "COUNT(*) FILTER (WHERE status = 'received' AND duplicate = 0 AND conflict = 0), "
        "COUNT(*) FILTER (WHERE duplicate = 1 AND status IN ('received', 'verified')), "
        "COUNT(*) FILTER (WHERE conflict = 1), COUNT(*) FILTER (WHERE stage = 2), COUNT(*) "
        f"FROM {src} {where} GROUP BY stage, reason_code", args).fetchall()
    rejections = [{"code": code or "none", "name": REJECT_REASONS.get(code, code or "Tanpa kode"),
                   "count": n} for stage, code, *_, n in rows if stage == 0]
    rejections.sort(key=lambda r: (-r["count"], r["code"]))
    sums = [sum(r[i] or 0 for r in rows) for i in range(2, 6)]
    work = dict(zip(("waiting", "duplicates", "conflicts", "verified_unfunded"), sums,
                    strict=True))
    return rejections, work


# --- devices --------------------------------------------------------------------------------


def freshness(db, today: date) -> dict:
    """Each device's last push and pull, the registrations each has sent, and how many it said
    were still waiting in its outbox when it last synced (`pending` on pull; None for a device
    that never said, e.g. an older version). For the devices silent more than 7 days, the sum of
    what they said was waiting is the registrations held on them (`silent_waiting`), as of their
    last sync; `silent_unreported` counts those silent devices that never said."""
    rows = db.execute(
        "SELECT d.id, d.name, d.role, "
        "(SELECT MAX(received_at) FROM batches b WHERE b.device_id = d.id), "
        "(SELECT MAX(at) FROM pulls p WHERE p.device_id = d.id) "
        "FROM devices d WHERE d.revoked_at IS NULL ORDER BY d.name, d.id").fetchall()
    sent = dict(db.execute(
        "SELECT device_id, COUNT(*) FROM registrations GROUP BY device_id").fetchall())
    told = device_outbox.reported(db)
    now = min(datetime.now(UTC), datetime.combine(today, time.max, tzinfo=UTC))
    devices, silent, silent_records, silent_waiting, unreported = [], 0, 0, 0, 0
    for device_id, name, role, pushed, pulled in rows:
        records = sent.get(device_id, 0)
        waiting, told_at = told.get(device_id, (None, ""))
        last = max((t for t in (pushed, pulled) if t), default=None)
        days = (now - datetime.fromisoformat(last)).days if last else None
        is_silent = last is None or now - datetime.fromisoformat(last) > SILENT_AFTER
        silent += is_silent
        silent_records += records if is_silent else 0
        if is_silent:
            silent_waiting += waiting or 0
            unreported += waiting is None
        devices.append({"id": device_id, "name": name, "role": role, "last_push": pushed or "",
                        "last_pull": pulled or "", "days_silent": days, "silent": is_silent,
                        "records": records, "waiting": waiting, "waiting_at": told_at})
    return {"devices": devices, "silent": silent, "silent_records": silent_records,
            "silent_waiting": silent_waiting, "silent_unreported": unreported}


# --- people (disnaker only) -----------------------------------------------------------------


def people(store: Store, f: Filters, page: int) -> dict:
    """One page of the registrations under the filters: masked NIK, never the full number."""
    facts.refresh(store)
    db = store.reader()
    where, args = f.where()
    where = where.replace("WHERE ", "WHERE f.").replace(" AND ", " AND f.")
    total = db.execute(f"SELECT COUNT(*) FROM dashboard_facts f {where}", args).fetchone()[0]
    rows = db.execute(
        "SELECT r.nik, r.full_name, r.kelurahan_code, r.occupation_code, r.cohort, "
        "COALESCE(k.name, ''), r.status, r.member_number, r.received_at "
        f"FROM dashboard_facts f JOIN registrations r ON r.id = f.record_id "
        f"LEFT JOIN kegiatan k ON k.id = r.event_id {where} "
        "ORDER BY r.received_at DESC, r.id LIMIT ? OFFSET ?",
        [*args, PAGE_SIZE, max(0, page - 1) * PAGE_SIZE]).fetchall()
    regions, occupations = load_regions(), occupation_names()
    items = []
    for nik, name, kel, occ, cohort, event, status, member, received in rows:
        kelurahan = regions.kelurahan(kel)
        items.append({
            "nik_masked": mask_nik(nik), "full_name": name,
            "kelurahan": kelurahan.name if kelurahan else kel,
            "occupation": occupations.get(occ, occ),
            "cohort": COHORT_LABELS.get(cohort, cohort), "kegiatan": event,
            "status": STATUS_LABELS.get(status, status), "member_number": member,
            "received_on": received[:10],
        })
    pages = max(1, -(-total // PAGE_SIZE))
    return {"total": total, "page": min(max(1, page), pages), "pages": pages, "items": items}


def month_activity(store: Store, f: Filters, first: date, last: date) -> dict:
    """What happened in one month under the filters (the programme year aside): registrations
    received, covers begun, and the kegiatan held."""
    facts.refresh(store)
    db = store.reader()
    where, args = f.where()
    where, args = where.replace("year = ?", "1 = 1", 1), args[1:]
    span = [first.isoformat(), last.isoformat()]
    received = db.execute(
        f"SELECT COUNT(*) FROM dashboard_facts {where} AND received_on BETWEEN ? AND ?",
        [*args, *span]).fetchone()[0]
    started = db.execute(
        f"SELECT COUNT(*) FROM dashboard_facts {where} AND stage >= 3 "
        "AND cover_start BETWEEN ? AND ?", [*args, *span]).fetchone()[0]
    held = db.execute(
        "SELECT k.name, k.held_on, k.kelurahan_code, COUNT(f.record_id) FROM kegiatan k "
        "LEFT JOIN dashboard_facts f ON f.event_id = k.id "
        "WHERE k.held_on BETWEEN ? AND ? GROUP BY k.id ORDER BY k.held_on, k.name",
        span).fetchall()
    regions = load_regions()
    kegiatan = [{"name": n, "held_on": d, "place": (regions.kelurahan(k).name
                                                    if regions.kelurahan(k) else k),
                 "recorded": c} for n, d, k, c in held]
    return {"received": received, "cover_started": started, "kegiatan": kegiatan}
