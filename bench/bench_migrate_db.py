"""Moving a city's server to PostgreSQL: `main.py server migrate-db` on a 228,000-registration
SQLite server (issue 13).

The source is written straight into a SQLite server database: the registrations, their first
versions, feed entries and pushes as bench_server_scale seeds them, and then what a city's year
adds around them: a second version for one registration in ten, the verifier's events, cards for
the funded with a reprint (a revocation) for some, kegiatan, push batches with their answers,
pulls, the office audit. The target is a new database in a PostgreSQL cluster made durable like
a production server (fsync, synchronous_commit, full_page_writes on).

Measured: the real command (`python main.py server migrate-db`, a child process), its wall
time and its peak resident memory (VmHWM, read by the child as it exits). Baseline in the same
run: the same command moving an empty server (start-up, imports, the target's schema). Then the
same command run again on the finished copy: it checks and verifies everything and copies
nothing.

`python -m bench bench_migrate_db` (or `--quick`: 2,000 registrations).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.util import table

ROOT = Path(__file__).resolve().parent.parent
FULL, QUICK = 228_000, 2_000
PG_DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


# --- the source ------------------------------------------------------------------------------


def fill(store, count: int) -> None:
    """A city's server after a programme year and a half, written straight into `store`."""
    from bench.bench_server_scale import seed

    seed({"source": store}, count)
    with store.write() as db:
        for sql in _AROUND:
            db.execute(sql)


# The highest pull sequence number so far, over the tables that hold one (evaluated once per
# statement).
_TOP = ("(SELECT MAX(s) FROM (SELECT MAX(seq) AS s FROM feed UNION ALL SELECT MAX(seq) FROM events "
        "UNION ALL SELECT MAX(seq) FROM cards UNION ALL SELECT MAX(seq) FROM revocations))")
# Everything around the seeded registrations, made by SQLite from them (quick to write, and the
# sizes follow `count`). Sequence numbers continue after the feed's, as the server's would.
_AROUND = [
    # One registration in ten corrected once by its device (version 2).
    "INSERT INTO versions SELECT record_id, 2, substr(content_hash, 2) || 'b', 1, device_id, "
    "'accepted', NULL, replace(data, '\"notes\":\"\"', '\"notes\":\"alamat dibetulkan\"'), "
    "batch_id || '-2', received_at FROM versions WHERE version = 1 AND rowid % 10 = 0",
    # The verifier's decisions and the funding, each an event with its pull sequence number.
    f"INSERT INTO events (seq, record_id, event, at, device_id, operator, \"by\", reason_code, "
    f"reason, operator_username) SELECT {_TOP} + rowid, id, CASE status WHEN 'rejected' THEN "
    "'rejected' ELSE 'verified' END, updated_at, 'verifier-desk-1', 'Verifikator Uji', "
    "'verifier', reason_code, status_reason, 'verifikator.uji' FROM registrations "
    "WHERE status != 'received'",
    f"INSERT INTO events (seq, record_id, event, at, device_id, operator, \"by\", "
    f"operator_username) SELECT {_TOP} + rowid, id, 'funded', updated_at, 'verifier-desk-1', "
    "'Verifikator Uji', 'verifier', 'verifikator.uji' FROM registrations "
    "WHERE member_number != ''",
    # A card for every funded member (the QR text as long as a real one), a reprint for 1 in 50.
    f"INSERT INTO cards (serial, card_version, record_id, member_number, name, cohort, "
    f"valid_from, valid_until, key_id, qr, issued_at, printed_at, handed_over_at, received_by, "
    f"seq) SELECT rowid, 1, id, member_number, full_name, cohort, programme_start, "
    f"programme_end, 'k2026a', 'JMB1:' || hex(randomblob(170)), updated_at, "
    f"CASE WHEN status IN ('card_printed', 'card_handed_over') THEN updated_at END, "
    f"CASE WHEN status = 'card_handed_over' THEN updated_at END, "
    f"CASE WHEN status = 'card_handed_over' THEN 'Yang bersangkutan' ELSE '' END, "
    f"{_TOP} + rowid FROM registrations WHERE member_number != ''",
    f"INSERT INTO revocations (seq, record_id, serial, card_version, at, reason) "
    f"SELECT {_TOP} + rowid, record_id, serial, 1, issued_at, 'lost' FROM cards "
    "WHERE serial % 50 = 0",
    "UPDATE cards SET revoked_at = issued_at WHERE serial % 50 = 0",
    f"INSERT INTO cards SELECT serial, 2, record_id, member_number, name, cohort, valid_from, "
    f"valid_until, key_id, qr, issued_at, NULL, NULL, '', NULL, {_TOP} + serial "
    "FROM cards WHERE serial % 50 = 0 AND card_version = 1",
    "INSERT INTO feed (seq, kind, record_id) SELECT seq, 'event', record_id FROM events",
    "INSERT INTO feed (seq, kind, record_id) SELECT seq, 'card', record_id FROM cards",
    "INSERT INTO feed (seq, kind, record_id) SELECT seq, 'revocation', record_id "
    "FROM revocations",
    # Kegiatan the registrations were made at.
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) "
    "INSERT INTO kegiatan SELECT printf('0193a1b2-0000-7000-8000-%012d', i), "
    "'Kampung Bahagia ' || i, '2026-' || printf('%02d', 1 + i % 11) || '-15', "
    "'15.71.03.1001', 'seed-device-000', '2026-01-02', '2026-01-02' FROM n",
    # Each push batch with the answer the device was given (one result per record).
    "INSERT INTO batches SELECT device_id, batch_id, hex(randomblob(32)), "
    "'{\"results\":[' || group_concat('{\"record_id\":\"' || record_id || "
    "'\",\"outcome\":\"accepted\",\"version\":1}') || ']}', MIN(received_at) "
    "FROM versions WHERE version = 1 GROUP BY device_id, batch_id",
    # Pulls: every device about fifty times.
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) "
    "INSERT INTO pulls SELECT id, i * 100, i * 100 + 99, 0, '2026-06-01T08:00:00+00:00' "
    "FROM devices, n",
    # The programme office: exports and KPJ imports, with their audit.
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) "
    "INSERT INTO office_audit (at, action, device_id, operator_username, operator, detail) "
    "SELECT '2026-06-01T08:00:00+00:00', CASE i % 2 WHEN 0 THEN 'bpjs_export' ELSE "
    "'kpj_import' END, 'verifier-desk-1', 'verifikator.uji', 'Verifikator Uji', "
    "'{\"rows\":' || i * 100 || '}' FROM n",
]


