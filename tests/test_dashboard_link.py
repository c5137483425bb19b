"""The window's link to the dashboard: shown to verifiers and admins only, it opens the enrolled
server's /dashboard in the system browser (QDesktopServices), and says what to do before
enrolment."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtWidgets import QMessageBox
from unlock_util import add_operators, operator_windows, run_job

from ui import dashboard_link

PASSWORD = "rahasia-jambi"
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
ACCOUNTS = (("admin", "Ibu Admin", "admin"), ("budi", "Budi Pendata", "petugas"),
            ("sari", "Sari Verifikator", "verifikator"), ("kiki", "Kiki Loket", "loket_kartu"))


@pytest.fixture
def operators(qtbot, worker):
    return add_operators(qtbot, worker, ACCOUNTS, PASSWORD, T0)


@pytest.fixture
def window_for(qtbot, worker):
    with operator_windows(qtbot, worker, lambda text: None) as make:
        yield make


def test_dashboard_url_from_the_enrolled_server_address():
    assert dashboard_link.dashboard_url("http://10.0.0.5:8765") == "http://10.0.0.5:8765/dashboard"
    assert dashboard_link.dashboard_url("https://jamsos.jambikota.go.id/api/v1/") == \
        "https://jamsos.jambikota.go.id/dashboard"
    assert dashboard_link.dashboard_url("  ") == ""


@pytest.mark.parametrize("username, shown", [("admin", True), ("sari", True), ("budi", False),
                                             ("kiki", False)])
def test_only_verifiers_and_admins_see_the_link(qtbot, operators, window_for, username, shown):
    win = window_for(operators[username])
    win.operator_menu.aboutToShow.emit()
    assert win.dashboard_action.isVisible() == shown
    assert win.dashboard_action in win.operator_menu.actions()


def test_the_link_opens_the_servers_dashboard_in_the_browser(qtbot, worker, operators,
                                                             window_for, monkeypatch):
    opened, told = [], []
    monkeypatch.setattr(dashboard_link.QDesktopServices, "openUrl",
                        lambda url: opened.append(url.toString()) or True)
    monkeypatch.setattr(QMessageBox, "information", lambda *a: told.append(a[2]))
    win = window_for(operators["sari"])
    win.dashboard_action.trigger()
    assert opened == [] and "Daftarkan perangkat" in told[0]
    run_job(qtbot, worker, lambda r: r.set_setting("server_url", "http://127.0.0.1:8765"))
    win.dashboard_action.trigger()
    assert opened == ["http://127.0.0.1:8765/dashboard"]
