"""Setting up a new encrypted device database, and upgrading a plain one, so that a crash or a
power cut at any moment leaves either the plain or the encrypted database complete.

The steps of an upgrade, and what the folder holds after a crash between two of them:

1. the operator's log-in is checked against the plain database (which is not changed);
2. a new key file is written as `registry.key.new`; an encrypted copy is made as
   `registry.sqlite3.encrypting` and checked: the same row count in every table,
   `PRAGMA integrity_check`, the audit chain;
3. `registry.key.new` becomes `registry.key` (commit point: from here on the upgrade is
   finished by the next start, never undone);
4. `registry.sqlite3.encrypting` replaces `registry.sqlite3` (an atomic rename);
5. the plain backups made before earlier migrations are removed.

`recover_interrupted` reads the folder at every start: before (3) the leftovers of (2) are
removed and the plain database is used as before; after (3) steps (4) and (5) are done again.
A new device's set-up follows the same order (key file pending, database made, key file put in
place).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from storage.db import StorageError, connect, is_plain_sqlite, storage_errors
from storage.paths import fsync_dir, private_file

log = logging.getLogger(__name__)

ENCRYPTING_SUFFIX = ".encrypting"


@dataclass(frozen=True)
class PlainAccount:
    username: str
    role: str
    password_hash: str
    active: bool
    locked_until: str


def encrypting_path(database: Path) -> Path:
    return database.with_name(database.name + ENCRYPTING_SUFFIX)


def _remove(path: Path) -> None:
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()


def plain_backups(database: Path) -> list[Path]:
    pattern = f"{database.stem}.backup-v*{database.suffix}"
    return [p for p in database.parent.glob(pattern) if is_plain_sqlite(p)]


def recover_interrupted(vault) -> None:
    """Finish an upgrade past its commit point, or forget one (or a set-up) before it."""
    database = vault.database_path
    copy = encrypting_path(database)
    if not vault.final_path.exists():
        if vault.pending_path.exists() and database.exists() and not is_plain_sqlite(database) \
                and not copy.exists():
            vault.activate()  # a new device's set-up: its database was made, then the crash
            return
        with contextlib.suppress(FileNotFoundError):
            vault.pending_path.unlink()
        _remove(copy)
        return
    if copy.exists() and database.exists() and is_plain_sqlite(database):
        _swap(database, copy)
    if database.exists() and not is_plain_sqlite(database):
        for backup in plain_backups(database):
            backup.unlink()


def _swap(database: Path, copy: Path) -> None:
    for leftover in (Path(f"{database}-wal"), Path(f"{database}-shm")):
        # The plain database was closed in rollback-journal mode before the commit point, so
        # these can only be empty leftovers; never let SQLite apply them to the new file.
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
    copy.replace(database)
    fsync_dir(database.parent)
    for backup in plain_backups(database):
        backup.unlink()


def plain_accounts(database: Path) -> dict[str, PlainAccount]:
    """The operator accounts of a plain database (none before migration 0009), read only."""
    with storage_errors():
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'operators'"
                                ).fetchone():
                return {}
            rows = conn.execute("SELECT username, role, password_hash, active, locked_until "
                                "FROM operators").fetchall()
        finally:
            conn.close()
    return {r[0]: PlainAccount(r[0], r[1], r[2], bool(r[3]), r[4] or "") for r in rows}


def check_plain_login(database: Path, username: str, password: str, now: datetime):
    """A storage.vault.Unlock for a log-in against a plain database's accounts (no key in it).
    The plain database is not changed: the failure count lives on in the key file later."""
    from storage.operators import verify_password
    from storage.vault import MESSAGES, Unlock, _locked, normalize_username

    username = normalize_username(username)
    if not username or not password:
        return Unlock(False, "empty", MESSAGES["empty"])
    account = plain_accounts(database).get(username)
    if account is None or not account.active:
        verify_password(password, "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA")
        return Unlock(False, "bad_credentials", MESSAGES["bad_credentials"])
    if account.locked_until:
        until = datetime.fromisoformat(account.locked_until)
        if now < until:
            return _locked(until)
    if not verify_password(password, account.password_hash):
        return Unlock(False, "bad_credentials", MESSAGES["bad_credentials"])
    return Unlock(True, "ok", "", username=username)


def upgrade_plain(vault, username: str, password: str) -> tuple[bytes, str]:
    """Encrypt the folder's plain database for `username` (whose log-in the caller checked, or
    who becomes the first admin). Returns (database key, recovery key text)."""
    database = vault.database_path
    copy = encrypting_path(database)
    accounts = plain_accounts(database)
    _settle_plain(database)
    _remove(copy)
    pending = vault.pending()
    with contextlib.suppress(FileNotFoundError):
        pending.keyfile_path.unlink()
    key, recovery = pending.create(username, password)
    _export(database, copy, key)
    _verify_copy(database, copy, key)
    for account in accounts.values():
        if account.active and account.username != pending_name(username):
            pending.add_legacy(key, account.username, account.password_hash)
    vault.activate()  # the commit point
    _swap(database, copy)
    log.info("plain database encrypted")
    return key, recovery


def pending_name(username: str) -> str:
    from storage.vault import normalize_username

    return normalize_username(username)


def _settle_plain(database: Path) -> None:
    """Fold the plain database's write-ahead log into it and leave it in rollback-journal
    mode, so no WAL of the plain file can be left beside the encrypted one."""
    with storage_errors():
        conn = sqlite3.connect(str(database))
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            conn.execute("PRAGMA journal_mode = DELETE").fetchall()
        finally:
            conn.close()


def _export(database: Path, copy: Path, key: bytes) -> None:
    import sqlcipher3

    from storage.crypto import sqlcipher_key

    private_file(copy)
    with storage_errors():
        conn = sqlcipher3.connect(str(database))
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            conn.execute(f"ATTACH DATABASE ? AS encrypted KEY {sqlcipher_key(key)}", [str(copy)])
            conn.execute("SELECT sqlcipher_export('encrypted')").fetchall()
            conn.execute(f"PRAGMA encrypted.user_version = {int(version)}")
            conn.execute("DETACH DATABASE encrypted")
        finally:
            conn.close()
    fd = open(copy, "rb+")  # noqa: SIM115 - only to fsync the finished copy
    try:
        import os

        os.fsync(fd.fileno())
    finally:
        fd.close()


def _verify_copy(database: Path, copy: Path, key: bytes) -> None:
    from storage.registry import Registry

    with storage_errors():
        plain = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            tables = [r[0] for r in plain.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE "
                "'CREATE VIRTUAL TABLE%'")]
            counts = {t: plain.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                      for t in tables}
        finally:
            plain.close()
    db = connect(copy, key=key, readonly=True)
    try:
        with storage_errors():
            for table, count in counts.items():
                got = db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                if got != count:
                    raise StorageError("corrupt", f"copy of {table}: {got} rows, not {count}")
            rows = db.execute("PRAGMA integrity_check").fetchall()
            if [r[0] for r in rows] != ["ok"]:
                raise StorageError("corrupt", "integrity check of the encrypted copy failed")
            if "audit_log" in counts and not Registry(db, device_id="").audit_chain_ok():
                raise StorageError("corrupt", "audit chain of the encrypted copy is broken")
    finally:
        db.close()
