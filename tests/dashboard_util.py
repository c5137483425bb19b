"""Shared by the dashboard's tests: a live server holding registrations in every status, the
officials' accounts, log-in over HTTP, and every number the dashboard should show computed again
with SQL written here, straight over the `registrations` table (not the dashboard's copy).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests
from server_util import LiveServer, record, workers

from bench.bench_dashboard import fill
from server.dashboard import accounts
from server.database import json_text
from storage.config import load_program_config
from storage.ids import new_id
from storage.models import mask_nik

PASSWORD = "kata-sandi-uji-1"
USERS = {"disnaker": "bu.dinas", "pimpinan": "pak.wali"}
SILENT = timedelta(days=7)


class Fixture:
    """A live server with `count` registrations written straight into its database, three
    pushed through the API with their kegiatan, and one account per role."""

    def __init__(self, data_dir: Path, count: int = 600):
        self.server = LiveServer(data_dir).start()
        self.store = self.server.store
        people = fill(self.store, count, seed=11)
        self.names, self.niks = people["names"], people["niks"]
        self._push_some()
        for role, username in USERS.items():
            accounts.add_user(self.store, username, f"Akun {role}", role, PASSWORD)

    def _push_some(self) -> None:
        device = self.server.enrol("enumerator", "Laptop Kampung Bahagia")
        event = {"id": new_id(), "name": "Kampung Bahagia RT 07", "held_on": "2026-11-20",
                 "kelurahan_code": ""}
        regs = workers(3, seed=99)
        for reg in regs:
            reg.event_id = event["id"]
        event["kelurahan_code"] = regs[0].kelurahan_code
        answer = device.post("/sync/push", {
            "batch_id": new_id(), "device_id": device.device_id,
            "records": [record(r, device.device_id) for r in regs], "events": [event]})
        assert answer.status_code == 200, answer.text
        self.names += [r.full_name for r in regs]
        self.niks += [r.nik for r in regs]

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()

    def sensitive(self) -> list[str]:
        """Every name and NIK (full and masked) of the fixture, for searching response bodies."""
        return [*self.names, *self.niks, *(mask_nik(n) for n in self.niks)]


def log_in(base_url: str, username: str, password: str = PASSWORD,
           target: str = "/dashboard") -> tuple[requests.Session, requests.Response]:
    session = requests.Session()
    page = session.get(f"{base_url}/dashboard/login", params={"next": target}, timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    answer = session.post(f"{base_url}/dashboard/login", timeout=30, data={
        "csrf": csrf, "username": username, "password": password, "next": target})
    return session, answer


def page_numbers(html: str) -> dict[str, object]:
    """{data-n key: value} of every number in a page, read back from the Indonesian text."""
    found = {}
    for key, text in re.findall(r'data-n="([^"]+)">([^<]*)<', html):
        found[key] = parse_shown(text.strip())
    return found


def parse_shown(text: str):
    if text == "—":
        return None
    text = text.removeprefix("Rp")
    if "," in text:
        return float(text.replace(".", "").replace(",", "."))
    return int(text.replace(".", ""))


# --- the same numbers, counted independently ------------------------------------------------

YEAR_SQL = "COALESCE(programme_year, CAST(substr(received_at, 1, 4) AS INTEGER))"
FILTER_COLUMNS = {"kecamatan": "kecamatan_code", "kelurahan": "kelurahan_code",
                  "cohort": "cohort", "occupation": "occupation_code", "kegiatan": "event_id"}


def _rows(db, year: int, filters: dict) -> list[dict]:
    sql = (f"SELECT id, {YEAR_SQL} AS y, kecamatan_code, kelurahan_code, cohort, "
           "occupation_code, COALESCE(event_id, '') AS event_id, "
           f"COALESCE({json_text(db, 'data', 'sex')}, '') AS sex, birth_date, status, "
           "reason_code, member_number, possible_duplicate, conflict, programme_start, "
           f"programme_end, {json_text(db, 'data', 'monthly_income')} AS income, device_id, "
           "received_at "
           f"FROM registrations WHERE {YEAR_SQL} = ?")
    args: list = [year]
    for name, column in FILTER_COLUMNS.items():
        if filters.get(name):
            sql += f" AND {column} = ?"
            args.append(filters[name])
    cursor = db.execute(sql, args)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def _reached(row: dict) -> dict[str, bool]:
    status, funded = row["status"], row["member_number"] != ""
    return {
        "recorded": True,
        "received": status != "rejected",
        "verified": funded or status in ("verified", "funded", "card_printed",
                                         "card_handed_over"),
        "funded": funded,
        "card_printed": status in ("card_printed", "card_handed_over"),
        "card_handed_over": status == "card_handed_over",
    }


def _age_band(birth: str | None, ref: date) -> str:
    if not birth:
        return "unknown"
    b = date.fromisoformat(birth)
    age = ref.year - b.year - ((ref.month, ref.day) < (b.month, b.day))
    for limit, band in ((25, "lt25"), (35, "25_34"), (45, "35_44"), (55, "45_54")):
        if age < limit:
            return band
    return "55up"


def _monday(day: str) -> str:
    d = date.fromisoformat(day[:10])
    return (d - timedelta(days=d.weekday())).isoformat()


def _cost(row: dict, as_of: date) -> tuple[int, int]:
    """(the year's commitment, spent to `as_of`) of one funded member, month by month."""
    config = load_program_config()
    start, end = date.fromisoformat(row["programme_start"]), date.fromisoformat(
        row["programme_end"])
    total = spent = 0
    day = start.replace(day=1)  # each month billed whole, under that month's first day's rules
    while day <= end:
        version = config.for_date(day)
        entry = version.occupation(row["occupation_code"])
        bill = version.contribution(int(row["income"] or 0),
                                    is_transport=bool(entry and entry.is_transport), on=day)
        total += bill.total
        spent += bill.total if day <= as_of else 0
        day = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
    return total, spent


def expected_numbers(store, year: int, filters: dict, today: date) -> dict[str, object]:
    """Every number the overview page should show, keyed like its data-n attributes."""
    db = store.reader()
    rows = _rows(db, year, filters)
    config = load_program_config()
    workers_total = config.latest.workforce.workers
    out: dict[str, object] = {}

    def add_counts(prefix: str, group: list[dict], stages=("recorded", "verified", "funded")):
        for stage in stages:
            out[f"{prefix}.{stage}"] = sum(_reached(r)[stage] for r in group)

    def grouped(key) -> dict:
        groups: dict = {}
        for r in rows:
            groups.setdefault(key(r), []).append(r)
        return groups

    add_counts("funnel", rows, ("recorded", "received", "verified", "funded", "card_printed",
                                "card_handed_over"))
    out["funnel.rejected"] = sum(r["status"] == "rejected" for r in rows)
    target = config.latest.target(year)
    if target:
        out["funnel.recorded.target"] = target.recorded
    quota = _quota(db, year, config)
    places = _places(quota)
    if places:
        out["funnel.funded.target"] = places
    for cohort, q in quota.items():
        out.update({f"quota.{cohort}.places": q["places"], f"quota.{cohort}.funded": q["funded"],
                    f"quota.{cohort}.left": q["left"]})
    funded = out["funnel.funded"]
    adds = round(funded * 100 / workers_total, 2)
    out.update({"coverage.workers": workers_total, "coverage.base_pct": 44.0,
                "coverage.funded": funded, "coverage.adds_pp": adds,
                "coverage.total_pct": round(44 + adds, 2)})
    for prefix, key in (("kec", "kecamatan_code"), ("kel", "kelurahan_code")):
        for code, group in grouped(lambda r, k=key: r[k]).items():
            add_counts(f"{prefix}.{code}", group, ("recorded", "verified", "funded",
                                                   "card_handed_over"))
            out[f"{prefix}.{code}.workers"] = None
            out[f"{prefix}.{code}.coverage_pct"] = None
            out[f"{prefix}.{code}.adds_pp"] = round(
                out[f"{prefix}.{code}.funded"] * 100 / workers_total, 2)
    add_counts("total.", rows, ("recorded", "verified", "funded", "card_handed_over"))
    out["total..workers"] = workers_total
    out["total..coverage_pct"] = round(funded * 100 / workers_total, 1)
    out["total..adds_pp"] = adds
    ref = min(today, date(year, 12, 31))
    for prefix, key in (("cohort", lambda r: r["cohort"]),
                        ("sex", lambda r: r["sex"] or "none"),
                        ("age", lambda r: _age_band(r["birth_date"], ref)),
                        ("occ", lambda r: r["occupation_code"]),
                        ("keg", lambda r: r["event_id"] or "none")):
        for code, group in grouped(key).items():
            add_counts(f"{prefix}.{code}", group)
    for week, group in grouped(lambda r: _monday(r["received_at"])).items():
        out[f"week.{week}.received"] = len(group)
    started: dict = {}
    for r in rows:
        if r["member_number"] and r["programme_start"]:
            w = _monday(r["programme_start"])
            started[w] = started.get(w, 0) + 1
    for week in {k.split(".")[1] for k in out if k.startswith("week.")} | set(started):
        out.setdefault(f"week.{week}.received", 0)
        out[f"week.{week}.cover_started"] = started.get(week, 0)
    for code, group in grouped(lambda r: r["reason_code"] if r["status"] == "rejected"
                               else None).items():
        if code is not None:
            out[f"rej.{code or 'none'}"] = len(group)
    out["open.waiting"] = sum(r["status"] == "received" and not r["possible_duplicate"]
                              and not r["conflict"] for r in rows)
    out["open.duplicates"] = sum(bool(r["possible_duplicate"]) and r["status"] in (
        "received", "verified") for r in rows)
    out["open.conflicts"] = sum(bool(r["conflict"]) for r in rows)
    out["open.verified_unfunded"] = sum(r["status"] == "verified" and not r["member_number"]
                                        for r in rows)
    _budget(out, rows, today)
    _devices(out, db)
    _claims(out, db, year)
    return out


def _quota(db, year: int, config) -> dict:
    """{cohort: places, funded, left}: the server's setting, else the configuration."""
    result = {}
    cohorts = config.latest.cohorts
    for cohort in cohorts:
        quota = None
        for version in reversed(config.versions):
            quota = quota or version.quota(year, cohort)
        places = quota.places if quota else 0
        shared = bool(quota) and quota.cohort == ""
        count = db.execute(
            "SELECT COUNT(*) FROM registrations WHERE programme_year = ? AND member_number != ''"
            + ("" if shared else " AND cohort = ?"), [year] if shared else [year, cohort],
        ).fetchone()[0]
        own = db.execute(
            "SELECT COUNT(*) FROM registrations WHERE programme_year = ? AND member_number != '' "
            "AND cohort = ?", [year, cohort]).fetchone()[0]
        result[cohort] = {"places": places, "funded": own, "left": max(0, places - count),
                          "shared": shared}
    return result


def _places(quota: dict) -> int:
    shared = [q["places"] for q in quota.values() if q["shared"]]
    return max(shared) if shared else sum(q["places"] for q in quota.values())


def _budget(out: dict, rows: list[dict], today: date) -> None:
    total = {"members": 0, "commitment": 0, "spent": 0}
    for cohort in sorted({r["cohort"] for r in rows if r["member_number"]}):
        members = [r for r in rows if r["member_number"] and r["cohort"] == cohort
                   and r["programme_start"] and r["programme_end"]]
        costs = [_cost(r, today) for r in members]
        values = {"members": len(members), "commitment": sum(c for c, _ in costs),
                  "spent": sum(s for _, s in costs)}
        for k, v in values.items():
            out[f"budget.{cohort}.{k}"] = v
            total[k] += v
    for k, v in total.items():
        out[f"budget.total.{k}"] = v


def _claims(out: dict, db, year: int) -> None:
    """JKM claims of deaths in `year`, straight from the claims table, stage by stage."""
    rows = db.execute("SELECT stage, amount FROM claims WHERE died_on LIKE ?",
                      [f"{year}-%"]).fetchall()
    paid = [amount for stage, amount in rows if stage in ("paid", "handed_over")]
    out.update({
        "claims.deaths": len(rows),
        "claims.submitted": sum(s in ("submitted", "paid", "handed_over") for s, _ in rows),
        "claims.paid": len(paid),
        "claims.handed_over": sum(s == "handed_over" for s, _ in rows),
        "claims.paid_rupiah": sum(paid),
    })


def _devices(out: dict, db) -> None:
    now = datetime.now(UTC)
    silent = silent_records = silent_waiting = unreported = 0
    for device_id, in db.execute("SELECT id FROM devices WHERE revoked_at IS NULL").fetchall():
        records = db.execute("SELECT COUNT(*) FROM registrations WHERE device_id = ?",
                             [device_id]).fetchone()[0]
        times = [t for (t,) in db.execute(
            "SELECT MAX(received_at) FROM batches WHERE device_id = ? UNION ALL "
            "SELECT MAX(at) FROM pulls WHERE device_id = ?", [device_id, device_id]) if t]
        last = max(times, default=None)
        told = db.execute("SELECT pending FROM device_outbox WHERE device_id = ?",
                          [device_id]).fetchone()
        if last is None or now - datetime.fromisoformat(last) > SILENT:
            silent += 1
            silent_records += records
            silent_waiting += told[0] if told else 0
            unreported += told is None
        out[f"dev.{device_id}.records"] = records
        out[f"dev.{device_id}.waiting"] = told[0] if told else None
    out["fresh.silent"] = silent
    out["fresh.silent_records"] = silent_records
    out["fresh.silent_waiting"] = silent_waiting
    if unreported:
        out["fresh.silent_unreported"] = unreported


def json_dump(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
