"""The verifier's window against the real server on loopback (pytest-qt): filters, masked NIKs,
side-by-side duplicates, verify, fund with the quota shown, reject with a reason, and a decision
on a registration that changed since it was opened."""

from __future__ import annotations

import pytest
from sync_util import VERIFIER, enrol_code, enrolled_device

from storage.demo import fill_demo_data
from storage.operators import Operator
from sync import verifier as api
from sync.client import SyncClient
from sync.engine import run_sync
from sync.enrol import client_for
from ui.db_worker import DbWorker
from ui.labels import t
from ui.session import Session
from ui.verifier_panel import VerifierPanel

WAIT = 10_000
SARI = Operator(id=7, username="sari.v", display_name="Verifikator Uji", role="verifikator",
                active=True, failed_attempts=0, locked_until=None, created_at="")


def logged_in(operator=SARI) -> Session:
    """The session of a window where `operator` logged in (who decides)."""
    return Session(operator)


def _push(registry) -> None:
    client = client_for(registry)
    try:
        run_sync(registry, client)
    finally:
        client.close()
        registry.close()


@pytest.fixture
def panel(qtbot, tmp_path, server):
    url, server_dir = server
    a = enrolled_device(tmp_path / "a.sqlite3", url, server_dir)
    fill_demo_data(a, 3, seed=21)
    b = enrolled_device(tmp_path / "b.sqlite3", url, server_dir)
    fill_demo_data(b, 1, seed=21)  # the same first worker: one same-NIK pair on the server
    _push(a)
    _push(b)
    enrolled_device(tmp_path / "v.sqlite3", url, server_dir, "verifier").close()
    worker = DbWorker.for_path(tmp_path / "v.sqlite3")
    worker.start()
    widget = VerifierPanel(worker, session=logged_in())
    qtbot.addWidget(widget)
    widget.confirm = lambda title, text, yes: widget.asked.append((title, text, yes)) or True
    widget.asked = []
    widget.reload()
    qtbot.waitUntil(lambda: widget.model.rowCount() == 4, timeout=WAIT)
    yield widget
    widget.shutdown()
    worker.shutdown()


def _open(qtbot, panel, row: int) -> dict:
    reg_id = panel.model.items[row]["id"]
    panel.table.selectRow(row)
    qtbot.waitUntil(lambda: panel.detail is not None and panel.detail["id"] == reg_id,
                    timeout=WAIT)
    return panel.detail


def _decide(qtbot, panel, button) -> None:
    panel.message.clear()
    button.click()
    qtbot.waitUntil(lambda: panel.message.text() not in ("", "Mengirim keputusan ke server…"),
                    timeout=WAIT)


def test_list_is_masked_and_the_quota_is_shown(qtbot, panel):
    assert all("******" in panel.cell(item, 1) for item in panel.model.items)
    assert all(item["nik_masked"] == panel.cell(item, 1) for item in panel.model.items)
    qtbot.waitUntil(lambda: "tersisa" in panel.quota_label.text(), timeout=WAIT)
    assert "Pekerja rentan" in panel.quota_label.text()
    # Eight reasons and no reason chosen beforehand: the verifier picks one.
    assert panel.reason_combo.count() == 9
    assert panel.reason_combo.currentIndex() == 0 and panel.reason_combo.currentData() == ""


def test_kegiatan_filter_comes_from_the_server_and_shows_names(qtbot, panel):
    """The verifier's own device made no kegiatan: the filter and the names come from
    GET /events and the answers' event_name (the enumerators' devices sent them)."""
    qtbot.waitUntil(lambda: panel.event_combo.count() > 1, timeout=WAIT)
    labels = [panel.event_combo.itemText(i) for i in range(1, panel.event_combo.count())]
    assert all("(CONTOH)" in label for label in labels)
    named = [item for item in panel.model.items if item.get("event_id")]
    assert named and all(panel.cell(item, 7) == item["event_name"] != "" for item in named)

    chosen = named[0]["event_id"]
    panel.event_combo.setCurrentIndex(panel.event_combo.findData(chosen))
    qtbot.waitUntil(lambda: panel.model.items and all(
        item["event_id"] == chosen for item in panel.model.items), timeout=WAIT)
    detail = _open(qtbot, panel, 0)
    assert detail["event_name"] and detail["event_name"] in panel.this_view.toPlainText()
    assert chosen not in panel.this_view.toPlainText()  # the name, not a bare id