def _rows(store) -> int:
    db = store.reader()
    names = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT IN ('alembic_version', '_sqlite_migrations')")]
    return sum(db.execute(f"SELECT COUNT(*) FROM {n}").fetchone()[0] for n in names)


# --- the target and the command --------------------------------------------------------------


def _start_cluster():
    """A cluster in a temporary folder (tests/pg_cluster.py), durable like a production
    server."""
    from tests.pg_cluster import Cluster

    return Cluster().start(settings=PG_DURABLE)


def _new_database(cluster, name: str) -> str:
    with cluster.connect() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return cluster.url(name)


# The command as `main.py` runs it, reporting at exit the peak resident memory of its own
# program (VmHWM). Not the rusage of the child: Linux carries the parent's resident size at the
# fork into the child's ru_maxrss, and this parent holds the seeding's memory.
_MEASURED = (
    "import atexit, runpy, sys\n"
    "def peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            print('peak-rss-kib', line.split()[1], file=sys.stderr)\n"
    "atexit.register(peak)\n"
    "sys.argv = ['main.py', *sys.argv[1:]]\n"
    "runpy.run_path('main.py', run_name='__main__')\n"
)


def migrate(data_dir: Path, target: str) -> dict:
    """`main.py server migrate-db` as a child process: wall time, peak RSS, its output."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _MEASURED, "server", "migrate-db",
                           "--data-dir", str(data_dir), "--to", target], cwd=ROOT,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"migrate-db failed ({done.returncode}): {done.stderr.strip()}")
    peak = re.search(r"peak-rss-kib (\d+)", done.stderr)
    summary = re.search(r"Selesai dan diperiksa: ([\d,]+) baris .*\(salin ([\d.]+), periksa "
                        r"([\d.]+)\)", done.stdout)
    if summary is None:
        raise RuntimeError(f"migrate-db said no summary: {done.stdout[-500:]}")
    return {"seconds": seconds, "rss_mib": int(peak.group(1)) / 1024, "out": done.stdout,
            "rows": int(summary.group(1).replace(",", "")), "copy": float(summary.group(2)),
            "verify": float(summary.group(3))}


# --- the benchmark ---------------------------------------------------------------------------


def _line(name: str, measured: dict, rows: int) -> list[str]:
    rate = f"{rows / measured['seconds']:,.0f}" if rows else "–"
    return [name, f"{rows:,}", f"{measured['seconds']:.1f} s", f"{measured['copy']:.1f} s",
            f"{measured['verify']:.1f} s", rate, f"{measured['rss_mib']:.0f} MiB"]


def run(quick: bool = False) -> str:
    from server.store import Store

    count = QUICK if quick else FULL
    folder = Path(tempfile.mkdtemp(prefix="bench-migrate-"))
    cluster = _start_cluster()
    try:
        empty_dir, city_dir = folder / "empty", folder / "city"
        Store(empty_dir).close()
        store = Store(city_dir)
        started = time.perf_counter()
        fill(store, count)
        seeded, total = time.perf_counter() - started, _rows(store)
        size = (city_dir / "server.db").stat().st_size / 2**20
        store.close()
        print(f"  seeded {count:,} registrations, {total:,} rows, {size:.0f} MiB in "
              f"{seeded:.0f} s", file=sys.stderr, flush=True)
        baseline = migrate(empty_dir, _new_database(cluster, "empty_copy"))
        target = _new_database(cluster, "city_copy")
        full = migrate(city_dir, target)
        again = migrate(city_dir, target)
        if full["rows"] != total or again["rows"] != total:
            raise AssertionError(f"rows verified {full['rows']:,} / {again['rows']:,}, "
                                 f"source {total:,}")
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
    rows = [
        _line("an empty server (baseline: start-up, target schema)", baseline, 0),
        _line(f"{count:,} registrations into a new PostgreSQL database", full, total),
        _line("the same again on the finished copy (checked, nothing copied)", again, total),
    ]
    note = (f"`main.py server migrate-db` as a child process; peak memory is its maximum "
            f"resident set (VmHWM). Source: a {size:.0f} MiB SQLite server.db with {count:,} "
            "registrations, a second version for 1 in 10, events, cards and reprints, kegiatan, "
            "push batches, pulls, office audit. Target: a new database on a local PostgreSQL "
            "with fsync on. Time is the command's wall time, start-up included; the split is "
            "its own (check of the target and copy, then verification: row counts and a "
            "SHA-256 of every row of every table on both sides). Memory above the baseline is "
            "what the copy itself holds: chunks of 5,000 rows.")
    return table("Moving a city's server to PostgreSQL (migrate-db)",
                 ["run", "rows", "time", "of which check and copy", "of which verification",
                  "rows/s", "peak memory"], rows, note)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
