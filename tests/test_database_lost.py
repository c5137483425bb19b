"""The server's database goes away and comes back (PostgreSQL), or was never there.

A request while the database cannot be reached gets 503 `server.database_unavailable` with
`Retry-After` and leaves one line in the server's log; the device's sync retries and completes
with every record stored exactly once; the server's connections recover by themselves once the
database is back, whether it refused connections for a while or ended them all at once. An
unreachable or misconfigured database URL stops the start with one line and exit code 2.
"""

from __future__ import annotations

import contextlib
import random
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import psycopg
import pytest
import requests
import sqlalchemy
from psycopg import sql
from sync_util import ROOT, enrolled_device, free_port, server_counts
from workers_util import ServerProcesses

from server.store import Store
from storage.demo import fill_demo_data
from sync import state
from sync.client import RetryPolicy, SyncClient, SyncError
from sync.engine import run_sync

# An outage of PostgreSQL's; SQLite has no connection to lose (its locked database is
# `server.busy`, tests/test_server_hostile.py).
SERVER_ENGINES = ("postgresql",)


class Outage:
    """The test database of one server data folder made unreachable and reachable again: new
    connections refused (ALLOW_CONNECTIONS) and every open one ended, as a restart would."""

    def __init__(self, cluster, data_dir):
        self.cluster, self.name = cluster, cluster.database_for(data_dir)

    def end_connections(self, busy_only: bool = False) -> int:
        """End the server's connections (only those in the middle of a request: `busy_only`);
        how many were ended. All of them: once their backends are gone, as after a restart
        (a backend told to end takes a moment to close its socket)."""
        busy = "AND state IN ('active', 'idle in transaction')" if busy_only else ""
        with self.cluster.connect() as admin:
            # In the select list, so that only the rows the WHERE keeps are ended.
            ended = [pid for pid, done in admin.execute(
                "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = %s AND pid <> pg_backend_pid() {busy}", [self.name]) if done]
            deadline = time.monotonic() + 30
            while not busy_only and time.monotonic() < deadline and admin.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)",
                    [ended]).fetchone()[0]:
                time.sleep(0.01)
        return len(ended)

    def _allow(self, allowed: bool) -> None:
        with self.cluster.connect() as admin:
            admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                sql.Identifier(self.name), sql.Literal(allowed)))

    @contextmanager
    def down(self):
        self._allow(False)
        try:
            self.end_connections()
            yield
        finally:
            self._allow(True)


def test_the_stores_connections_recover_after_an_outage_and_after_a_restart(
        tmp_path, pg_cluster):
    store = Store(tmp_path / "server")
    outage = Outage(pg_cluster, tmp_path / "server")
    try:
        with store.write() as db:
            db.execute("INSERT INTO settings (name, value) VALUES ('probe', '1')")
        assert store.reader().execute("SELECT value FROM settings WHERE name = 'probe'"
                                      ).fetchone()[0] == "1"
        with outage.down():
            with pytest.raises(psycopg.OperationalError):
                store.reader().execute("SELECT 1")
            with pytest.raises((psycopg.OperationalError, sqlalchemy.exc.OperationalError)), \
                    store.write():
                pass
        # Back: the same store, no restart of the server.
        assert store.reader().execute("SELECT 1").fetchone()[0] == 1
        with store.write() as db:
            db.execute("UPDATE settings SET value = '2' WHERE name = 'probe'")
        # Every connection ended while the database stays up (a restart, a failover): the
        # next reads and writes do not fail first.
        assert outage.end_connections() >= 2
        assert store.reader().execute("SELECT value FROM settings WHERE name = 'probe'"
                                      ).fetchone()[0] == "2"
        with store.write() as db:
            db.execute("UPDATE settings SET value = '3' WHERE name = 'probe'")
    finally:
        store.close()


RECORDS = 240


def _client(registry, url: str) -> SyncClient:
    # Quick retries, at most 2 s apart even when the server asks for 5 (Retry-After): eight
    # attempts span the outages below.
    return SyncClient(url, state.token(registry), timeout=(2.0, 30.0),
                      retry=RetryPolicy(attempts=8, base=0.05, cap=1.0, rng=random.Random(3)))


def _versions(server_dir) -> int:
    store = Store(server_dir)
    try:
        return store.reader().execute("SELECT count(*) FROM versions").fetchone()[0]
    finally:
        store.close()