def test_duplicates_side_by_side_then_resolved(qtbot, panel):
    panel.duplicate_check.setChecked(True)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=WAIT)
    first = _open(qtbot, panel, 0)
    assert len(panel.duplicates) == 1
    other = panel.duplicates[0]
    assert other["full_name"] in panel.other_view.toPlainText()
    assert first["full_name"] in panel.this_view.toPlainText()
    assert not panel.verify_button.isEnabled()  # a duplicate is resolved before verification
    assert panel.keep_combo.count() == 2
    panel.keep_combo.setCurrentIndex(0)
    _decide(qtbot, panel, panel.resolve_button)
    assert panel.message.text().startswith("Tersimpan")
    qtbot.waitUntil(lambda: panel.model.rowCount() == 0, timeout=WAIT)  # no duplicates left
    statuses = {d["id"]: d["status"] for d in panel.duplicates}
    assert statuses == {other["id"]: "rejected"}
    # The rejected one says which registration was kept as a person reads it: its name and
    # masked NIK, never a raw id.
    reason = panel.duplicates[0]["status_reason"]
    assert reason == f"Duplikat dari pendaftaran {first['full_name']} (NIK {first['nik_masked']})"
    assert first["id"] not in reason and first["data"]["nik"] not in reason
    assert panel.asked[-1][0] == "Selesaikan duplikat?"
    assert other["full_name"] in panel.asked[-1][1]  # named as the one to be rejected
    assert panel.detail["status"] == "received" and not panel.detail["possible_duplicate"]


def test_verify_then_fund_then_reject_with_a_reason(qtbot, panel):
    panel.duplicate_check.setChecked(False)
    rows = [i for i, item in enumerate(panel.model.items) if not item["possible_duplicate"]]
    _open(qtbot, panel, rows[0])
    assert panel.verify_button.isEnabled() and not panel.fund_button.isEnabled()
    _decide(qtbot, panel, panel.verify_button)
    assert panel.detail["status"] == "verified"
    qtbot.waitUntil(lambda: "tersisa" in panel.quota_label.text(), timeout=WAIT)
    before = panel.quota_label.text()
    panel.confirm = lambda title, text, yes: panel.asked.append((title, text, yes)) and False
    panel.asked.clear()
    panel.fund_button.click()  # answered Batal: nothing is sent
    assert panel.asked[0][0] == "Danai pendaftaran?" and panel.detail["status"] == "verified"
    assert panel.detail["nik_masked"] in panel.asked[0][1]
    assert panel.detail["data"]["nik"] not in panel.asked[0][1]
    panel.confirm = lambda title, text, yes: panel.asked.append((title, text, yes)) or True
    _decide(qtbot, panel, panel.fund_button)
    assert panel.detail["status"] == "funded"
    # The decision carries the logged-in operator, never a typed name.
    who = [e.get("operator") for e in api.registration_detail(
        panel.client, panel.detail["id"])["events"] if e["event"] in ("verified", "funded")]
    assert who == [{"username": "sari.v", "display_name": "Verifikator Uji"}] * 2
    assert panel.detail["member_number"] in panel.message.text()
    qtbot.waitUntil(lambda: panel.quota_label.text() != before, timeout=WAIT)

    qtbot.waitUntil(lambda: panel.model.rowCount() == 3, timeout=WAIT)  # status filter: received
    rows = [i for i, item in enumerate(panel.model.items) if not item["possible_duplicate"]]
    _open(qtbot, panel, rows[0])
    assert panel.reason_combo.currentData() == "" and not panel.reject_button.isEnabled()
    panel.reject()  # reached anyway: refused, nothing asked or sent
    assert panel.message.text() == "Pilih dulu alasan penolakan."
    panel.reason_combo.setCurrentIndex(panel.reason_combo.findData("not_resident"))
    assert panel.reject_button.isEnabled()
    panel.reason_edit.setText("Tinggal di Muaro Jambi")
    panel.asked.clear()
    _decide(qtbot, panel, panel.reject_button)
    title, text, yes = panel.asked[0]
    assert (title, yes) == ("Tolak pendaftaran?", "Ya, tolak")
    assert "Alasan: Bukan penduduk / tidak berdomisili di kota ini" in text
    assert "Keterangan: Tinggal di Muaro Jambi" in text  # as typed, never lower-cased
    assert panel.detail["status"] == "rejected"
    assert "Tinggal di Muaro Jambi" in panel.detail["status_reason"]
    assert "Tinggal di Muaro Jambi" in panel.message.text()  # the note keeps its capitals
    assert "Tinggal di Muaro Jambi" in panel.this_view.toPlainText()
    assert "Ditolak oleh Verifikator Uji" in panel.this_view.toPlainText()  # the history
    assert panel.reason_combo.currentData() == ""  # the next one starts unchosen again


