"""The programme office: the collective registration file for BPJS and a person's erasure.

Members are written straight into the server's database (the push is measured elsewhere), all
funded. Measured: a full export of every member, a delta export after 1% died, and how long the
write lock is held (the members read again in the write transaction: pushes wait that long);
baseline: reading the same rows alone. On a device: one erasure applied from a pull page (with
the name index merged), against saving one registration.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.util import table

FULL, QUICK = 15_000, 500
DEVICE_FULL, DEVICE_QUICK = 50_000, 1_000
OPERATOR = {"username": "ukur", "display_name": "Pengukur"}


def _fill_server(store, count: int) -> None:
    from server import registrations as regs
    from storage.demo import generate_workers
    from storage.ids import new_id
    from storage.vocabulary import utc_now_iso

    now = utc_now_iso(precise=True)
    with store.write() as db:
        for reg in generate_workers(count, seed=11, as_of=date(2026, 11, 1)):
            reg.id, reg.version, reg.device_id = new_id(), 1, "bench-device"
            data = reg.to_dict()
            for name in ("status", "status_reason", "member_number"):
                data.pop(name, None)
            text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            regs.insert_new(db, store, reg, text, "bench-device", now, nik_taken=False)
        db.execute("UPDATE registrations SET status = 'funded', programme_year = 2026, "
                   "programme_start = '2026-11-01', "
                   "member_number = 'JMB-2026-PR-' || printf('%06d', arrival)")


def _server_rows(count: int) -> list[list[str]]:
    from server import bpjs_export, office
    from server.store import Store

    folder = Path(tempfile.mkdtemp(prefix="bench-office-"))
    try:
        store = Store(folder)
        _fill_server(store, count)
        started = time.perf_counter()
        store.reader().execute(bpjs_export._SELECT).fetchall()
        baseline = time.perf_counter() - started
        started = time.perf_counter()
        body, info = bpjs_export.export(store, "full", None, OPERATOR)
        full = time.perf_counter() - started
        cfg = office.office_config()
        started = time.perf_counter()
        with store.write() as db:
            bpjs_export._rows(db, "full", cfg)
        locked = time.perf_counter() - started
        with store.write() as db:
            db.execute("UPDATE registrations SET status = 'died' WHERE arrival % 100 = 0")
        started = time.perf_counter()
        _, delta_info = bpjs_export.export(store, "delta", None, OPERATOR)
        delta = time.perf_counter() - started
        store.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return [
        ["baseline: read the members' rows", f"{count:,}", f"{baseline:.2f} s", ""],
        ["full export (XLSX, audited)", f"{info['rows']:,}", f"{full:.2f} s",
         f"{len(body) / 1024:,.0f} KiB"],
        ["write lock held by an export", f"{count:,}", f"{locked:.2f} s", ""],
        ["delta export after 1% died", f"{delta_info['rows']:,}", f"{delta:.2f} s", ""],
    ]


def _device_rows(count: int) -> list[list[str]]:
    from storage import programme
    from storage.demo import fill_demo_data, generate_workers
    from storage.registry import Registry

    folder = Path(tempfile.mkdtemp(prefix="bench-erase-"))
    try:
        registry = Registry.open(folder / "device.sqlite3")
        fill_demo_data(registry, count, seed=12)
        target = registry.db_for_tests.execute("SELECT id FROM workers LIMIT 1").fetchone()[0]
        (extra,) = generate_workers(1, seed=13, as_of=date(2026, 11, 1))
        warnings = [w.code for w in registry.validate(extra).warnings]  # as the operator would
        started = time.perf_counter()
        result = registry.save(extra, operator="Pengukur", confirmed_warnings=warnings)
        saved = time.perf_counter() - started
        started = time.perf_counter()
        with registry.db_for_tests.atomic():
            programme.apply_items(registry, [{"kind": "erasure", "id": target,
                                              "at": "2031-12-01"}], "2031-12-01")
        erased = time.perf_counter() - started
        registry.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    label = "baseline: save one registration" + ("" if result.saved else " (refused)")
    return [[label, f"{count:,}", f"{saved * 1000:.1f} ms", ""],
            ["apply one erasure from pull", f"{count:,}", f"{erased * 1000:.1f} ms", ""]]


def run(quick: bool) -> str:
    rows = _server_rows(QUICK if quick else FULL)
    rows += _device_rows(DEVICE_QUICK if quick else DEVICE_FULL)
    return table(
        "Programme office: BPJS file and erasure", ["what", "members", "time", "size"], rows,
        "Server: every member funded, written straight into the database. The export writes "
        "its file from a read snapshot; only the re-read in the write transaction holds the "
        "lock. Device: an erasure blanks the person in every table and merges the name index.",
    )
