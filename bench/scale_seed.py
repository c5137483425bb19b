"""Seeding the province-scale benchmark: registrations written straight into the server's
database, both engines side by side (bench_server_scale)."""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

from bench.scale_config import BATCH, CHUNK, FUNDED, REVISION, SEED_DEVICES, STATUSES


def log(text: str) -> None:
    print(f"  [{datetime.now(UTC):%H:%M:%S}] {text}", file=sys.stderr, flush=True)


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