def test_a_decision_on_a_changed_registration_is_refused_with_a_clear_message(
        qtbot, panel, server):
    url, server_dir = server
    rows = [i for i, item in enumerate(panel.model.items) if not item["possible_duplicate"]]
    seen = _open(qtbot, panel, rows[0])
    other = SyncClient(url, SyncClient(url).enrol(enrol_code(server_dir, "verifier"), "meja 2")
                       ["token"])
    api.reject(other, seen["id"], seen["revision"], "documents_incomplete", operator=VERIFIER)
    other.close()
    _decide(qtbot, panel, panel.verify_button)
    assert panel.message.text() == api.STALE_MESSAGE
    qtbot.waitUntil(lambda: panel.detail["status"] == "rejected", timeout=WAIT)
    assert not panel.verify_button.isEnabled()


def test_a_device_without_a_server_says_how_to_connect(qtbot, tmp_path):
    worker = DbWorker.for_path(tmp_path / "alone.sqlite3")
    worker.start()
    widget = VerifierPanel(worker)
    qtbot.addWidget(widget)
    widget.reload()
    qtbot.waitUntil(lambda: widget.message.text() == t("ver.not_enrolled"), timeout=WAIT)
    widget.shutdown()
    worker.shutdown()


def test_quota_text_per_cohort_and_shared():
    from ui.verifier_panel import quota_text

    separate = {"programme_year": 2026, "cohorts": [
        {"cohort": "pekerja_rentan", "label": "Pekerja rentan", "places": 3000, "funded": 12,
         "left": 2988},
        {"cohort": "petugas_keagamaan", "label": "Petugas keagamaan", "places": 1316,
         "funded": 0, "left": 1316}]}
    assert quota_text(separate) == ("Kuota tahun program 2026 — Pekerja rentan: 2.988 dari "
                                    "3.000 tersisa · Petugas keagamaan: 1.316 dari 1.316 tersisa")
    shared = {"programme_year": 2027, "cohorts": [
        {"cohort": "pekerja_rentan", "label": "Pekerja rentan", "places": 4000, "funded": 30,
         "left": 3960, "shared": True},
        {"cohort": "petugas_keagamaan", "label": "Petugas keagamaan", "places": 4000,
         "funded": 10, "left": 3960, "shared": True}]}
    text = quota_text(shared)
    assert text.count("3.960 dari 4.000 tersisa") == 1 and "bersama" in text


def test_a_revoked_verifier_is_told_clearly_and_nothing_is_decided(qtbot, panel, server):
    from server.auth import revoke_device
    from server.store import Store
    from sync import state

    rows = [i for i, item in enumerate(panel.model.items) if not item["possible_duplicate"]]
    seen = _open(qtbot, panel, rows[0])
    store = Store(server[1])
    try:
        assert revoke_device(store, state.device_id(panel.worker.readonly))
    finally:
        store.close()
    _decide(qtbot, panel, panel.verify_button)
    assert panel.message.text() == api.REVOKED_MESSAGE
    check = SyncClient(server[0], SyncClient(server[0]).enrol(
        enrol_code(server[1], "verifier"), "meja 3")["token"])
    assert api.registration_detail(check, seen["id"])["registration"]["status"] == "received"
    check.close()


