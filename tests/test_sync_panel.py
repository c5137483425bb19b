"""The sync panel against the real server on loopback: enrol, sync off the main thread, list the
records to fix, and sync by itself when the server is reachable."""

from __future__ import annotations

import socket

import pytest
from sync_util import enrol_code, enrolled_device

from storage.demo import fill_demo_data
from storage.registry import Registry
from sync import state
from sync.engine import run_sync
from sync.enrol import client_for
from ui.db_worker import DbWorker
from ui.sync_panel import SyncPanel


@pytest.fixture
def panel_for(qtbot):
    made = []

    def make(path):
        worker = DbWorker.for_path(path)
        worker.start()
        panel = SyncPanel(worker)
        qtbot.addWidget(panel)
        made.append((panel, worker))
        qtbot.waitUntil(lambda: "path" in panel._info, timeout=5000)
        return panel

    yield make
    for panel, worker in made:
        panel.shutdown()
        worker.shutdown()


def test_enrol_then_sync_lists_duplicates_to_resolve(tmp_path, server, panel_for, qtbot):
    url, server_dir = server
    # Another device registered the same two people first.
    other = enrolled_device(tmp_path / "other.sqlite3", url, server_dir)
    fill_demo_data(other, 2, seed=11)
    client = client_for(other)
    run_sync(other, client)
    client.close()
    other.close()

    path = tmp_path / "device.sqlite3"
    registry = Registry.open(path)
    fill_demo_data(registry, 5, seed=11)  # two of these NIKs are the other device's
    registry.close()

    panel = panel_for(path)
    assert panel.enrol_box.isVisibleTo(panel) and not panel.sync_button.isEnabled()
    panel.server_edit.setText(url)
    panel.code_edit.setText(enrol_code(server_dir))
    panel.enrol_button.click()
    qtbot.waitUntil(lambda: panel._info.get("enrolled"), timeout=10000)
    assert not panel.enrol_box.isVisibleTo(panel)
    assert panel.sync_button.isEnabled()

    with qtbot.waitSignal(panel.sync_finished, timeout=30000) as done:
        panel.sync_button.click()
        assert panel.running  # the click returned at once: the sync runs on its own thread
    report = done.args[0]
    assert not isinstance(report, str), report
    assert (report.accepted, report.duplicates, report.remaining) == (3, 2, 0)
    qtbot.waitUntil(lambda: panel.table.rowCount() == 2, timeout=5000)
    assert {panel.table.item(i, 2).text() for i in range(2)} == {
        "NIK ganda: sudah terdaftar di server"}
    assert all("*" in panel.table.item(i, 1).text() for i in range(2))  # NIK masked
    assert "Sinkronisasi terakhir" in panel.last_sync_label.text()

    with qtbot.waitSignal(panel.open_record) as opened:
        panel.table.selectRow(0)
        panel.open_button.click()
    assert opened.args[0] in panel.attention_ids()


def test_sync_starts_by_itself_when_server_is_reachable(tmp_path, server, panel_for, qtbot):
    url, server_dir = server
    path = tmp_path / "device.sqlite3"
    registry = enrolled_device(path, url, server_dir)
    fill_demo_data(registry, 4, seed=5)
    registry.close()
    panel = panel_for(path)
    with qtbot.waitSignal(panel.sync_finished, timeout=30000) as done:
        panel.start_watching(interval=0.2, min_wait=0.05, max_wait=0.2)
    assert done.args[0].accepted == 4


def test_cancel_button_stops_a_running_sync_without_loss(tmp_path, server, panel_for, qtbot):
    url, server_dir = server
    path = tmp_path / "device.sqlite3"
    registry = enrolled_device(path, url, server_dir)
    fill_demo_data(registry, 60, seed=2)
    state.save_setting(registry, "sync_batch_size", 5)
    registry.close()
    panel = panel_for(path)
    with qtbot.waitSignal(panel.sync_finished, timeout=30000) as done:
        panel.start_sync()
        panel.cancel_button.click()
    report = done.args[0]
    assert report.cancelled and report.pushed + report.remaining == 60
    assert "dibatalkan" in panel.status_label.text()


def test_unreachable_server_says_so_in_indonesian_and_keeps_the_data(
        tmp_path, server, panel_for, qtbot):
    url, server_dir = server
    path = tmp_path / "device.sqlite3"
    registry = enrolled_device(path, url, server_dir)
    fill_demo_data(registry, 3, seed=4)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        state.save_setting(registry, "server_url", f"http://127.0.0.1:{s.getsockname()[1]}")
    registry.close()
    panel = panel_for(path)
    with qtbot.waitSignal(panel.sync_finished, timeout=30000) as done:
        panel.start_sync()
    assert isinstance(done.args[0], str)
    qtbot.waitUntil(lambda: "3 data menunggu dikirim" in panel.last_sync_label.text(),
                    timeout=5000)
    assert "tidak dapat dihubungi" in panel.status_label.text()  # still shown after the refresh
    assert "Belum pernah" in panel.last_sync_label.text()


def test_a_save_while_online_goes_up_within_seconds(tmp_path, server, panel_for, qtbot):
    url, server_dir = server
    path = tmp_path / "device.sqlite3"
    registry = enrolled_device(path, url, server_dir)
    registry.close()
    panel = panel_for(path)
    with qtbot.waitSignal(panel.sync_finished, timeout=30000):  # the first check finds it up
        panel.start_watching(interval=600.0, min_wait=0.05, max_wait=0.2, debounce=0.5)
    # A save now: not after the ten-minute check above, but half a second after the save.
    with qtbot.waitSignal(panel.sync_finished, timeout=15000) as done:
        panel.worker.call(lambda r: fill_demo_data(r, 1, seed=11), changes=True)
    assert done.args[0].accepted == 1
    qtbot.waitUntil(lambda: "menunggu dikirim" not in panel.last_sync_label.text(), timeout=5000)
