"""Local registry with the city's whole workforce (228,000 workers): save, lookups, search.

The database is built once with the demo loader into a cache folder under the system temp
directory, keyed by schema version and size, and copied for each run so every run starts from
the same file. The baseline is a raw `sqlite3` durable insert of the same row (WAL,
synchronous=FULL, one INSERT and a commit) into the same file, interleaved with the saves.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import random
import shutil
import sqlite3
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlite_utils import Database

from bench.util import ms, peak_rss_mib, percentile, table
from storage import demo
from storage.db import CACHE_KIB, WAL_AUTOCHECKPOINT_PAGES
from storage.demo import fill_demo_data, generate_workers
from storage.ids import new_id
from storage.migrations import MIGRATIONS
from storage.models import mask_nik
from storage.registry import (
    GENESIS_HASH,
    INSERT_HEIR,
    INSERT_VERSION,
    UPSERT_WORKER,
    RegistrationFilter,
    Registry,
    canonical_json,
    heir_rows,
    insert_audit,
    record_dict,
    worker_row,
)
from storage.validation import clean_registration
from storage.vocabulary import local_now_iso

FULL_SIZE = 228_000
QUICK_SIZE = 5_000
WARM_UP = 20
WAL_HEADER, FRAME_HEADER, PAGE_SIZE = 32, 24, 4096  # SQLite's WAL format, default page size
AS_OF = date(2026, 11, 24)
SEARCHES = ("siti", "siti nur", "budi sa", "wahyu", "dewi lest", "ahmad har", "rina", "fauzi r")


def _schema_fingerprint() -> str:
    """Changes whenever the schema or the demo generator changes, so a stale cache is rebuilt."""
    db = Database(memory=True)
    MIGRATIONS.apply(db)
    schema = "\n".join(r[0] or "" for r in db.execute("SELECT sql FROM sqlite_master ORDER BY name"))
    source = Path(demo.__file__).read_bytes()
    return hashlib.sha256(schema.encode() + source).hexdigest()[:12]


def _cached_database(size: int) -> tuple[Path, float | None]:
    """The cached demo database of `size` workers, and its build time if built now. Several
    benchmark processes may ask at once: one builds under a lock, into a temporary file that is
    renamed when complete; the others wait and reuse it."""
    folder = Path(tempfile.gettempdir()) / "jamsos-bench" / f"storage-{_schema_fingerprint()}-{size}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "registry.sqlite3"
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return path, None
        partial = folder / f"building-{os.getpid()}.sqlite3"
        started = time.perf_counter()
        registry = Registry.open(partial)
        fill_demo_data(registry, size, seed=0, as_of=AS_OF, batch_size=5000)
        assert registry.count(RegistrationFilter()) == size
        registry.db_for_tests.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        registry.close()
        built = time.perf_counter() - started
        partial.rename(path)
    return path, built


def _raw_insert(conn: sqlite3.Connection, row: list) -> float:
    started = time.perf_counter()
    conn.execute(f"INSERT INTO raw_workers VALUES ({', '.join('?' * len(row))})", row)
    conn.commit()
    return time.perf_counter() - started


def _raw_connection(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection with the registry's durability and cache settings."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    # The workers table's own definition (keys and constraints), without its triggers or FTS.
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'workers'").fetchone()[0]
    conn.execute(sql.replace("CREATE TABLE workers", "CREATE TABLE IF NOT EXISTS raw_workers", 1))
    conn.commit()
    return conn


def _write_only(registry: Registry, reg) -> float:
    """The save's write step alone (clean rows, one commit) with validation skipped: what the
    tables, indexes and name index cost before any rule or duplicate lookup runs. A diagnostic,
    hence the private method."""
    reg = clean_registration(reg)
    started = time.perf_counter()
    with registry.db_for_tests.atomic():
        registry._write_version(reg, "Bench")
    return time.perf_counter() - started


def _statements_only(registry: Registry, reg) -> float:
    """The save's SQL alone for a new registration, every value prepared beforehand: the
    history version, the current row (with its indexes, name index and card-holder trigger),
    heirs, outbox entry, audit entry, one commit. No implementation of these tables can save
    faster than this; it is the floor the save is measured against."""
    reg = clean_registration(reg)
    reg.id, reg.version, reg.device_id, reg.operator = new_id(), 1, registry.device_id, "Bench"
    reg.created_at = reg.updated_at = now = local_now_iso()
    data, heirs, row = canonical_json(record_dict(reg)), heir_rows(reg), worker_row(reg, 0)
    entry = {"seq": 0, "at": now, "device_id": reg.device_id, "operator": "Bench",
             "action": "registration.create", "entity": "registration", "entity_id": reg.id,
             "detail": canonical_json({"version": 1, "nik": mask_nik(reg.nik)})}
    conn = registry.db_for_tests.conn
    started = time.perf_counter()
    conn.execute("BEGIN")
    row[1] = conn.execute(INSERT_VERSION, [reg.id, 1, "Bench", now, data]).lastrowid
    conn.execute(UPSERT_WORKER, row)
    conn.executemany(INSERT_HEIR, heirs)
    conn.execute("INSERT INTO outbox (seq) VALUES (?)", [row[1]])
    seq, prev = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
                             ).fetchone() or (0, GENESIS_HASH)
    insert_audit(registry.db_for_tests, {**entry, "seq": seq + 1}, prev)
    conn.execute("COMMIT")
    return time.perf_counter() - started


def _time_saves(registry: Registry, raw: sqlite3.Connection, n: int
                ) -> tuple[list, list, list, list, dict]:
    """n rounds of: the save's statements alone for one worker, the write step alone for
    another, a timed save of a third and a raw insert of the saved row. The first WARM_UP
    rounds are not timed (caches, statement caches, the first pages of a new write-ahead
    log)."""
    rounds = n + WARM_UP
    taken = {r[0] for r in registry.db_for_tests.execute("SELECT nik FROM workers")}
    workers = list(generate_workers(3 * rounds, seed=99, as_of=AS_OF, taken_niks=taken))
    columns = [r[1] for r in registry.db_for_tests.execute("PRAGMA table_info(workers)")]
    saves, writes, statements, raws = [], [], [], []
    wal = Path(f"{registry.db_for_tests.execute('PRAGMA database_list').fetchone()[2]}-wal")
    # Frames appended per operation. Once SQLite checkpoints by itself and the log starts again
    # from its beginning the file stops growing: those operations are left out of the mean.
    pages: dict[str, list[int]] = {"save": [], "raw": []}
    for i, reg in enumerate(workers[:rounds]):
        statements.append(_statements_only(registry, workers[2 * rounds + i]))
        writes.append(_write_only(registry, workers[rounds + i]))
        before = _wal_frames(wal)
        started = time.perf_counter()
        result = registry.save(reg, operator="Bench", as_of=AS_OF,
                               confirmed_warnings=["duplicate.similar"])
        saves.append(time.perf_counter() - started)
        _count(pages["save"], _wal_frames(wal) - before)
        assert result.saved, result.validation.errors
        stored = result.registration
        row = registry.db_for_tests.execute(
            "SELECT * FROM workers WHERE id = ?", [stored.id]).fetchone()
        row = dict(zip(columns, row, strict=True))
        row["id"], row["seq"] = f"raw-{i}", -(i + 1)  # same row, its own key
        before = _wal_frames(wal)
        raws.append(_raw_insert(raw, list(row.values())))
        _count(pages["raw"], _wal_frames(wal) - before)
    return (saves[WARM_UP:], writes[WARM_UP:], statements[WARM_UP:], raws[WARM_UP:],
            {k: sum(v) / max(len(v), 1) for k, v in pages.items()})


def _count(samples: list[int], grown: int) -> None:
    if grown > 0:
        samples.append(grown)


def _wal_frames(wal: Path) -> int:
    """Frames in the write-ahead log: pages written since the last checkpoint reset it."""
    size = wal.stat().st_size if wal.exists() else 0
    return max(0, size - WAL_HEADER) // (PAGE_SIZE + FRAME_HEADER)


def _time(fn, args_list) -> list[float]:
    out = []
    for args in args_list:
        started = time.perf_counter()
        fn(*args)
        out.append(time.perf_counter() - started)
    return out


def run(quick: bool) -> str:
    size = QUICK_SIZE if quick else FULL_SIZE
    n_saves = 50 if quick else 200
    cached, built = _cached_database(size)
    work_dir = Path(tempfile.mkdtemp(prefix="jamsos-bench-storage-"))
    try:
        path = work_dir / "registry.sqlite3"
        shutil.copy(cached, path)
        started = time.perf_counter()
        registry = Registry.open(path)
        opened = time.perf_counter() - started
        raw = _raw_connection(path)
        saves, writes, statements, raws, pages = _time_saves(registry, raw, n_saves)
        raw.close()
        started = time.perf_counter()
        registry.tidy()  # name-index merge and checkpoint, as the window does when idle
        checkpoint = time.perf_counter() - started

        rng = random.Random(1)
        niks = [r[0] for r in registry.db_for_tests.execute(
            "SELECT nik FROM workers ORDER BY random() LIMIT 200")]
        lookups = _time(registry.exact_nik, [(nik,) for nik in niks])
        names = [(RegistrationFilter(text=rng.choice(SEARCHES)),) for _ in range(200)]
        searches = _time(lambda f: registry.query(f, limit=100), names)
        counts = _time(registry.count, names[:50])
        prefixes = [(RegistrationFilter(text=nik[:10]),) for nik in niks]
        prefix_searches = _time(lambda f: registry.query(f, limit=100), prefixes)
        total = registry.count(RegistrationFilter())
        deep = _time(lambda o: registry.query(RegistrationFilter(), offset=o, limit=100),
                     [(rng.randrange(0, total - 100),) for _ in range(50)])
        started = time.perf_counter()
        chain_ok = registry.audit_chain_ok()
        chain = time.perf_counter() - started
        registry.close()
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)

    save_p95, raw_p95 = percentile(saves, 95), percentile(raws, 95)
    ratio = save_p95 / raw_p95

    def met(ok: bool) -> str:
        return "yes" if ok else "**no**"

    rows = [
        ["save, end to end (p50)", ms(percentile(saves, 50)),
         f"raw insert p50 {ms(percentile(raws, 50))}", "",
         f"({percentile(saves, 50) / percentile(raws, 50):.2f}×)"],
        ["save, end to end (p95)", ms(save_p95), f"raw insert p95 {ms(raw_p95)}",
         "≤ 2× raw", f"{met(ratio <= 2)} ({ratio:.2f}×)"],
        ["write step alone, validation skipped (p50)", ms(percentile(writes, 50)),
         f"raw insert p50 {ms(percentile(raws, 50))}", "",
         f"({percentile(writes, 50) / percentile(raws, 50):.2f}×)"],
        ["write step alone, validation skipped (p95)", ms(percentile(writes, 95)),
         f"raw insert p95 {ms(raw_p95)}", "", f"({percentile(writes, 95) / raw_p95:.2f}×)"],
        ["the save's SQL alone, values prepared beforehand (p50)",
         ms(percentile(statements, 50)), f"raw insert p50 {ms(percentile(raws, 50))}", "",
         f"({percentile(statements, 50) / percentile(raws, 50):.2f}×)"],
        ["the save's SQL alone, values prepared beforehand (p95)",
         ms(percentile(statements, 95)), f"raw insert p95 {ms(raw_p95)}", "",
         f"({percentile(statements, 95) / raw_p95:.2f}×)"],
        ["pages written per save (WAL frames)", f"{pages['save']:.1f}",
         f"raw insert {pages['raw']:.1f}", "", ""],
        [f"idle upkeep after the {n_saves} saves (index merge, checkpoint)", ms(checkpoint), "",
         "", ""],
        ["exact NIK lookup (p95)", ms(percentile(lookups, 95)), "", "≤ 20 ms",
         met(percentile(lookups, 95) <= 0.020)],
        ["name search, first 100 rows (p95)", ms(percentile(searches, 95)), "", "≤ 20 ms",
         met(percentile(searches, 95) <= 0.020)],
        ["name search, count (p95)", ms(percentile(counts, 95)), "", "", ""],
        ["NIK prefix search, first 100 rows (p95)", ms(percentile(prefix_searches, 95)), "",
         "≤ 20 ms", met(percentile(prefix_searches, 95) <= 0.020)],
        ["list page at a random offset (p95)", ms(percentile(deep, 95)), "", "", ""],
        ["open the database", ms(opened), "", "", ""],
        ["audit chain check, whole log", f"{chain:.2f} s", "", "", met(chain_ok)],
        ["peak RSS", f"{peak_rss_mib():.0f} MiB", "", "", ""],
    ]
    if built is not None:
        rows.append(["demo data build (cached afterwards)", f"{built:.1f} s",
                     f"{size / built:,.0f} workers/s", "< 120 s", met(built < 120)])
    note = (f"{total:,} workers in the database; {n_saves} saves (clean, validate with duplicate "
            "checks, current row + heirs + history version + audit entry + outbox entry, one "
            "commit) interleaved with raw inserts of the same row into a copy of the workers "
            f"table, on one connection with the same pragmas; {WARM_UP} untimed pairs first.")
    return table(f"Local registry ({size:,} workers)",
                 ["measure", "result", "baseline (same run)", "goal", "met?"], rows, note)
