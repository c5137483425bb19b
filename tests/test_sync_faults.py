"""Faults between device and server: dropped connections, delays, 500s, answers cut short, and a
server killed in the middle of a batch. Afterwards the server holds every record exactly once and
the outbox is empty (issue 3, DESIGN.md §5)."""

from __future__ import annotations

import random
import threading
import time

from fault_proxy import FAULTS, FaultProxy
from sync_util import ServerProcess, enrolled_device, server_counts, server_in_thread

from storage.demo import fill_demo_data
from sync import state
from sync.client import RetryPolicy, SyncClient, SyncError
from sync.engine import run_sync

RECORDS = 300


def _client(registry, url: str, attempts: int = 3, base: float = 0.01) -> SyncClient:
    return SyncClient(url, state.token(registry), timeout=(2.0, 10.0),
                      retry=RetryPolicy(attempts=attempts, base=base, cap=1.0,
                                        rng=random.Random(1)))


def _versions_on_server(server_dir) -> int:
    from server.store import Store

    store = Store(server_dir)
    try:
        return store.reader().execute("SELECT count(*) FROM versions").fetchone()[0]
    finally:
        store.close()


def _assert_exactly_once(device, server_dir) -> None:
    assert device.outbox_count() == 0
    assert server_counts(server_dir) == (RECORDS, RECORDS)
    assert _versions_on_server(server_dir) == RECORDS  # no record stored twice, in any form
    outcomes = {r[0] for r in device.db_for_tests.execute(
        "SELECT DISTINCT outcome FROM sync_answers")}
    assert outcomes == {"accepted"}
    statuses = {r[0] for r in device.db_for_tests.execute("SELECT DISTINCT status FROM workers")}
    assert statuses == {"received"}


def test_random_faults_then_clean_link_every_record_exactly_once(tmp_path):
    server_dir = tmp_path / "server"
    with server_in_thread(server_dir) as url, FaultProxy(
        int(url.rsplit(":", 1)[1]), rate=0.4, seed=4, max_delay=0.2
    ) as proxy:
        device = enrolled_device(tmp_path / "device.sqlite3", url, server_dir)
        fill_demo_data(device, RECORDS, seed=21)
        state.save_setting(device, "sync_batch_size", 10)
        client = _client(device, proxy.url)
        failed_runs = 0
        for _ in range(40):
            try:
                report = run_sync(device, client)
            except SyncError:
                failed_runs += 1  # the link gave up for now; the next run picks up from there
                continue
            if report.remaining == 0:
                break
        proxy.rate = 0.0  # the faults stop
        run_sync(device, client)
        client.close()
        assert all(proxy.stats.faults[f] > 0 for f in FAULTS), proxy.stats
        _assert_exactly_once(device, server_dir)


def test_server_killed_mid_batch_and_restarted(tmp_path):
    server_dir = tmp_path / "server"
    server = ServerProcess(server_dir)
    server.start()
    try:
        device = enrolled_device(tmp_path / "device.sqlite3", server.url, server_dir)
        fill_demo_data(device, RECORDS, seed=22)
        state.save_setting(device, "sync_batch_size", 50)
        killed = threading.Event()

        def kill_and_restart():
            time.sleep(random.Random(5).uniform(0.0, 0.05))  # while the next batch is on its way
            server.kill()
            killed.set()
            time.sleep(0.5)
            server.start()

        def progress(done, total, phase):
            if phase == "push" and done >= 100 and not killed.is_set() and not starter.is_alive():
                starter.start()

        starter = threading.Thread(target=kill_and_restart)
        client = _client(device, server.url, attempts=8, base=0.2)
        try:
            run_sync(device, client, progress=progress)
        except SyncError:
            pass  # the server was down longer than the retries lasted: fine, sync again
        starter.join(30)
        assert killed.is_set()
        report = run_sync(device, client)
        client.close()
        assert report.remaining == 0
        _assert_exactly_once(device, server_dir)
    finally:
        server.kill()


def test_a_failed_push_keeps_attempts_and_reason_in_the_outbox(tmp_path):
    import pytest
    from sync_util import free_port

    from sync.client import Offline

    server_dir = tmp_path / "server"
    with server_in_thread(server_dir) as url:
        device = enrolled_device(tmp_path / "device.sqlite3", url, server_dir)
        fill_demo_data(device, 5, seed=23)
        # Nothing listens on this port: every batch fails as unreachable.
        dead = _client(device, f"http://127.0.0.1:{free_port()}", attempts=1)
        with pytest.raises(Offline):
            run_sync(device, dead)
        dead.close()
        waiting = device.outbox_pending(10)
        assert len(waiting) == 5
        # Two unreachable batches in a row end the run; each try is counted once per entry.
        assert {e.attempts for e in waiting} == {2}
        assert {e.last_error for e in waiting} == {Offline.message}
        client = _client(device, url)
        report = run_sync(device, client)  # the link is back: the same entries go up
        client.close()
        assert report.remaining == 0 and report.accepted == 5
