"""The central server at province scale, SQLite and PostgreSQL side by side (issue 13).

For each engine, in one run: 1,000,000 registrations written straight into the server's
database (`seed`: registrations, their first versions, feed entries, the devices that pushed
them; NIKs valid for Kota Jambi, spread over its 68 kelurahan, statuses as a programme year
leaves them), then the real server (`python main.py server`, uvicorn on loopback) takes:

- one device pushing 15,000 registrations (batches of 200, gzip), the baseline;
- 10 devices pushing 1,500 each at the same moment;
- the verifier's list (a kelurahan, a status, a name search, pages deep into a status and into
  everything) and the detail view of a registration, each repeated;
- a fresh device pulling every registration's keyed NIK hash (pages of 5,000, gzip).

Push times per batch are the server's own (its Server-Timing header, which includes waiting for
SQLite's one writer); the list and detail times are the client's (request sent to answer read,
on loopback). PostgreSQL runs with the durability a production server has (fsync,
synchronous_commit and full_page_writes on), as SQLite runs with synchronous=FULL. When the
server has `--workers`, PostgreSQL's pushes are measured again with two worker processes.

`python -m bench.bench_server_scale [--quick] [--count N] [--engines sqlite,postgresql]` runs it
alone.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import multiprocessing
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests

from bench.bench_server import _bodies  # the same batches as the city-scale push bench
from bench.util import median, percentile, table

ROOT = Path(__file__).resolve().parent.parent
FULL, QUICK = 1_000_000, 20_000
BATCH = 200
DEVICES = 10
PULL_PAGE = 5000
SEED_DEVICES = 200  # a province's laptops: 11 kabupaten/kota, about 18 each
CHUNK = 20_000  # seeded rows per write transaction
READ_BUDGET_S = 20.0  # a read that is slow stops after this long (fewer samples, said so)
STATUSES = (("received", 40), ("verified", 12), ("rejected", 8), ("funded", 16),
            ("card_printed", 10), ("card_handed_over", 10), ("died", 2), ("inactive", 2))
REVISION = {"received": 1, "verified": 2, "rejected": 2, "funded": 3, "card_printed": 4,
            "card_handed_over": 5, "died": 5, "inactive": 5}
FUNDED = {"funded", "card_printed", "card_handed_over", "died", "inactive"}
GOAL_READ_MS = 50.0
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
GOAL_RATIO = 2.0
# A production server's durability (tests/pg_cluster.py switches it off for throwaway tests),
# and shared buffers of a few gigabytes (the test cluster keeps 32 MB).
PG_SETTINGS = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on",
               "shared_buffers": "'2GB'", "max_wal_size": "'4GB'"}


# --- seeding ----------------------------------------------------------------------------------


def _kelurahans() -> list:
    from storage.regions import load_regions

    regions = load_regions()
    return [k for kec in regions.kecamatan_list() for k in regions.kelurahan_list(kec.code)]


def _occupations() -> dict[str, list[str]]:
    from storage.config import load_program_config

    by_cohort: dict[str, list[str]] = {}
    for occ in load_program_config().latest.occupations:
        by_cohort.setdefault(occ.cohort, []).append(occ.code)
    return by_cohort


def _record_id(rng: random.Random, millis: int) -> str:
    """A UUIDv7 like a device makes, from the registration's time."""
    value = (millis & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rng.getrandbits(12) << 64
    value |= 0b10 << 62 | rng.getrandbits(62)
    return str(uuid.UUID(int=value))


class Seeder:
    """Makes the rows of `count` registrations as a province's server would hold them after a
    year and a half: every one pushed once (version 1), many decided since."""

    def __init__(self, count: int, seed: int = 13):
        from storage import demo

        self.count = count
        self.rng = random.Random(seed)
        self.kels = _kelurahans()
        self.occupations = _occupations()
        self.cohorts = sorted(self.occupations)
        self.statuses = [s for s, w in STATUSES for _ in range(w)]
        self.male, self.female, self.last = demo.MALE_NAMES, demo.FEMALE_NAMES, demo.LAST_NAMES
        self.devices = [f"seed-device-{i:03d}" for i in range(SEED_DEVICES)]
        self.start = datetime(2025, 1, 6, 1, tzinfo=UTC)
        self.span = (datetime(2026, 11, 28, tzinfo=UTC) - self.start).total_seconds()
        self.niks: set[str] = set()
        self.members: dict[tuple[int, str], int] = {}
        self.sample_ids: list[str] = []  # for the detail view
        self.wall = 0.0  # seconds to seed every engine
        self.flush_s = 0.0  # seconds to bring it to the disk afterwards

        # Birth dates 19 to 58 years before the day the programme counts from, as NIK parts.
        births = [date(2026, 12, 1) - timedelta(days=d) for d in range(19 * 365, 58 * 365)]
        self.births = [(b.isoformat(), b.day, f"{b.month:02d}{b.year % 100:02d}") for b in births]

    def rows(self, index: int, seq: int, nik_hash) -> tuple[tuple, tuple, tuple, tuple]:
        """(registration, version, feed, pushed) rows of the `index`-th registration. Built
        from two random draws and a JSON template (1,000,000 of them must be quick); the test of
        the template is `check_json`."""
        draw, more = self.rng.getrandbits(64), self.rng.getrandbits(64)
        kel = self.kels[draw % len(self.kels)]
        draw //= len(self.kels)
        sex, draw = "LP"[draw & 1], draw >> 1
        birth, day, month_year = self.births[draw % len(self.births)]
        draw //= len(self.births)
        while True:
            # A NIK the rules accept: Kota Jambi, the kecamatan, the birth date (+40 on the
            # day for women), a serial below 9900 (the demo's pushed workers use 9900-9999).
            nik = (f"1571{kel.kecamatan_code[-2:]}{day + (40 if sex == 'P' else 0):02d}"
                   f"{month_year}{1 + draw % 9899:04d}")
            if nik not in self.niks:
                self.niks.add(nik)
                break
            draw = self.rng.getrandbits(32)
        firsts = self.male if sex == "L" else self.female
        last = self.last[more % 30]
        name = f"{firsts[more // 30 % 30]} {last}"
        if more // 900 % 10 < 4:
            name = f"{name} {self.last[more // 9000 % 30]}"
            last = self.last[more // 9000 % 30]
        more //= 270_000
        cohort = self.cohorts[1] if more % 4 == 0 else self.cohorts[0]
        occupations = self.occupations[cohort]
        occupation = occupations[more // 4 % len(occupations)]
        more //= 4 * len(occupations)
        status = self.statuses[more % len(self.statuses)]
        more //= len(self.statuses)
        received = self.start + timedelta(seconds=self.span * index / self.count)
        at = received.isoformat()
        device = self.devices[index * SEED_DEVICES // self.count]
        record_id = _record_id(self.rng, int(received.timestamp() * 1000))
        if more % self.count < 1000:
            self.sample_ids.append(record_id)
        heir = (self.female if sex == "L" else self.male)[more // 7 % 30]
        text = (
            f'{{"birth_date":"{birth}","birth_place":"Jambi","cohort":"{cohort}",'
            f'"consent_at":"{at}","consent_given":true,"consent_version":"PDP-2026-01",'
            f'"created_at":"{at}","device_id":"{device}","event_id":null,"full_name":"{name}",'
            f'"heirs":[{{"name":"{heir} {last}","nik":"","phone":"",'
            f'"relationship":"{"istri" if sex == "L" else "suami"}"}}],"id":"{record_id}",'
            f'"kecamatan_code":"{kel.kecamatan_code}","kelurahan_code":"{kel.code}",'
            f'"monthly_income":{(10 + more % 21) * 100_000},"nik":"{nik}","notes":"",'
            f'"occupation_code":"{occupation}","operator":"Petugas Uji",'
            f'"phone":"0800{more % 10**8:08d}","postal_code":"{kel.postal_code}",'
            f'"rt":"{1 + more % 39:03d}","rw":"{1 + more % 11:03d}","sex":"{sex}",'
            f'"street":"Jl. Contoh No. {1 + more % 199}","updated_at":"{at}","version":1}}')
        member = start = end = year = None
        if status in FUNDED:
            year = received.year
            key = (year, cohort)
            self.members[key] = n = self.members.get(key, 0) + 1
            member = f"JMB-{year}-{'PR' if cohort == 'pekerja_rentan' else 'PK'}-{n:06d}"
            start, end = received.date().isoformat(), f"{year}-12-31"
        reason = "not_eligible_age" if status == "rejected" else ""
        registration = (
            record_id, seq, nik, nik_hash(nik), name, birth, kel.kecamatan_code, kel.code,
            occupation, cohort, None, text, 1, REVISION[status], status, reason,
            "Alasan uji" if reason else "", member or "", year, start, end, 0, None, 0, device,
            at, at, seq)
        version = (record_id, 1, hashlib.sha256(text.encode()).hexdigest(), 0, device,
                   "accepted", None, text, f"seed-batch-{index // BATCH:06d}", at)
        return registration, version, (seq, "registration", record_id), (device, record_id, at)


def check_json(rows: list[tuple]) -> None:
    """The template's JSON is what the server itself stores: canonical, sorted, compact."""
    for row in rows:
        text = row[0][11]
        again = json.dumps(json.loads(text), ensure_ascii=False, sort_keys=True,
                           separators=(",", ":"))
        if again != text:
            raise AssertionError(f"seeded JSON is not canonical: {text}")


REG_COLUMNS = ("id", "arrival", "nik", "nik_hash", "full_name", "birth_date", "kecamatan_code",
               "kelurahan_code", "occupation_code", "cohort", "event_id", "data", "version",
               "revision", "status", "reason_code", "status_reason", "member_number",
               "programme_year", "programme_start", "programme_end", "possible_duplicate",
               "duplicate_of", "conflict", "device_id", "received_at", "updated_at", "seq")
TABLES = {
    "registrations": REG_COLUMNS,
    "versions": ("record_id", "version", "content_hash", "base_version", "device_id", "outcome",
                 "duplicate_of", "data", "batch_id", "received_at"),
    "feed": ("seq", "kind", "record_id"),
    "pushed": ("device_id", "record_id", "first_at"),
}


def _insert(db, table_name: str, rows: list[tuple]) -> None:
    """Bulk rows into one table: COPY on PostgreSQL, executemany on SQLite."""
    columns = TABLES[table_name]
    if db.is_postgresql:
        with db.conn.cursor().copy(
                f"COPY {table_name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    db.conn.executemany(f"INSERT INTO {table_name} ({', '.join(columns)}) VALUES ({marks})",
                        rows)


def share_nik_key(stores: list) -> None:
    """Give every store the first one's NIK hash key, so that the same rows (with the same keyed
    hashes) go into each engine. Call before the stores are used: each reads its key on open."""
    key = stores[0].reader().execute(
        "SELECT value FROM settings WHERE name = 'nik_hash_key'").fetchone()[0]
    for store in stores[1:]:
        with store.write() as db:
            db.execute("UPDATE settings SET value = ? WHERE name = 'nik_hash_key'", [key])


def _write_chunk(store, made: list[tuple]) -> float:
    started = time.perf_counter()
    with store.write() as db:
        for position, table_name in enumerate(TABLES):
            _insert(db, table_name, [m[position] for m in made])
    return time.perf_counter() - started


def seed(stores: dict, count: int) -> tuple[Seeder, float, dict[str, float]]:
    """Write the same `count` registrations into every store, CHUNK per write transaction:
    the engines write side by side (a thread each) while the next chunk is made. Returns the
    seeder (its sample of ids), the seconds spent making rows, and the seconds each store
    spent writing (while the others wrote too)."""
    seeder = Seeder(count)
    first_store = next(iter(stores.values()))
    spent = dict.fromkeys(stores, 0.0)
    for name, store in stores.items():
        started = time.perf_counter()
        with store.write() as db:
            db.executemany(
                "INSERT INTO devices (id, name, role, token_hash, created_at) "
                "VALUES (?,?,?,?,?)",
                [(d, f"Laptop {d}", "enumerator", hashlib.sha256(d.encode()).hexdigest(),
                  "2025-01-02T00:00:00+00:00") for d in seeder.devices])
            base = db.execute("SELECT COALESCE(MAX(seq), 0) FROM feed").fetchone()[0]
        spent[name] += time.perf_counter() - started
    making = 0.0
    writers = {name: ThreadPoolExecutor(1) for name in stores}
    pending: dict = {}
    try:
        for first in range(0, count, CHUNK):
            started = time.perf_counter()
            made = [seeder.rows(i, base + 1 + i, first_store.nik_hash)
                    for i in range(first, min(count, first + CHUNK))]
            making += time.perf_counter() - started
            if first == 0:
                check_json(made[:1000])
            for name, future in pending.items():  # one chunk in flight per engine
                spent[name] += future.result()
            pending = {name: writers[name].submit(_write_chunk, store, made)
                       for name, store in stores.items()}
            if first // CHUNK % 10 == 9:
                log(f"seeded {first + CHUNK:,}")
        for name, future in pending.items():
            spent[name] += future.result()
    finally:
        for writer in writers.values():
            writer.shutdown()
    for name, store in stores.items():
        if store.is_postgresql:
            started = time.perf_counter()
            with store.write() as db:  # the feed's own sequence continues after the seeded ones
                db.execute("SELECT setval('feed_seq_seq', (SELECT MAX(seq) FROM feed))")
            spent[name] += time.perf_counter() - started
    return seeder, making, spent


# --- the PostgreSQL cluster -------------------------------------------------------------------


def _start_cluster():
    """A cluster in a temporary folder (tests/pg_cluster.py) set up as a production server:
    durable (the test cluster's own settings are for throwaway data) and with shared buffers
    of a server that has memory to spare for them."""
    from tests.pg_cluster import Cluster

    return Cluster().start(settings=PG_SETTINGS)


def _vacuum_analyze(cluster, database: str) -> float:
    """What autovacuum does soon after a bulk load (statistics, visibility map), done at once so
    the reads measured do not depend on when it comes."""
    started = time.perf_counter()
    with cluster.connect(database) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


# --- the server process -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def workers_option() -> bool:
    """Whether `main.py server` has `--workers` (several processes on PostgreSQL)."""
    done = subprocess.run([sys.executable, "main.py", "server", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    return "--workers" in done.stdout


class Server:
    def __init__(self, data_dir: Path, url: str | None, workers: int = 1):
        self.data_dir, self.url, self.workers = data_dir, url, workers
        self.proc: subprocess.Popen | None = None
        self.api = ""

    def start(self) -> Server:
        port = _free_port()
        command = [sys.executable, "main.py", "server", "--data-dir", str(self.data_dir),
                   "--host", "127.0.0.1", "--port", str(port)]
        if self.url:
            command += ["--database", self.url]
        if self.workers > 1:
            command += ["--workers", str(self.workers)]
        self.proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.api = f"http://127.0.0.1:{port}/api/v1"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.api}/health", timeout=1).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


def _enrol(store, api: str, role: str, count: int) -> list[dict]:
    from server.auth import create_enrol_code

    codes = [create_enrol_code(store, role) for _ in range(count)]
    answers = [requests.post(f"{api}/devices/enrol", timeout=30,
                             json={"code": c, "device_name": f"bench {role} {i}"})
               for i, c in enumerate(codes)]
    for answer in answers:
        answer.raise_for_status()
    return [a.json() for a in answers]


# --- CPU accounting (/proc) -------------------------------------------------------------------


def _proc_table() -> tuple[dict[int, int], dict[int, int]]:
    parents, ticks = {}, {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid], ticks[pid] = int(fields[1]), int(fields[11]) + int(fields[12])
    return parents, ticks


def tree_cpu_seconds(roots: list[int]) -> float:
    """CPU seconds used so far by these processes and every descendant still alive."""
    parents, ticks = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0, [r for r in roots if r in ticks]
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        todo += children.get(pid, [])
    return total / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far."""
    with open("/proc/stat", encoding="ascii") as fh:
        values = [int(v) for v in fh.readline().split()[1:9]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class CpuWatch:
    """CPU used by the server (and PostgreSQL) between start() and stop(), and how busy the
    whole machine was."""

    roots: list[int]
    server_roots: list[int] = field(default_factory=list)
    used: float = 0.0
    server_used: float = 0.0
    busy: float = 0.0

    def start(self) -> CpuWatch:
        self._t0 = tree_cpu_seconds(self.roots)
        self._s0 = tree_cpu_seconds(self.server_roots)
        self._m0 = machine_ticks()
        return self

    def stop(self) -> CpuWatch:
        self.used = tree_cpu_seconds(self.roots) - self._t0
        self.server_used = tree_cpu_seconds(self.server_roots) - self._s0
        busy, total = machine_ticks()
        self.busy = (busy - self._m0[0]) / max(1, total - self._m0[1])
        return self


# --- pushes -----------------------------------------------------------------------------------


def _push_all(args) -> list[tuple[float, float]]:
    """One device's pushes; (server ms, client ms) per batch."""
    api, token, bodies, start_at = args
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
               "Content-Encoding": "gzip", "Accept-Encoding": "gzip"}
    while time.time() < start_at:
        time.sleep(0.001)
    timings = []
    for body in bodies:
        started = time.perf_counter()
        answer = session.post(f"{api}/sync/push", data=body, headers=headers, timeout=300)
        answer.raise_for_status()
        outcomes = {r["outcome"] for r in answer.json()["results"]}
        took = (time.perf_counter() - started) * 1000
        if outcomes - {"accepted"}:
            raise RuntimeError(f"unexpected outcomes {outcomes}")
        timings.append((float(answer.headers["server-timing"].split("dur=")[1]), took))
    return timings


@dataclass
class PushResult:
    records: int
    total: float
    server_ms: list[float]
    client_ms: list[float]
    cpu: CpuWatch

    @property
    def p50(self) -> float:
        return median(self.server_ms)

    @property
    def p95(self) -> float:
        return percentile(self.server_ms, 95)

    @property
    def cpu_ms_per_batch(self) -> float:
        return self.cpu.used * 1000 / max(1, len(self.server_ms))


def push_scenario(store, server: Server, cpu_roots: list[int], regs: list,
                  devices: int) -> PushResult:
    enrolled = _enrol(store, server.api, "enumerator", devices)
    per_device = len(regs) // devices
    work = [_bodies(d, regs[i * per_device:(i + 1) * per_device])
            for i, d in enumerate(enrolled)]
    if devices == 1:
        watch = CpuWatch(cpu_roots, [server.proc.pid]).start()
        started = time.perf_counter()
        timings = [_push_all((server.api, enrolled[0]["token"], work[0], 0.0))]
        total = time.perf_counter() - started
    else:
        with multiprocessing.get_context("spawn").Pool(devices) as pool:
            # Every device starts at the same moment, after the processes are up.
            start_at = time.time() + 2.0
            jobs = [(server.api, d["token"], bodies, start_at)
                    for d, bodies in zip(enrolled, work, strict=True)]
            pending = pool.map_async(_push_all, jobs)
            time.sleep(max(0.0, start_at - time.time()))
            watch = CpuWatch(cpu_roots, [server.proc.pid]).start()
            started = time.perf_counter()
            timings = pending.get()
            total = time.perf_counter() - started
    watch.stop()
    flat = [t for device in timings for t in device]
    return PushResult(len(regs), total, [s for s, _ in flat], [c for _, c in flat], watch)


# --- reads ------------------------------------------------------------------------------------


@dataclass
class ReadResult:
    client_ms: list[float]
    server_ms: list[float]
    rows: int = 0  # items in the last answer, for the table's note

    @property
    def p50(self) -> float:
        return median(self.client_ms)

    @property
    def p95(self) -> float:
        return percentile(self.client_ms, 95)


def _timed_reads(session: requests.Session, urls: list[tuple[str, dict]],
                 budget: float = READ_BUDGET_S) -> ReadResult:
    result = ReadResult([], [])
    budget_end = time.perf_counter() + budget
    for url, params in urls:
        started = time.perf_counter()
        answer = session.get(url, params=params, timeout=120)
        answer.raise_for_status()
        body = answer.json()
        result.client_ms.append((time.perf_counter() - started) * 1000)
        result.server_ms.append(float(answer.headers["server-timing"].split("dur=")[1]))
        result.rows = len(body.get("items", [])) if "items" in body else 1
        if time.perf_counter() > budget_end:
            break
    return result


def read_scenarios(server: Server, token: str, seeder: Seeder, reads: int,
                   stored: int) -> dict[str, ReadResult]:
    """The verifier's list with its filters and deep pages, and the detail view."""
    rng = random.Random(7)
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"})
    listing = f"{server.api}/registrations"
    names = [n.lower() for n in (*seeder.male, *seeder.female)]
    received = stored * STATUSES[0][1] // sum(w for _, w in STATUSES)
    plans = {
        "list, one kelurahan, first page": [
            (listing, {"kelurahan": rng.choice(seeder.kels).code}) for _ in range(reads)],
        "list, one status (received), first page": [
            (listing, {"status": "received"}) for _ in range(reads)],
        "list, name search (a first name), first page": [
            (listing, {"q": rng.choice(names)}) for _ in range(reads)],
        "list, name search (first and last name), first page": [
            (listing, {"q": f"{rng.choice(names)} {rng.choice(seeder.last).lower()}"})
            for _ in range(reads)],
        "list, one kelurahan, any of its pages": [
            (listing, {"kelurahan": rng.choice(seeder.kels).code,
                       "offset": rng.randrange(max(1, stored // len(seeder.kels) // 100)) * 100})
            for _ in range(reads)],
        "list, one status (received), one of its first 100 pages": [
            (listing, {"status": "received", "offset": rng.randrange(100) * 100})
            for _ in range(reads)],
        "list, one status (received), any of its pages": [
            (listing, {"status": "received", "offset": rng.randrange(max(1, received // 100)) * 100})
            for _ in range(reads)],
        "list, everything, any page": [
            (listing, {"offset": rng.randrange(max(1, stored // 100)) * 100})
            for _ in range(reads)],
        "detail view of one registration": [
            (f"{listing}/{rng.choice(seeder.sample_ids)}", {}) for _ in range(reads)],
    }
    _timed_reads(session, plans["list, one kelurahan, first page"][:5])  # connection, caches
    budget = READ_BUDGET_S if reads >= 200 else READ_BUDGET_S / 4
    return {label: _timed_reads(session, urls, budget) for label, urls in plans.items()}


def pull_everything(server: Server, token: str) -> dict:
    """A fresh device's first pull, page after page, as its sync does (without storing)."""
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"})
    cursor, items, wire, pages, hashes = 0, 0, 0, 0, 0
    started = time.perf_counter()
    while True:
        answer = session.get(f"{server.api}/sync/pull", timeout=300, stream=True,
                             params={"cursor": cursor, "limit": PULL_PAGE})
        answer.raise_for_status()
        raw = answer.raw.read(decode_content=False)
        wire += len(raw)
        text = gzip.decompress(raw) if answer.headers.get("content-encoding") == "gzip" else raw
        page = json.loads(text)
        pages += 1
        items += len(page["changes"])
        hashes += sum(1 for c in page["changes"] if c.get("nik_hash"))
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    return {"time": time.perf_counter() - started, "items": items, "hashes": hashes,
            "bytes": wire, "pages": pages}


# --- one engine -------------------------------------------------------------------------------


@dataclass
class EngineRun:
    name: str
    stored: int
    seed_s: float = 0.0
    vacuum_s: float | None = None
    warm_s: float = 0.0
    size_mb: float = 0.0
    one: PushResult | None = None
    many: PushResult | None = None
    many_workers: PushResult | None = None
    one_workers: PushResult | None = None
    workers: int = 1
    reads: dict[str, ReadResult] = field(default_factory=dict)
    pull: dict = field(default_factory=dict)
    final_count: int = 0


def _workers_regs(count: int, seed: int, taken: set[str]) -> list:
    from storage.demo import generate_workers

    return list(generate_workers(count, seed=seed, as_of=date.today(), taken_niks=taken))


def _size_mb(store, cluster, database: str | None) -> float:
    if database is None:
        return sum(p.stat().st_size for p in store.path.parent.glob(store.path.name + "*")) / 1e6
    with cluster.connect(database) as conn:
        return conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 1e6


def open_stores(engines: tuple[str, ...], folder: Path, cluster) -> dict:
    """{engine: (data folder, database URL or None, database name or None)}, each made."""
    places = {}
    for name in engines:
        url = database = None
        if name == "postgresql":
            database = "bench_scale"
            with cluster.connect() as admin:
                admin.execute(f"CREATE DATABASE {database}")
            url = cluster.url(database)
        places[name] = (folder / f"server-{name}", url, database)
    return places


def seed_all(places: dict, count: int, cluster) -> tuple[Seeder, float, dict[str, EngineRun]]:
    from server.store import Store

    stores = {name: Store(data_dir, url) for name, (data_dir, url, _) in places.items()}
    try:
        share_nik_key(list(stores.values()))
    finally:
        for store in stores.values():
            store.close()
    stores = {name: Store(data_dir, url) for name, (data_dir, url, _) in places.items()}
    runs = {}
    try:
        log(f"seeding {count:,} registrations into {', '.join(stores)}")
        started = time.perf_counter()
        seeder, making, spent = seed(stores, count)
        seeder.wall = time.perf_counter() - started
        for name, store in stores.items():
            runs[name] = result = EngineRun(name, count, seed_s=spent[name])
            database = places[name][2]
            if database:
                result.vacuum_s = _vacuum_analyze(cluster, database)
            result.size_mb = _size_mb(store, cluster, database)
            log(f"{name}: written in {result.seed_s:.1f} s ({result.size_mb:,.0f} MB)")
    finally:
        for store in stores.values():
            store.close()
    seeder.flush_s = _flush(cluster, [d for _, _, d in places.values() if d])
    return seeder, making, runs


def _flush(cluster, databases: list[str]) -> float:
    """Let the seeded gigabytes reach the disk (PostgreSQL's checkpoint, then the system's
    write-back) before anything is timed: otherwise the measured commits wait behind them."""
    started = time.perf_counter()
    for database in databases:
        with cluster.connect(database) as conn:
            conn.execute("CHECKPOINT")
    os.sync()
    return time.perf_counter() - started


def _database_files(store, cluster, database: str | None) -> list[Path]:
    if database is None:
        return [p for p in store.path.parent.glob(store.path.name + "*") if p.is_file()]
    with cluster.connect(database) as conn:
        oid = conn.execute("SELECT oid FROM pg_database WHERE datname = current_database()"
                           ).fetchone()[0]
    return [p for p in (cluster.root / "data" / "base" / str(oid)).iterdir() if p.is_file()]


def warm(files: list[Path]) -> float:
    """Read the database's files once, as a server that has been running finds them in the
    system's cache (the same for both engines; PostgreSQL's own buffers stay as they are)."""
    started = time.perf_counter()
    for path in files:
        with path.open("rb") as fh:
            while fh.read(1 << 20):
                pass
    return time.perf_counter() - started


def run_engine(result: EngineRun, place: tuple, seeder: Seeder, pushes: list, quick: bool,
               cluster=None, with_workers: bool = False) -> EngineRun:
    from server.store import Store

    name, count = result.name, result.stored
    data_dir, url, database = place
    cpu_roots = [_postmaster_pid(cluster)] if url else []
    one = 1500 if quick else 15000
    per_device = 150 if quick else 1500
    store = Store(data_dir, url)
    try:
        result.warm_s = warm(_database_files(store, cluster, database))
        server = Server(data_dir, url).start()
        try:
            roots = [*cpu_roots, server.proc.pid]
            log(f"{name}: pushes")
            result.one = push_scenario(store, server, roots, pushes[:one], 1)
            result.many = push_scenario(store, server, roots,
                                        pushes[one:one + DEVICES * per_device], DEVICES)
            log(f"{name}: reads")
            verifier = _enrol(store, server.api, "verifier", 1)[0]
            stored = count + one + DEVICES * per_device
            result.reads = read_scenarios(server, verifier["token"], seeder,
                                          20 if quick else 200, stored)
            log(f"{name}: pull")
            fresh = _enrol(store, server.api, "enumerator", 1)[0]
            result.pull = pull_everything(server, fresh["token"])
        finally:
            server.stop()
        if with_workers:
            result.workers = 2
            server = Server(data_dir, url, workers=2).start()
            try:
                log(f"{name}: pushes, 2 workers")
                rest = pushes[one + DEVICES * per_device:]
                roots = [*cpu_roots, server.proc.pid]
                result.one_workers = push_scenario(store, server, roots, rest[:one], 1)
                result.many_workers = push_scenario(store, server, roots, rest[one:], DEVICES)
            finally:
                server.stop()
        result.final_count = store.reader().execute(
            "SELECT COUNT(*) FROM registrations").fetchone()[0]
    finally:
        store.close()
    pushed = sum(r.records for r in (result.one, result.many, result.one_workers,
                                     result.many_workers) if r)
    # Every record once: the benchmark measures a correct server or nothing.
    if result.final_count != count + pushed:
        raise RuntimeError(f"{name}: {result.final_count} registrations, expected "
                           f"{count + pushed}")
    if result.pull["hashes"] != count + one + DEVICES * per_device:
        raise RuntimeError(f"{name}: pulled {result.pull['hashes']} NIK hashes")
    return result


def _postmaster_pid(cluster) -> int:
    return int((cluster.root / "data" / "postmaster.pid").read_text().split()[0])


def log(text: str) -> None:
    print(f"  [{datetime.now(UTC):%H:%M:%S}] {text}", file=sys.stderr, flush=True)


# --- the table --------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


def _verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _rows(runs: list[EngineRun]) -> list[list[str]]:
    def cells(fn) -> list[str]:
        return [fn(r) for r in runs]

    pg = next((r for r in runs if r.name == "postgresql"), None)
    rows = [
        ["seeding: registrations, versions, feed, pushed (straight into the database)",
         *cells(lambda r: f"{r.stored:,} in {r.seed_s:.1f} s"), "", ""],
        ["VACUUM ANALYZE after seeding (what autovacuum does)",
         *cells(lambda r: f"{r.vacuum_s:.1f} s" if r.vacuum_s is not None else "–"), "", ""],
        ["database size after seeding", *cells(lambda r: f"{r.size_mb:,.0f} MB"), "", ""],
        ["reading the database's files once before the measurements (warm cache)",
         *cells(lambda r: f"{r.warm_s:.1f} s"), "", ""],
    ]
    for label, key in (("1 device alone", "one"), (f"{DEVICES} devices at once", "many")):
        rows += [
            [f"push, {label}: records, total time, records/s",
             *cells(lambda r, k=key: f"{getattr(r, k).records:,}, {getattr(r, k).total:.1f} s, "
                    f"{getattr(r, k).records / getattr(r, k).total:,.0f}/s"), "", ""],
            [f"push, {label}: server p50 / p95 per batch",
             *cells(lambda r, k=key: f"{_ms(getattr(r, k).p50)} / {_ms(getattr(r, k).p95)}"),
             "", ""],
            [f"push, {label}: CPU per batch (server + PostgreSQL), machine busy",
             *cells(lambda r, k=key: f"{getattr(r, k).cpu_ms_per_batch:.0f} ms, "
                    f"{getattr(r, k).cpu.busy:.0%}"), "", ""],
        ]
    rows.append([f"push: p95 {DEVICES} devices / p95 1 device",
                 *cells(lambda r: f"{r.many.p95 / r.one.p95:.2f}×"),
                 f"≤ {GOAL_RATIO:.0f}× (PostgreSQL)",
                 _verdict(pg.many.p95 / pg.one.p95 <= GOAL_RATIO) if pg else ""])
    if pg and pg.many_workers:
        w = pg.workers
        rows += [
            [f"push with --workers {w}, 1 device: server p50 / p95",
             *cells(lambda r: f"{_ms(r.one_workers.p50)} / {_ms(r.one_workers.p95)}"
                    if r.one_workers else "–"), "", ""],
            [f"push with --workers {w}, {DEVICES} devices: server p50 / p95, records/s",
             *cells(lambda r: f"{_ms(r.many_workers.p50)} / {_ms(r.many_workers.p95)}, "
                    f"{r.many_workers.records / r.many_workers.total:,.0f}/s"
                    if r.many_workers else "–"), "", ""],
            [f"push with --workers {w}: p95 {DEVICES} devices / p95 1 device",
             *cells(lambda r: f"{r.many_workers.p95 / r.one_workers.p95:.2f}×"
                    if r.many_workers else "–"), f"≤ {GOAL_RATIO:.0f}×",
             _verdict(pg.many_workers.p95 / pg.one_workers.p95 <= GOAL_RATIO)],
        ]
    rows.append(["fresh device pulls every NIK hash: items, time, bytes on the wire",
                 *cells(lambda r: f"{r.pull['items']:,} in {r.pull['time']:.1f} s, "
                        f"{r.pull['bytes'] / 1e6:.1f} MB ({r.pull['pages']} pages)"), "", ""])
    for label in runs[0].reads:
        rows.append([f"{label}: p50 / p95 (n)",
                     *cells(lambda r, k=label: f"{_ms(r.reads[k].p50)} / "
                            f"{_ms(r.reads[k].p95)} ({len(r.reads[k].client_ms)})"),
                     f"p95 ≤ {GOAL_READ_MS:.0f} ms",
                     ", ".join(f"{NAMES[r.name]} {_verdict(r.reads[label].p95 <= GOAL_READ_MS)}"
                               for r in runs)])
    return rows


def report(runs: list[EngineRun], count: int, making: float, seeding: float, flush: float,
           elapsed: float) -> str:
    header = ["measure", *(NAMES[r.name] for r in runs), "goal", "met?"]
    note = (
        f"{count:,} registrations stored before the measurements: the same rows written "
        "straight into each database, one transaction per 20,000, both engines side by side "
        f"(whole seeding {seeding / 60:.1f} min, of which making the rows in Python "
        f"{making:.0f} s; each engine's writing time below overlaps the other's), brought to "
        f"the disk (CHECKPOINT, sync: {flush:.0f} s) and read once into the system's cache, "
        "then the real server (`main.py server`, one "
        "uvicorn process) on loopback. Push: batches of 200, gzip; server time per batch from "
        "its Server-Timing header (on SQLite it includes waiting for the one writer); every "
        "record must come back `accepted`, and the registrations are counted at the end. "
        "Reads: the verifier device's list (100 rows a page, with the count of all matches) "
        "and detail view, client-side time on loopback, p50 / p95 over n requests (200, fewer "
        f"when a kind of request takes longer than {READ_BUDGET_S:.0f} s in all). PostgreSQL "
        "15 from the system's binaries with fsync, synchronous_commit and full_page_writes on, "
        "shared_buffers 2 GB, max_wal_size 4 GB; "
        "SQLite WAL with synchronous=FULL. CPU per batch: CPU seconds of the server process "
        "(and PostgreSQL's processes) during the scenario / batches. Whole run: "
        f"{elapsed / 60:.1f} min."
    )
    return table(f"Server at province scale: {count:,} registrations, both engines",
                 header, _rows(runs), note)


def run(quick: bool = False, count: int | None = None,
        engines: tuple[str, ...] = ("sqlite", "postgresql")) -> str:
    count = count or (QUICK if quick else FULL)
    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    cluster = _start_cluster() if "postgresql" in engines else None
    try:
        places = open_stores(engines, folder, cluster)
        seeder, making, runs = seed_all(places, count, cluster)
        one = 1500 if quick else 15000
        pushed = 2 * (one + DEVICES * (150 if quick else 1500))
        for name in engines:
            # The same registrations pushed to each engine (new record ids each time).
            pushes = _workers_regs(pushed, 99, set())
            run_engine(runs[name], places[name], seeder, pushes, quick, cluster,
                       with_workers=name == "postgresql" and workers_option())
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return report([runs[n] for n in engines], count, making, seeder.wall, seeder.flush_s,
                  time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_server_scale")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--count", type=int, default=None)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    print(run(args.quick, args.count, tuple(args.engines.split(","))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
