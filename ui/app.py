"""Starting the window: `python main.py` (main.py calls `run_app(args)`)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

# The Qt-free modules the window uses, imported before PySide6: once PySide6 is loaded, every
# later import goes through its feature hook, which reads and parses the module's source. Done
# first, these imports cost a third less time at start-up.
PRELOAD = ("storage.registry", "storage.validation", "storage.config", "storage.demo",
           "sync.engine", "sync.watcher", "cards.desk", "cards.verify")
for _name in PRELOAD:
    try:
        importlib.import_module(_name)
    except ImportError:  # a module moved: it is imported later, just more slowly
        pass

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from ui.labels import set_language, t  # noqa: E402


def open_worker(data_dir: str | Path | None) -> Any:
    """A database worker for a plain database (screenshots and benchmarks); the app itself
    unlocks first (`log_in`) and hands the opened registry to `DbWorker.for_registry`."""
    from storage.paths import database_path
    from ui.db_worker import DbWorker

    worker = DbWorker.for_path(database_path(data_dir))
    worker.start()
    return worker


def build_window(worker: Any, operator: Any = None) -> Any:
    """The main window; `operator` is who logged in (None: no log-in and no idle lock, for
    tests, benchmarks and screenshots)."""
    from ui.look import install
    from ui.main_window import MainWindow

    set_language(str(worker.readonly.get_setting("language") or "id"))
    install()  # visible focus; Ya/Tidak, OK/Batal in Qt's own buttons
    return MainWindow(worker, operator=operator)


class _Accounts:
    """What ui.demo_mode.demo_hint reads before the database is open: the usernames that can log
    in, from the key file (storage.unlock.accounts)."""

    def __init__(self, folder: Path):
        from types import SimpleNamespace

        from storage.unlock import accounts

        names = accounts(folder)
        self.operators = SimpleNamespace(
            list=lambda include_inactive=True: [SimpleNamespace(username=n) for n in names])


def log_in(data_dir: str | Path | None) -> Any:
    """Before anything else, and before the database is open: on a device without operators,
    the first admin account (the database is created encrypted, or a plain one upgraded);
    else the log-in dialog, which unlocks it (with the demo accounts' hint in demo mode).
    The storage.unlock.Opened, or None when the dialog was closed."""
    from PySide6.QtWidgets import QDialog

    from storage.paths import data_dir as resolve
    from storage.unlock import accounts
    from ui.login import FirstAdminDialog, LoginDialog

    folder = resolve(data_dir)
    if not accounts(folder):
        dialog = FirstAdminDialog(folder)
    else:
        from ui.demo_mode import demo_hint

        dialog = LoginDialog(hint=demo_hint(_Accounts(folder), data_dir), folder=folder)
    try:
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        return dialog.opened if accepted else None
    finally:
        dialog.deleteLater()


def run_app(args: Any) -> int:
    """Open the window on `args.data_dir` (None: the platform's data directory)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Jamsos Jambi")
    from ui.look import install

    install()  # before the first dialog: visible focus, Qt's buttons in the window's language
    from ui.db_worker import DbWorker

    try:
        opened = log_in(getattr(args, "data_dir", None))
        if opened is None:
            return 0  # closed without logging in: nothing was opened, the window never built
        worker = DbWorker.for_registry(opened.registry)
        worker.start()
    except Exception as exc:  # a damaged key file, StorageError (locked, corrupt…) or worse
        from storage.vault import VaultError
        from ui.errors import is_storage_error

        known = is_storage_error(exc) or isinstance(exc, VaultError)
        detail = str(exc) if known else type(exc).__name__
        QMessageBox.critical(None, t("error.title"), t("error.open", detail=detail))
        return 1
    demo = None
    try:
        if opened.recovery_key:
            from ui.login import show_recovery_key

            show_recovery_key(None, opened.recovery_key)
        window = build_window(worker, opened.operator)
        window.show()
        from ui.draft_recovery import offer_draft

        QTimer.singleShot(0, lambda: offer_draft(window, worker, window.form))
        from ui.demo_mode import install_demo

        demo = install_demo(window, worker, getattr(args, "data_dir", None))
        return app.exec()
    finally:
        worker.shutdown()  # queued jobs (a demo seeding among them) finish first
        if demo is not None:
            demo.shutdown()  # then the local demo server stops with the app
