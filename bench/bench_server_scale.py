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
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bench.scale_config import (
    DEVICES,
    FULL,
    GOAL_RATIO,
    GOAL_READ_MS,
    NAMES,
    PG_SETTINGS,
    QUICK,
    READ_BUDGET_S,
)
from bench.scale_load import (
    PushResult,
    ReadResult,
    Server,
    enrol,
    pull_everything,
    push_scenario,
    read_scenarios,
    workers_option,
)
from bench.scale_seed import Seeder, log, seed, share_nik_key
from bench.util import table

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
            verifier = enrol(store, server.api, "verifier", 1)[0]
            stored = count + one + DEVICES * per_device
            result.reads = read_scenarios(server, verifier["token"], seeder,
                                          20 if quick else 200, stored)
            log(f"{name}: pull")
            fresh = enrol(store, server.api, "enumerator", 1)[0]
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
