"""The operator menu's link to the programme office's dashboard (server/dashboard/, issue 15).

Verifiers and admins open the central server's `/dashboard` in the system's browser; the
dashboard has its own accounts, so the browser asks for its own log-in. The action shows only
for them, and only once this device knows its server (after enrolment).
"""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QMenu, QMessageBox

from ui.labels import plain, t

ROLES = ("verifikator", "admin")


def dashboard_url(server_url: str) -> str:
    """The dashboard's address on the server whose API address the device was enrolled with."""
    base = (server_url or "").strip().rstrip("/")
    if base.endswith("/api/v1"):
        base = base[: -len("/api/v1")]
    return f"{base}/dashboard" if base else ""


def add_to(menu: QMenu, window) -> QAction:
    action = QAction(t("menu.dashboard"), window)
    action.triggered.connect(lambda: open_dashboard(window))
    menu.addAction(action)

    def refresh() -> None:
        operator = window.session.operator
        action.setVisible(operator is not None and operator.role in ROLES)

    menu.aboutToShow.connect(refresh)
    refresh()
    window.dashboard_action = action
    return action


def open_dashboard(window) -> bool:
    url = dashboard_url(str(window.worker.readonly.get_setting("server_url") or ""))
    if not url:
        QMessageBox.information(window, plain("menu.dashboard"), t("dashboard.no_server"))
        return False
    return QDesktopServices.openUrl(QUrl(url))
