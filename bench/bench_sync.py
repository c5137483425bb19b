"""Sync benchmarks (issue 3): one device pushes the city's 15,000 recorded workers to a server on
loopback, cleanly and through a proxy that makes 10% of requests fail; and a fresh device pulls
the keyed NIK hashes of 228,000 registrations.

The server runs as its own process (`python main.py server`), as it would in the city. Baselines
measured in the same run: encoding and compressing the same outbox without any network (what the
push costs before HTTP and the server), the clean push for the faulty one, and the raw JSON size
for the bytes on the wire.
"""

from __future__ import annotations

import gzip
import json
import random
import secrets
import sys
import tempfile
import time
from pathlib import Path

from bench.util import table

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tests") not in sys.path:  # the test-only fault proxy and server helpers
    sys.path.insert(0, str(ROOT / "tests"))


def _device(folder: Path, url: str, server_dir: Path, count: int, seed: int):
    from sync_util import enrolled_device

    from storage.demo import fill_demo_data

    registry = enrolled_device(folder / f"device{seed}.sqlite3", url, server_dir)
    if count:
        fill_demo_data(registry, count, seed=seed)
    return registry


def _client(registry, url: str):
    from sync import state
    from sync.client import RetryPolicy, SyncClient

    return SyncClient(url, state.token(registry),
                      retry=RetryPolicy(attempts=6, base=0.05, cap=1.0, rng=random.Random(3)))


def _offline_baseline(registry) -> tuple[float, int, int]:
    """Read the outbox in batches, build the request bodies and gzip them: no network."""
    from sync.engine import _record

    started = time.perf_counter()
    raw = packed = 0
    entries = registry.outbox_pending(10**9)
    for start in range(0, len(entries), 200):
        body = {"batch_id": "x", "device_id": "d",
                "records": [_record(e, "d") for e in entries[start:start + 200]]}
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        raw += len(data)
        packed += len(gzip.compress(data, compresslevel=6, mtime=0))
    return time.perf_counter() - started, raw, packed


def _timed_sync(registry, client):
    from sync.engine import run_sync

    started = time.perf_counter()
    report = run_sync(registry, client)
    return time.perf_counter() - started, report


def _count_push_wait(client) -> dict:
    """Time spent inside push requests (the server's work plus the wire), summed."""
    waited = {"push": 0.0}
    push = client.push

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return push(*args, **kwargs)
        finally:
            waited["push"] += time.perf_counter() - started

    client.push = timed
    return waited


def _server_totals(server_dir: Path) -> tuple[int, int, int]:
    from server.store import Store

    store = Store(server_dir)
    try:
        db = store.reader()
        return (db.execute("SELECT count(*) FROM registrations").fetchone()[0],
                db.execute("SELECT count(DISTINCT id) FROM registrations").fetchone()[0],
                db.execute("SELECT count(*) FROM versions").fetchone()[0])
    finally:
        store.close()


def _push_section(quick: bool, folder: Path) -> str:
    from fault_proxy import FaultProxy
    from sync_util import ServerProcess

    count = 1500 if quick else 15000
    rows = []
    clean_time = 0.0
    for label, rate in (("bersih (clean)", 0.0), ("proxy, 10% gagal (faults)", 0.10)):
        server_dir = folder / f"server-{rate}"
        server = ServerProcess(server_dir)
        server.start()
        try:
            with FaultProxy(server.port, rate=rate, seed=7, max_delay=0.2) as proxy:
                device = _device(folder, server.url, server_dir, count, seed=int(rate * 100) + 1)
                if rate == 0.0:
                    base_time, raw, packed = _offline_baseline(device)
                    rows.append(["baseline: outbox → gzip JSON, no network", f"{count:,}",
                                 f"{base_time:.2f} s", f"{raw / count:.0f} (raw JSON)",
                                 f"{packed / count:.0f} (gzip)", "", "", ""])
                client = _client(device, proxy.url if rate else server.url)
                waited = _count_push_wait(client)
                elapsed, report = _timed_sync(device, client)
                while report.remaining:  # a run may give up on a bad stretch; sync again
                    more, report = _timed_sync(device, client)
                    elapsed += more
                stats = client.stats
                client.close()
                total, distinct, versions = _server_totals(server_dir)
                # Nothing lost or doubled, or the figure means nothing.
                assert (total, distinct, versions) == (count, count, count), (total, versions)
                assert device.outbox_count() == 0
                device.close()
        finally:
            server.kill()
        if rate == 0.0:
            clean_time = elapsed
        faults = sum(proxy.stats.faults.values())
        rows.append([
            f"push, {label}", f"{count:,}", f"{elapsed:.2f} s",
            f"{stats.sent / count:.0f} sent", f"{(stats.sent + stats.received) / count:.0f}",
            f"{elapsed / clean_time:.2f}×" if clean_time else "",
            f"{waited['push']:.2f} s",
            f"{faults} of {proxy.stats.requests} requests",
        ])
    return table(
        f"Sync push: {count:,} registrations from one device to a server on loopback",
        ["run", "records", "time", "bytes/record", "bytes/record (sent + received)",
         "vs clean", "of which in push requests", "faults injected"],
        rows,
        "Goals: ≤ 15 s end to end for 15,000; ≤ 300 bytes on the wire per record (request bodies "
        "after gzip + response bodies); with 10% failures ≤ 2× the clean time. Every run asserts "
        "that the server holds each record exactly once and the outbox is empty. Time includes the "
        "pull that brings the records' new status back. \"In push requests\" is the time from "
        "sending a batch to having its answer: mostly the server checking and storing records.",
    )


