"""The province-scale benchmark's load: the real server process, its CPU use, pushes from
devices, the verifier's reads and a fresh device's pull (bench_server_scale)."""

from __future__ import annotations

import gzip
import json
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench.bench_server import _bodies, push_batches  # as the city-scale push bench
from bench.scale_config import PULL_PAGE, READ_BUDGET_S, ROOT, STATUSES
from bench.scale_seed import Seeder
from bench.util import median, percentile

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


def enrol(store, api: str, role: str, count: int) -> list[dict]:
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
    enrolled = enrol(store, server.api, "enumerator", devices)
    per_device = len(regs) // devices
    work = [_bodies(d, regs[i * per_device:(i + 1) * per_device])
            for i, d in enumerate(enrolled)]
    if devices == 1:
        watch = CpuWatch(cpu_roots, [server.proc.pid]).start()
        started = time.perf_counter()
        timings = [push_batches((server.api, enrolled[0]["token"], work[0], 0.0))]
        total = time.perf_counter() - started
    else:
        with multiprocessing.get_context("spawn").Pool(devices) as pool:
            # Every device starts at the same moment, after the processes are up.
            start_at = time.time() + 2.0
            jobs = [(server.api, d["token"], bodies, start_at)
                    for d, bodies in zip(enrolled, work, strict=True)]
            pending = pool.map_async(push_batches, jobs)
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