@pytest.fixture
def two_workers(tmp_path, pg_cluster):
    folder = tmp_path / "srv"
    folder.mkdir()
    Store(folder / "server").close()  # the database, made before the server starts
    server = ServerProcesses(folder / "server", 2, folder).start()
    yield server
    server.stop()


def test_an_outage_gives_503_and_the_devices_sync_completes_with_every_record_once(
        tmp_path, pg_cluster, two_workers):
    server = two_workers
    outage = Outage(pg_cluster, server.data_dir)
    device = enrolled_device(tmp_path / "device.sqlite3", server.url, server.data_dir)
    fill_demo_data(device, RECORDS // 2, seed=31)
    state.save_setting(device, "sync_batch_size", 20)
    token = state.token(device)
    with outage.down():
        answer = requests.get(f"{server.api}/devices/me", timeout=30,
                              headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 503
        assert answer.headers["Retry-After"].isdigit()
        assert answer.json()["error"]["code"] == "server.database_unavailable"
        # The device's sync starts during the outage and retries until it is over.
        report = {}

        def sync():
            try:
                report["run"] = run_sync(device, _client(device, server.url))
            except Exception as exc:  # noqa: BLE001 - said by the assertion below
                report["error"] = exc

        syncing = threading.Thread(target=sync)
        syncing.start()
        time.sleep(3)
    syncing.join(120)
    assert "run" in report, report
    assert report["run"].remaining == 0
    assert device.outbox_count() == 0
    assert server_counts(server.data_dir) == (RECORDS // 2, RECORDS // 2)

    # Requests cut in the middle while the next half is pushed: the connection of a request
    # in progress is ended (perhaps just after its commit); it is answered 503 and sent again.
    fill_demo_data(device, RECORDS // 2, seed=32)
    state.save_setting(device, "sync_batch_size", 10)
    stop, cuts = threading.Event(), []

    def cut_requests():
        while not stop.is_set() and len(cuts) < 6:
            ended = outage.end_connections(busy_only=True)
            if ended:
                cuts.append(ended)
            stop.wait(0.4 if ended else 0.002)

    cutter = threading.Thread(target=cut_requests)
    cutter.start()
    try:
        for _ in range(5):  # a run may still give up after eight failed attempts in a row
            with contextlib.suppress(SyncError):
                if run_sync(device, _client(device, server.url)).remaining == 0:
                    break
    finally:
        stop.set()
        cutter.join()
    assert cuts  # requests were cut
    assert device.outbox_count() == 0, server.log()[-3000:]
    assert server_counts(server.data_dir) == (RECORDS, RECORDS)
    assert _versions(server.data_dir) == RECORDS  # no record stored twice, in any form
    outcomes = {r[0] for r in device.db_for_tests.execute(
        "SELECT DISTINCT outcome FROM sync_answers")}
    assert outcomes == {"accepted"}

    # One line per 503, no traceback. (psycopg may add its own warning when a connection dies
    # in the middle of a pipelined executemany: "error ignored terminating <psycopg.Pipeline…".)
    log = server.log()
    assert "Traceback" not in log
    answered = [line for line in log.splitlines() if "(503)" in line]
    assert answered and all(line.startswith("database unavailable on ") for line in answered)
    assert len(answered) == log.count("database unavailable")


# ---- a database that was never there ------------------------------------------------------


def _start(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "main.py", "server", "--data-dir", str(tmp_path / "server"),
         "--port", str(free_port()), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("url", [
    "postgresql://postgres@/jamsos?host={folder}",  # a socket folder with no server in it
    "postgresql://postgres@127.0.0.1:{port}/jamsos",  # nothing listens there
    "postgres://postgres@/jamsos?host={folder}",  # the scheme's old name
    "mysql://root@/jamsos",
    "postgresql://postgres:rahasia@/jamsos?host={folder}&port=lima",  # a port in words
    "postgresql://postgres@/jamsos?host={folder}&sslmod=require",  # an option misspelt
])
def test_an_unusable_database_url_is_one_line_and_exit_2(tmp_path, url):
    folder = tmp_path / "no-server"
    folder.mkdir()
    done = _start(tmp_path, "--database", url.format(folder=folder, port=free_port()))
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("Gagal: ") and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr and "rahasia" not in done.stderr
    assert "berjalan" not in done.stdout  # it never claimed to run


def test_several_workers_on_sqlite_are_refused_in_one_line(tmp_path):
    done = _start(tmp_path, "--workers", "3")
    assert done.returncode == 2
    assert done.stderr.startswith("Gagal: --workers 3 memerlukan PostgreSQL")
    assert done.stderr.count("\n") == 1
