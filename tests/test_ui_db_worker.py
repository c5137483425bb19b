"""The writer thread: jobs run off the main thread, in order, and results come back on it."""

import threading

import pytest
from PySide6.QtCore import QThread

from ui.db_worker import DbWorker


class FakeRegistry:
    def __init__(self):
        self.calls = []
        self.closed = False

    def close(self):
        self.closed = True


@pytest.fixture
def worker(qtbot):
    registry = FakeRegistry()
    w = DbWorker(lambda: registry, lambda: "reader")
    w.start()
    yield w
    w.shutdown()


def test_jobs_run_on_the_writer_thread_and_answer_on_the_main_thread(qtbot, worker):
    main = threading.get_ident()
    seen = {}

    def job(registry, value):
        seen["thread"] = threading.get_ident()
        registry.calls.append(value)
        return value * 2

    def on_result(result):
        seen["result"] = result
        seen["callback_thread"] = threading.get_ident()

    with qtbot.waitSignal(worker.changed, timeout=3000):
        worker.call(job, 21, on_result=on_result, changes=True)
    assert seen["result"] == 42
    assert seen["thread"] != main
    assert seen["callback_thread"] == main
    assert worker.readonly == "reader"


def test_jobs_run_in_the_order_they_were_queued(qtbot, worker):
    results = []
    for i in range(50):
        worker.call(lambda r, i: r.calls.append(i) or i, i, on_result=results.append)
    qtbot.waitUntil(lambda: len(results) == 50, timeout=3000)
    assert results == list(range(50))


def test_an_error_reaches_on_error_or_the_error_signal(qtbot, worker):
    caught = []

    def boom(registry):
        raise ValueError("nope")

    worker.call(boom, on_error=caught.append)
    qtbot.waitUntil(lambda: bool(caught), timeout=3000)
    assert isinstance(caught[0], ValueError)
    with qtbot.waitSignal(worker.error, timeout=3000) as blocker:
        worker.call(boom)
    assert isinstance(blocker.args[0], ValueError)


def test_opening_failure_is_raised_by_start(qtbot):
    def fail():
        raise OSError("disk gone")

    w = DbWorker(fail)
    with pytest.raises(OSError):
        w.start()
    assert not w.running


def test_shutdown_runs_queued_jobs_and_closes_the_writer(qtbot):
    registry = FakeRegistry()
    w = DbWorker(lambda: registry)
    w.start()
    for i in range(20):
        w.call(lambda r, i: r.calls.append(i), i)
    w.shutdown()
    assert registry.calls == list(range(20))
    assert registry.closed
    assert not w._thread.isRunning()
    assert QThread.currentThread() is not w._thread


def test_upkeep_runs_once_writes_have_paused(qtbot, monkeypatch):
    """Registry.tidy runs on the writer thread after a quiet spell, never between writes."""
    monkeypatch.setattr("ui.db_worker.TIDY_AFTER_MS", 100)
    registry = FakeRegistry()
    tidied = []
    registry.tidy = lambda: tidied.append(threading.get_ident())
    w = DbWorker(lambda: registry)
    w.start()
    try:
        for i in range(3):
            with qtbot.waitSignal(w.changed, timeout=3000):
                w.call(lambda r, i: r.calls.append(i), i, changes=True)
            assert tidied == []
        qtbot.waitUntil(lambda: len(tidied) == 1, timeout=3000)
        assert tidied[0] != threading.get_ident()
        qtbot.wait(300)
        assert len(tidied) == 1  # once per pause, not on a loop
    finally:
        w.shutdown()
