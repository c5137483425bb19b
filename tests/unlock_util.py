"""Encrypted device databases for tests, as the app and the command line open them: an operator
of a role on a data folder (the first admin made when the folder is new), the registry opened
with that operator's password, and the `--operator` arguments for `main.main`.

Tests of the SQL alone keep opening plain databases with `Registry.open(path)` (no key)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

PASSWORD = "sandi-uji-jambi"
ADMIN = "admin.uji"
USERNAMES = {"admin": ADMIN, "petugas": "petugas.uji", "verifikator": "verifikator.uji",
             "loket_kartu": "loket.uji"}
DISPLAY_NAMES = {"admin": "Admin Uji", "petugas": "Petugas Uji",
                 "verifikator": "Verifikator Uji", "loket_kartu": "Petugas cetak"}


def ensure_operator(folder: Path | str, role: str = "admin") -> str:
    """The username of an active operator of `role` on the folder's (encrypted) database."""
    from storage.unlock import accounts, open_with_password, set_up

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    if not accounts(folder):
        set_up(folder, ADMIN, DISPLAY_NAMES["admin"], PASSWORD, now).registry.close()
    username = USERNAMES[role]
    if role != "admin":
        admin = open_with_password(folder, ADMIN, PASSWORD, now)
        try:
            if admin.registry.operators.get(username) is None:
                admin.registry.operators.add(username, DISPLAY_NAMES[role], role, PASSWORD,
                                             now=now, by=ADMIN)
        finally:
            admin.registry.close()
    return username


def encrypted_registry(folder: Path | str, role: str = "admin"):
    """The folder's encrypted Registry, unlocked by an operator of `role` (made if needed)."""
    from storage.unlock import open_with_password

    username = ensure_operator(folder, role)
    return open_with_password(folder, username, PASSWORD, datetime.now(UTC)).registry


def cli_args(monkeypatch, folder: Path | str, role: str = "admin") -> list[str]:
    """`--operator USERNAME` for a command on the folder, its password in JAMSOS_PASSWORD."""
    monkeypatch.setenv("JAMSOS_PASSWORD", PASSWORD)
    return ["--operator", ensure_operator(folder, role)]


def run_job(qtbot, worker, fn, *args, timeout: int = 10_000):
    """Run `fn(registry, *args)` on the window's database worker and wait for its answer;
    an exception raised there is raised here."""
    box = []
    worker.call(fn, *args, on_result=box.append, on_error=box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=timeout)
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]


def add_operators(qtbot, worker, accounts, password: str, now) -> dict:
    """Operator accounts (username, display name, role) added through the worker by "admin",
    all with `password`; returns them by username."""
    def add(registry):
        for username, name, role in accounts:
            registry.operators.add(username, name, role, password, now=now, by="admin")
        return {username: registry.operators.get(username) for username, _n, _r in accounts}

    return run_job(qtbot, worker, add)


@contextmanager
def operator_windows(qtbot, worker, ask_draft, *, show: bool = False):
    """Yields `make(operator)`: the app's window on the worker with that operator logged in
    (`ask_draft` answers the draft question; `show` waits until it is on screen). On exit each
    window's sync panel and idle lock stop."""
    from ui import app as app_module  # Qt only for the tests that ask for a window

    windows = []

    def make(operator):
        win = app_module.build_window(worker, operator)
        qtbot.addWidget(win)
        win.ask_draft = ask_draft
        if show:
            win.show()
            qtbot.waitExposed(win)
        windows.append(win)
        return win

    try:
        yield make
    finally:
        for win in windows:
            win.sync_panel.shutdown()
            if win.idle is not None:
                win.idle.remove()
