"""Every number the dashboard, its downloads and the monthly report show, from one function.

`overview(store, filters, today)` brings `dashboard_facts` up to date and counts over it; the
pages, the XLSX and the PDF all render the same dictionary, so they never disagree. Nothing in
it names a person: lists of people come from `people()`, which only the disnaker role reaches.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from datetime import UTC, date, datetime, time, timedelta

from server.dashboard import budget, facts
from server.dashboard.filters import Filters, occupation_names
from server.decisions import quota_status
from server.schemas import REJECT_REASONS
from server.store import Store
from storage.config import load_program_config
from storage.models import COHORT_LABELS, STATUS_LABELS, mask_nik
from storage.regions import load_regions

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
    key = (str(store.path), f.year, f.kecamatan, f.kelurahan, f.cohort, f.occupation,
           f.kegiatan, today, mark, _devices_mark(store))
    if use_cache and (found := _cache.get(key)) is not None:
        return found
    db = store.reader()
    where, args = f.where()
    result = {
        "year": f.year, "today": today.isoformat(),
        "areas": _areas(db, where, args),
        "dims": _dims(db, where, args, _age_reference(f.year, today)),
        "kegiatan": _kegiatan(db, where, args),
        "weeks": _weeks(db, where, args),
        "rejections": _rejections(db, where, args),
        "open": _open_work(db, where, args),
        "budget": budget.compute(db, where, args, f.year, today),
        "quota": quota_status(store, f.year),
        "freshness": freshness(db, today),
    }
    result["funnel"] = _funnel(result["areas"], f.year, result["quota"])
    result["coverage"] = _coverage(result["funnel"])
    _cache.put(key, result)
    return result


def _devices_mark(store: Store) -> tuple:
    """Device activity changes without touching registrations (pulls): part of the cache key."""
    db = store.reader()
    pulls = db.execute("SELECT COUNT(*), MAX(at) FROM pulls").fetchone()
    batches = db.execute("SELECT MAX(received_at) FROM batches").fetchone()
    devices = db.execute("SELECT COUNT(*), COUNT(revoked_at) FROM devices").fetchone()
    return (*pulls, *batches, *devices)


def _age_reference(year: int, today: date) -> str:
    """Ages are counted on today's date, or on 31 December of a past programme year."""
    return min(today, date(year, 12, 31)).isoformat()


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


# --- places -----------------------------------------------------------------------------------


def _areas(db, where: str, args: list) -> dict:
    rows = db.execute(
        f"SELECT kecamatan, kelurahan, stage, COUNT(*) FROM dashboard_facts {where} "
        "GROUP BY kecamatan, kelurahan, stage", args,
    ).fetchall()
    kec_rows, kel_rows = defaultdict(list), defaultdict(list)
    kel_of = {}
    for kec, kel, stage, n in rows:
        kec_rows[kec].append((stage, n))
        kel_rows[kel].append((stage, n))
        kel_of[kel] = kec
    regions = load_regions()
    workforce = load_program_config().latest.workforce
    city_workers = workforce.workers if workforce else 0

    def row(code: str, name: str, pairs, workers: int | None, kind: str) -> dict:
        counts = _stage_counts(pairs)
        return {
            "code": code, "name": name, "kind": kind, **counts, "workers": workers,
            "coverage_pct": _pct(counts["funded"], workers, 1),
            "adds_pp": _pct(counts["funded"], city_workers, 2),
        }

    kecamatan = []
    for code in sorted(kec_rows):
        kec = regions.kecamatan(code)
        name = kec.name if kec else f"{code} (kode tidak dikenal)"
        kecamatan.append(row(code, name, kec_rows[code],
                             workforce.by_kecamatan.get(code) if workforce else None, "kec"))
    kelurahan = []
    for code in sorted(kel_rows, key=lambda c: (kel_of[c], c)):
        kel = regions.kelurahan(code)
        name = kel.name if kel else f"{code} (kode tidak dikenal)"
        item = row(code, name, kel_rows[code],
                   workforce.by_kelurahan.get(code) if workforce else None, "kel")
        item["kecamatan"] = kel_of[code]
        kelurahan.append(item)
    total = row("", "Kota Jambi", [p for pairs in kec_rows.values() for p in pairs],
                city_workers or None, "city")
    return {"kecamatan": kecamatan, "kelurahan": kelurahan, "total": total}


def _pct(part: int, whole: int | None, digits: int) -> float | None:
    return round(part * 100 / whole, digits) if whole else None


# --- funnel, targets and quota ----------------------------------------------------------------


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


def _grouped(db, column_sql: str, where: str, args: list, extra_args: list = ()) -> dict:
    rows = db.execute(
        f"SELECT {column_sql} AS k, stage, COUNT(*) FROM dashboard_facts {where} "
        "GROUP BY k, stage", [*extra_args, *args],
    ).fetchall()
    pairs = defaultdict(list)
    for key, stage, n in rows:
        pairs[key].append((stage, n))
    return {key: _stage_counts(p) for key, p in pairs.items()}