def _seed_server(server_dir: Path, count: int) -> None:
    """Registrations straight into the server's store (bench fixture; pushing 228,000 through
    the API would measure push again). Each gets its feed sequence like a pushed one."""
    from server.store import Store, nik_hash

    store = Store(server_dir)
    now = "2026-01-01T00:00:00+00:00"
    try:
        with store.write() as db:
            first = db.execute("SELECT coalesce(max(seq), 0) FROM feed").fetchone()[0] + 1
            db.executemany(
                "INSERT INTO feed (seq, kind, record_id) VALUES (?, 'registration', ?)",
                [(first + i, f"bench-{i:06d}") for i in range(count)],
            )
            rows = []
            for i in range(count):
                nik = f"1571{i:012d}"
                rows.append((
                    f"bench-{i:06d}", first + i, nik, nik_hash(store.nik_hash_key, nik),
                    "Contoh", "15.71.01", "15.71.01.1001", "lainnya", "pekerja_rentan",
                    "{}", 1, 1, "received", "bench-device", now, now, first + i,
                ))
            db.executemany(
                "INSERT INTO registrations (id, arrival, nik, nik_hash, full_name, "
                "kecamatan_code, kelurahan_code, occupation_code, cohort, data, version, "
                "revision, status, device_id, received_at, updated_at, seq) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            Store.after_bulk_load(db)
    finally:
        store.close()


def _pull_section(quick: bool, folder: Path) -> str:
    from sync_util import ServerProcess

    count = 22800 if quick else 228000
    server_dir = folder / "server-pull"
    server = ServerProcess(server_dir)
    server.start()
    try:
        _seed_server(server_dir, count)
        device = _device(folder, server.url, server_dir, 0, seed=99)
        client = _client(device, server.url)
        started = time.perf_counter()
        raw = device.db_for_tests.execute("SELECT count(*) FROM known_registrations").fetchone()[0]
        elapsed, report = _timed_sync(device, client)
        known = device.db_for_tests.execute(
            "SELECT count(*) FROM known_registrations").fetchone()[0] - raw
        stats = client.stats
        client.close()
        # Baseline: applying the same number of hashes locally, no network.
        from storage.registry import KnownRegistration

        scratch = _device(folder, server.url, server_dir, 0, seed=98)
        items = [KnownRegistration(id=f"x{i}", nik_hash=secrets.token_hex(16), status="received")
                 for i in range(count)]
        started = time.perf_counter()
        scratch.remember_known(items)
        local = time.perf_counter() - started
        assert known == count and report.pulled == count, (known, report.pulled)
        device.close()
        scratch.close()
    finally:
        server.kill()
    return table(
        f"Sync pull: {count:,} keyed NIK hashes to a fresh device",
        ["run", "items", "time", "bytes received", "bytes/item", "requests"],
        [
            ["baseline: store the same number of hashes locally, no network", f"{count:,}",
             f"{local:.2f} s", "", "", ""],
            ["pull from the server on loopback", f"{count:,}", f"{elapsed:.2f} s",
             f"{stats.received / 1e6:.1f} MB", f"{stats.received / count:.0f}",
             str(stats.requests)],
        ],
        "Pages of 5,000 items, gzip; each page and its cursor saved in one transaction.",
    )


def run(quick: bool) -> str:
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        folder = Path(tmp)
        return _push_section(quick, folder) + "\n\n" + _pull_section(quick, folder)
