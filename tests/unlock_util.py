"""Encrypted device databases for tests, as the app and the command line open them: an operator
of a role on a data folder (the first admin made when the folder is new), the registry opened
with that operator's password, and the `--operator` arguments for `main.main`.

Tests of the SQL alone keep opening plain databases with `Registry.open(path)` (no key)."""

from __future__ import annotations

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