def test_a_conflicting_version_side_by_side_then_kept(qtbot, panel, tmp_path):
    import uuid

    from storage.registry import Registry
    from sync import state

    a = Registry.open(tmp_path / "a.sqlite3")
    reg_id = next(i["id"] for i in panel.model.items if not i["possible_duplicate"])
    data = a.get(reg_id).to_dict()
    # Version 2 edited from nothing newer than 0 (e.g. a laptop restored from an old backup).
    data.update(street="Jl. Versi Lain No. 1", device_id=state.device_id(a), version=2)
    client = client_for(a)
    answer = client.push(str(uuid.uuid4()), state.device_id(a),
                         [{"record_id": reg_id, "version": 2, "base_version": 0, "data": data}])
    client.close()
    a.close()
    assert answer["results"][0]["outcome"] == "conflict"

    panel.reload()
    qtbot.waitUntil(lambda: any(i["conflict"] for i in panel.model.items), timeout=WAIT)
    row = next(n for n, i in enumerate(panel.model.items) if i["id"] == reg_id)
    assert "konflik" in panel.cell(panel.model.items[row], 6)
    _open(qtbot, panel, row)
    assert "Jl. Versi Lain No. 1" in panel.other_view.toPlainText()
    assert not panel.verify_button.isEnabled()
    assert panel.resolve_button.text() == "Selesaikan konflik" and panel.keep_combo.count() == 2
    panel.keep_combo.setCurrentIndex(1)
    _decide(qtbot, panel, panel.resolve_button)
    assert panel.message.text().startswith("Tersimpan"), panel.message.text()
    assert not panel.detail["conflict"]
    assert panel.detail["data"]["street"] == "Jl. Versi Lain No. 1"
    assert panel.verify_button.isEnabled()


def test_a_confirmation_defaults_to_batal_and_enter_cancels(qtbot):
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from ui import verifier_confirm

    box = verifier_confirm.make_box(None, "Danai pendaftaran?", "Danai Siti?", "Ya, danai")
    qtbot.addWidget(box)
    assert box.defaultButton().text() == "Batal" and box.escapeButton().text() == "Batal"
    assert [b.text() for b in box.buttons()] == ["Ya, danai", "Batal"]

    def press_enter():
        modal = QApplication.activeModalWidget()
        qtbot.keyClick(modal, Qt.Key.Key_Return)

    QTimer.singleShot(100, press_enter)
    assert verifier_confirm.ask(None, "Danai pendaftaran?", "Danai Siti?", "Ya, danai") is False


def test_at_1366x768_the_name_is_wide_and_about_ten_rows_show(qtbot, worker):
    from ui.main_window import MainWindow

    window = MainWindow(worker)
    qtbot.addWidget(window)
    window.resize(1366, 728)  # a 1366×768 laptop less its task bar
    window.show()
    qtbot.waitExposed(window)
    window.tabs.setCurrentWidget(window._verifier)
    panel = window.verifier
    items = [{"id": f"r{i}", "full_name": f"Nama Peserta Yang Cukup Panjang {i}",
              "nik_masked": "157101******0001", "status": "received",
              "status_reason": "", "event_name": "Kampung Bahagia Sungai Putri (CONTOH)",
              "received_at": "2026-12-01T04:00:00+00:00", "possible_duplicate": True,
              "conflict": True, "correction_pending": True} for i in range(30)]
    panel.model.set_items(items)
    qtbot.wait(50)
    table = panel.table
    assert table.columnWidth(0) >= 200  # long notes and kegiatan never squeeze the name
    shown = table.viewport().height() // table.rowHeight(0)
    assert shown >= 9, shown
    window.sync_panel.shutdown()


def test_a_list_counted_only_so_far_says_more_than_and_pages_on(qtbot, panel, monkeypatch):
    from server import verifier as server_verifier
    from ui import verifier_panel

    assert panel.page_label.text() == "1–4 dari 4 pendaftaran"
    assert not panel.next_button.isEnabled()
    monkeypatch.setattr(verifier_panel, "PAGE", 2)
    monkeypatch.setattr(server_verifier, "COUNT_AHEAD", 1)
    panel.reload()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=WAIT)
    assert panel.page_label.text() == "1–2 dari lebih dari 3 pendaftaran"
    assert panel.next_button.isEnabled()
    panel.next_button.click()
    qtbot.waitUntil(lambda: panel.page_label.text() == "3–4 dari 4 pendaftaran", timeout=WAIT)
    assert not panel.next_button.isEnabled()
