"""From a data folder and what an operator typed to an open, unlocked Registry: the one path the
window and the command line both take (log-in before the database opens).

- `accounts(folder)`: the usernames that may log in (from the key file, or the plain database an
  upgrade starts from) without opening anything.
- `set_up(folder, ...)`: a device without operators gets its first admin; the database is
  created encrypted (or a plain one upgraded), and the recovery key is returned to show once.
- `open_with_password(folder, username, password, now)`: unlock, upgrade a plain database on
  the way, open, audit the log-in.
- `open_with_recovery(folder, text)`: the database after every password was forgotten.

Refusals are `UnlockError` (`.code`, Indonesian `str()`); database failures stay StorageError and
key-file ones VaultError. Nothing here creates a database where one was expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from storage.upgrade import check_plain_login, plain_accounts, upgrade_plain
from storage.vault import Unlock, Vault, VaultError, open_registry


class UnlockError(Exception):
    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(message)


@dataclass
class Opened:
    registry: object  # storage.registry.Registry
    operator: object | None  # storage.operators.Operator (None after the recovery key)
    recovery_key: str = ""  # a new recovery key to show once (first admin, or an upgrade)

    @property
    def key(self) -> bytes:
        return self.registry.key


def accounts(folder: Path | str) -> list[str]:
    """Active usernames that can log in; [] on a device that needs its first admin."""
    vault = Vault(folder)
    state = vault.state()
    if state == "encrypted":
        return vault.usernames()
    if state == "plain":
        return sorted(a.username for a in plain_accounts(vault.database_path).values()
                      if a.active)
    return []


def set_up(folder: Path | str, username: str, display_name: str, password: str,
           now: datetime) -> Opened:
    """The first admin of a device: its database encrypted from the start (or its plain
    database upgraded), the admin logged in, a recovery key to show once."""
    from storage.operators import OperatorError, check_password, normalize_username

    vault = Vault(folder)
    state = vault.state()
    if state == "encrypted" or accounts(folder):
        raise OperatorError("already_set_up")
    check_password(password)
    username = normalize_username(username)
    _check_new_account(username, display_name)
    if state == "plain":
        key, recovery = upgrade_plain(vault, username, password)
    else:
        key, recovery = vault.pending().create(username, password)
    registry = _open_new(vault, key, state)
    try:
        operators = registry.operators
        operators.vault = None  # the wrap exists already; add() writes only the account
        operators.add(username, display_name, "admin", password, now=now)
        if state == "new":
            vault.activate()
        result = registry.operators.after_unlock(Unlock(True, "ok", "", key, username), now)
    except BaseException:
        registry.close()
        raise
    return Opened(registry, result.operator, recovery)


def _open_new(vault: Vault, key: bytes, state: str):
    from storage.registry import Registry

    if state == "new":  # the database is made here, before its key file is put in place
        return Registry.open(vault.database_path, key=key, vault=vault)
    return open_registry(vault, key)


def _check_new_account(username: str, display_name: str) -> None:
    from storage.operators import USERNAME_RE, OperatorError

    if not USERNAME_RE.match(username):
        raise OperatorError("username_invalid")
    if not " ".join((display_name or "").split()):
        raise OperatorError("display_name_empty")


def open_with_password(folder: Path | str, username: str, password: str,
                       now: datetime, *, readonly: bool = False) -> Opened:
    vault = Vault(folder)
    state = vault.state()
    if state == "new":
        raise UnlockError("not_set_up", "Perangkat ini belum memiliki akun petugas. Buat admin "
                          "pertama terlebih dahulu (buka aplikasi, atau 'main.py operators add').")
    recovery = ""
    if state == "plain":
        checked = check_plain_login(vault.database_path, username, password, now)
        if not checked.ok:
            raise UnlockError(checked.code, checked.message)
        key, recovery = upgrade_plain(vault, checked.username, password)
        outcome = Unlock(True, "ok", "", key, checked.username)
    else:
        outcome = vault.unlock(username, password, now)
        if not outcome.ok:
            raise UnlockError(outcome.code, outcome.message)
    registry = open_registry(vault, outcome.key, readonly=readonly)
    try:
        if readonly:
            operator = registry.operators.get(outcome.username)
            if operator is None or not operator.active:
                raise UnlockError("bad_credentials", "Nama pengguna atau kata sandi salah.")
        else:
            result = registry.operators.after_unlock(outcome, now)
            if not result.ok:
                raise UnlockError(result.code, result.message)
            operator = result.operator
            if operator.is_admin and not recovery and not vault.has_recovery():
                recovery = vault.new_recovery_key(outcome.key)
    except BaseException:
        registry.close()
        raise
    if recovery and not operator.is_admin:
        recovery = ""  # an upgrade by a non-admin: the first admin's log-in makes a new one
        vault.drop_recovery(outcome.key)
    return Opened(registry, operator, recovery)


def open_with_recovery(folder: Path | str, text: str) -> Opened:
    """The database opened with the recovery key (no operator: for resetting a password)."""
    vault = Vault(folder)
    if vault.state() != "encrypted":
        raise VaultError("not_set_up")
    key = vault.unlock_recovery(text)
    return Opened(open_registry(vault, key), None)