def _age_sql() -> str:
    age = ("(CAST(strftime('%Y', :ref) AS INTEGER) - CAST(substr(birth_date, 1, 4) AS INTEGER)"
           " - (strftime('%m-%d', :ref) < substr(birth_date, 6, 5)))")
    return (f"CASE WHEN birth_date = '' THEN 'unknown' WHEN {age} < 25 THEN 'lt25' "
            f"WHEN {age} < 35 THEN '25_34' WHEN {age} < 45 THEN '35_44' "
            f"WHEN {age} < 55 THEN '45_54' ELSE '55up' END")


def _dims(db, where: str, args: list, reference: str) -> dict:
    occupations = occupation_names()
    by_occ = _grouped(db, "occupation", where, args)
    by_cohort = _grouped(db, "cohort", where, args)
    by_sex = _grouped(db, "sex", where, args)
    age_sql = _age_sql().replace(":ref", "?")
    by_age = _grouped(db, age_sql, where, args, [reference] * age_sql.count("?"))

    def rows(found: dict, labels: dict, order=None) -> list[dict]:
        keys = order if order is not None else sorted(found, key=lambda k: labels.get(k, k))
        return [{"code": k, "name": labels.get(k, f"{k} (kode tidak dikenal)"), **found[k]}
                for k in keys if k in found]

    return {
        "occupation": rows(by_occ, occupations),
        "cohort": rows(by_cohort, {str(k): v for k, v in COHORT_LABELS.items()}),
        "sex": rows(by_sex, SEX_LABELS, order=["L", "P", ""] + sorted(
            k for k in by_sex if k not in SEX_LABELS)),
        "age": rows(by_age, dict(AGE_BANDS), order=[k for k, _ in AGE_BANDS]),
    }


def _kegiatan(db, where: str, args: list) -> list[dict]:
    found = _grouped(db, "event_id", where, args)
    ids = [k for k in found if k]
    info = {}
    if ids:
        marks = ",".join("?" * len(ids))
        info = {r[0]: r[1:] for r in db.execute(
            f"SELECT id, name, held_on, kelurahan_code FROM kegiatan WHERE id IN ({marks})", ids)}
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
    items.sort(key=lambda i: (i["id"] == "none", i["held_on"] == "", i["held_on"], i["name"]),
               reverse=False)
    return items


def _weeks(db, where: str, args: list) -> list[dict]:
    received = dict(db.execute(
        f"SELECT received_week, COUNT(*) FROM dashboard_facts {where} GROUP BY received_week",
        args).fetchall())
    funded_where = where + " AND stage >= 3 AND cover_start != ''"
    started = dict(db.execute(
        "SELECT date(cover_start, '-6 days', 'weekday 1') AS w, COUNT(*) FROM dashboard_facts "
        f"{funded_where} GROUP BY w", args).fetchall())
    weeks = sorted(set(received) | set(started))
    return [{"week": w, "received": received.get(w, 0), "cover_started": started.get(w, 0)}
            for w in weeks]


def _rejections(db, where: str, args: list) -> list[dict]:
    rows = db.execute(
        f"SELECT reason_code, COUNT(*) FROM dashboard_facts {where} AND stage = 0 "
        "GROUP BY reason_code ORDER BY COUNT(*) DESC, reason_code", args).fetchall()
    return [{"code": code or "none", "name": REJECT_REASONS.get(code, code or "Tanpa kode"),
             "count": n} for code, n in rows]


def _open_work(db, where: str, args: list) -> dict:
    row = db.execute(
        "SELECT "
        "COALESCE(SUM(status = 'received' AND duplicate = 0 AND conflict = 0), 0), "
        "COALESCE(SUM(duplicate = 1 AND status IN ('received', 'verified')), 0), "
        "COALESCE(SUM(conflict = 1), 0), COALESCE(SUM(stage = 2), 0) "
        f"FROM dashboard_facts {where}", args).fetchone()
    return dict(zip(("waiting", "duplicates", "conflicts", "verified_unfunded"), row,
                    strict=True))


# --- devices --------------------------------------------------------------------------------


def freshness(db, today: date) -> dict:
    """Each device's last push and pull, and the registrations each has sent. The server
    cannot see what is still on a device that has not synced: only the devices that are silent
    and what they sent before."""
    rows = db.execute(
        "SELECT d.id, d.name, d.role, "
        "(SELECT MAX(received_at) FROM batches b WHERE b.device_id = d.id), "
        "(SELECT MAX(at) FROM pulls p WHERE p.device_id = d.id), "
        "(SELECT COUNT(*) FROM dashboard_facts f WHERE f.device_id = d.id) "
        "FROM devices d WHERE d.revoked_at IS NULL ORDER BY d.name, d.id").fetchall()
    now = min(datetime.now(UTC), datetime.combine(today, time.max, tzinfo=UTC))
    devices, silent, silent_records = [], 0, 0
    for device_id, name, role, pushed, pulled, records in rows:
        last = max((t for t in (pushed, pulled) if t), default=None)
        days = (now - datetime.fromisoformat(last)).days if last else None
        is_silent = last is None or now - datetime.fromisoformat(last) > SILENT_AFTER
        silent += is_silent
        silent_records += records if is_silent else 0
        devices.append({"id": device_id, "name": name, "role": role, "last_push": pushed or "",
                        "last_pull": pulled or "", "days_silent": days, "silent": is_silent,
                        "records": records})
    return {"devices": devices, "silent": silent, "silent_records": silent_records}


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
