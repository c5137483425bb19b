"""The central server under concurrent pushes: 10 devices pushing 1,500 registrations each at the
same time (batches of 200, gzip), against the real server (`python main.py server`) on loopback.

Reported: total wall time, records per second, and the server's own time per batch (its
`Server-Timing` header), p50 and p95. Baseline, measured in the same run on a fresh server: one
device pushing the same number of records alone, batch after batch.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import requests

from bench.util import median, ms, percentile, table
from storage.demo import generate_workers

ROOT = Path(__file__).resolve().parent.parent
BATCH = 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "main.py", "server", "--data-dir", str(data_dir), "--host",
         "127.0.0.1", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    api = f"http://127.0.0.1:{port}/api/v1"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{api}/health", timeout=1).ok:
                return proc, api
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def _enrol(data_dir: Path, api: str, count: int) -> list[dict]:
    from server.auth import create_enrol_code
    from server.store import Store

    store = Store(data_dir)
    codes = [create_enrol_code(store, "enumerator") for _ in range(count)]
    store.close()
    return [requests.post(f"{api}/devices/enrol", json={"code": c, "device_name": f"bench {i}"},
                          timeout=10).json() for i, c in enumerate(codes)]


def _bodies(device: dict, regs: list) -> list[bytes]:
    """The gzip bodies of one device's batches (made before the clock starts)."""
    from storage.ids import new_id

    records = []
    for reg in regs:
        reg.id, reg.version, reg.device_id = new_id(), 1, device["device_id"]
        records.append({"record_id": reg.id, "version": 1, "data": reg.to_dict()})
    return [
        gzip.compress(json.dumps({"batch_id": new_id(), "device_id": device["device_id"],
                                  "records": records[i:i + BATCH]}).encode("utf-8"), 5)
        for i in range(0, len(records), BATCH)
    ]


def push_batches(args) -> list[tuple[float, float]]:
    """One device's pushes, in a process of its own, started together with the others at
    `start_at`; (the server's ms, the client's ms) per batch. Every record must be accepted."""
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
        took = (time.perf_counter() - started) * 1000
        outcomes = {r["outcome"] for r in answer.json()["results"]}
        if outcomes - {"accepted"}:
            raise RuntimeError(f"unexpected outcomes {outcomes}")
        timings.append((float(answer.headers["server-timing"].split("dur=")[1]), took))
    return timings


def _push_all(args) -> list[float]:
    """One device's pushes; the server's ms per batch."""
    return [server for server, _client in push_batches(args)]


def _check_stored(data_dir: Path, expected: int) -> None:
    """Every record once: the benchmark measures a correct server or nothing."""
    from server.store import Store

    store = Store(data_dir)
    try:
        count = store.reader().execute("SELECT COUNT(*) FROM registrations").fetchone()[0]
    finally:
        store.close()
    if count != expected:
        raise RuntimeError(f"server holds {count} registrations, expected {expected}")


def _scenario(devices: int, per_device: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "server"
        proc, api = _start_server(data_dir)
        try:
            enrolled = _enrol(data_dir, api, devices)
            # One generator for all devices: every NIK unique, so every record is accepted.
            regs = list(generate_workers(devices * per_device, seed=seed, as_of=date.today()))
            work = [_bodies(d, regs[i * per_device:(i + 1) * per_device])
                    for i, d in enumerate(enrolled)]
            start_at = time.time() + 0.5
            jobs = [(api, d["token"], bodies, start_at) for d, bodies in zip(enrolled, work,
                                                                           strict=True)]
            with multiprocessing.get_context("spawn").Pool(devices) as pool:
                started = time.perf_counter()
                timings = pool.map(_push_all, jobs)
                # Processes wait for start_at; the clock counts from there.
                total = time.perf_counter() - started - max(0.0, start_at - time.time())
            _check_stored(data_dir, devices * per_device)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    batch_ms = [t for device in timings for t in device]
    return {"total": total, "records": devices * per_device, "batches": len(batch_ms),
            "p50": median(batch_ms) / 1000, "p95": percentile(batch_ms, 95) / 1000}


def run(quick: bool) -> str:
    per_device = 150 if quick else 1500
    devices = 10
    baseline = _scenario(1, devices * per_device, seed=1)
    concurrent = _scenario(devices, per_device, seed=2)
    rows = []
    for name, r in (("1 device alone (baseline)", baseline),
                    (f"{devices} devices at the same time", concurrent)):
        rows.append([name, f"{r['records']:,}", r["batches"], f"{r['total']:.2f} s",
                     f"{r['records'] / r['total']:,.0f}", ms(r["p50"]), ms(r["p95"])])
    ratio = concurrent["total"] / baseline["total"]
    note = (f"Batches of {BATCH} records, gzip, real server process on loopback; server time per "
            f"batch from its Server-Timing header. Concurrent total / baseline total: "
            f"{ratio:.2f}×.")
    return table("Server: concurrent pushes from 10 devices",
                 ["scenario", "records", "batches", "total time", "records/s",
                  "server p50 per batch", "server p95 per batch"], rows, note)
