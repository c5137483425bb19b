"""Nothing slow on the database writer but database work: the sync tab's enrolment asks the
server on the tab's pool, and the demo's data (three syncs) runs on a connection of its own,
while the writer stays free for saves."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMainWindow
from sync_util import enrol_code

import ops.demo
import ops.enrolment
from ui.db_worker import DbWorker
from ui.demo_mode import DemoMode
from ui.sync_panel import SyncPanel


@pytest.fixture
def worker(tmp_path):
    w = DbWorker.for_path(tmp_path / "device.sqlite3")
    w.start()
    yield w
    w.shutdown()


def _writer_thread(qtbot, worker) -> int:
    seen = []
    worker.call(lambda registry: threading.get_ident(), on_result=seen.append)
    qtbot.waitUntil(lambda: bool(seen), timeout=3000)
    return seen[0]


def test_the_sync_tab_asks_for_its_enrolment_off_the_writer(qtbot, worker, server, monkeypatch):
    url, server_dir = server
    asked_on = []
    real_ask = ops.enrolment.ask

    def ask(request, **kwargs):
        asked_on.append(threading.get_ident())
        return real_ask(request, **kwargs)

    monkeypatch.setattr(ops.enrolment, "ask", ask)
    panel = SyncPanel(worker)
    qtbot.addWidget(panel)
    panel.server_edit.setText(url)
    panel.code_edit.setText(enrol_code(server_dir))
    panel.enrol_button.click()
    qtbot.waitUntil(lambda: bool(panel._info.get("enrolled")), timeout=10_000)
    writer = _writer_thread(qtbot, worker)
    assert len(asked_on) == 1
    assert asked_on[0] not in (writer, threading.get_ident())
    panel.shutdown()


class _Server:
    data_dir = Path("server-lokal")


def test_the_demo_data_is_made_off_the_writer_which_stays_free(qtbot, worker, tmp_path,
                                                               monkeypatch):
    started, finish, seen = threading.Event(), threading.Event(), {}

    def seed_demo(registry, server_data, count, *, progress=None, cancel=None):
        seen["thread"] = threading.get_ident()
        started.set()
        finish.wait(5)  # the syncs wait on the network
        return ops.demo.SeedReport(counts={"x": 1})

    monkeypatch.setattr(ops.demo, "seed_demo", seed_demo)
    window = QMainWindow()
    qtbot.addWidget(window)
    (tmp_path / "data").mkdir()
    demo = DemoMode(window, worker, tmp_path / "data")
    demo.server = _Server()
    reports = []
    demo.seeded.connect(reports.append)
    demo.seed()
    qtbot.waitUntil(started.is_set, timeout=5000)
    writer = _writer_thread(qtbot, worker)  # answers while the demo data is being made
    finish.set()
    qtbot.waitUntil(lambda: bool(reports), timeout=5000)
    assert seen["thread"] not in (writer, threading.get_ident())
    assert reports[0].counts == {"x": 1}
