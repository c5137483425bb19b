"""Unlocking the encrypted device database: log-in before the database opens.

A `Vault` is the data folder's key file (storage/keyfile.py) seen as operations: make it for the
first admin (with the recovery key, shown once), unlock with an operator's password or the
recovery key, wrap the database key for a new operator or a new password, remove a deactivated
operator's wrap, clear a lockout. Every operation that changes the authenticated part needs the
database key, so only someone who unlocked can do it; a failed log-in changes only the lockout
chain. The database itself is opened by `open_registry(key)`, which never creates a new empty
database where one was expected.

Time is passed in (`now`, aware) as in storage/operators.py.
"""

from __future__ import annotations

import contextlib
import functools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage import crypto, passwords
from storage import keyfile as kf
from storage.paths import DATABASE_NAME, KEYFILE_NAME, private_dir
from storage.vocabulary import show_clock, utc_iso

MAX_FAILURES = 5
LOCK_MINUTES = 15
CHAIN_LENGTH = 50  # failed log-ins between two good ones before only an admin or the recovery
# key can open the account again (waits in between depend on the clock, see ARCHITECTURE.md)
MAX_KDF_N = 2**20

MESSAGES = {
    "bad_credentials": "Nama pengguna atau kata sandi salah.",
    "locked": "Terlalu banyak percobaan masuk yang gagal. Akun ini dikunci sampai pukul {until}. "
              "Coba lagi nanti, atau minta admin membuka kuncinya.",
    "exhausted": "Akun ini dikunci karena terlalu banyak percobaan masuk yang gagal. Minta admin "
                 "membuka kuncinya, atau pakai kunci pemulihan.",
    "empty": "Isi nama pengguna dan kata sandi.",
    "bad_recovery": "Kunci pemulihan salah. Periksa lagi setiap kelompok hurufnya.",
    "keyfile_damaged": "Berkas kunci (registry.key) rusak atau telah diubah. Tidak ada yang "
                       "dibuka atau diubah; jangan hapus berkas itu dan hubungi petugas TI.",
    "keyfile_missing": "Berkas kunci (registry.key) tidak ada, padahal basis data terenkripsi "
                       "ada. Tidak ada yang diubah; kembalikan berkas kunci dari cadangan atau "
                       "hubungi petugas TI.",
    "database_missing": "Basis data (registry.sqlite3) tidak ditemukan, padahal berkas kuncinya "
                        "ada. Tidak ada basis data baru yang dibuat; kembalikan basis data dari "
                        "cadangan atau hubungi petugas TI.",
    "not_set_up": "Perangkat ini belum memiliki akun petugas.",
    "already_set_up": "Perangkat ini sudah memiliki berkas kunci.",
}


class VaultError(Exception):
    """The key file or the files around it stop an unlock; `.code` stable, str() Indonesian."""

    def __init__(self, code: str, detail: str = "", **values: object):
        self.code = code
        self.detail = detail
        self.message = MESSAGES[code].format(**values)
        super().__init__(self.message)


@dataclass(frozen=True)
class Unlock:
    """The outcome of a log-in against the key file: `ok` with the database `key`, or a refusal
    (`code` "bad_credentials", "locked", "exhausted", "empty") with the Indonesian `message`."""

    ok: bool
    code: str
    message: str
    key: bytes | None = None
    username: str = ""
    failures_before: int = 0  # failed attempts since the previous good log-in (for the audit)
    locked_until: datetime | None = None


@dataclass(frozen=True)
class Lockout:
    failures: int
    locked_until: datetime | None  # datetime.max (UTC) when only an admin can open it again


def normalize_username(username: str) -> str:
    return (username or "").strip().casefold()


def _parse(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _associated(body: dict, username: str) -> str:
    return f"{body['database_id']}:{username}"


_DUMMY_SALT = secrets.token_bytes(crypto.SALT_BYTES)


def _exclusive(method):
    """Run a read-modify-write of the key file under the folder's lock, so that the window and
    a command line changing it at the same moment never write back each other's old state."""

    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self.lock():
            return method(self, *args, **kwargs)

    return locked


class Vault:
    """The key file of one data folder. Read fresh for every operation (another process, the
    command line, may have changed it)."""

    def __init__(self, folder: Path | str, *, pending: bool = False):
        self.folder = Path(folder)
        self.final_path = self.folder / KEYFILE_NAME
        # A new key file is written as registry.key.new and put in place (`activate`) once its
        # database exists, so an interrupted set-up or upgrade leaves a folder that starts over.
        self.pending_path = self.folder / (KEYFILE_NAME + ".new")
        self.keyfile_path = self.pending_path if pending else self.final_path
        self.database_path = self.folder / DATABASE_NAME

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """An exclusive lock on the folder's key file (a lock file beside it; none on systems
        without fcntl)."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not Linux or macOS
            yield
            return
        from storage.paths import private_file

        private_dir(self.folder)
        handle = open(private_file(self.folder / (KEYFILE_NAME + ".lock")), "a")  # noqa: SIM115
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            handle.close()

    def pending(self) -> Vault:
        return Vault(self.folder, pending=True)

    def activate(self) -> None:
        """Put the pending key file in place (an atomic rename), once its database exists."""
        import os

        from storage.paths import fsync_dir

        os.replace(self.pending_path, self.final_path)
        fsync_dir(self.folder)

    # -- what is in the folder ------------------------------------------------------------------

    def state(self) -> str:
        """"new" (nothing yet), "plain" (an unencrypted database to upgrade), "encrypted",
        or raises VaultError for a folder that must not be touched. Finishes or forgets an
        upgrade or set-up that a crash interrupted (storage/upgrade.py)."""
        from storage.db import is_plain_sqlite
        from storage.upgrade import recover_interrupted

        recover_interrupted(self)
        db_exists = self.database_path.exists() and self.database_path.stat().st_size > 0
        key_exists = self.keyfile_path.exists()
        if key_exists and not db_exists:
            raise VaultError("database_missing")
        if key_exists:
            self.read()  # a damaged key file is said before anyone types a password
            return "encrypted"
        if not db_exists:
            return "new"
        if is_plain_sqlite(self.database_path):
            return "plain"
        raise VaultError("keyfile_missing")

    def read(self) -> kf.KeyFile:
        try:
            data = kf.read(self.keyfile_path)
        except kf.KeyFileError as exc:
            raise VaultError("keyfile_damaged", str(exc)) from exc
        for wrap in data.body["wraps"].values():
            if wrap["n"] > MAX_KDF_N or wrap["r"] > 64 or wrap["p"] > 16:
                raise VaultError("keyfile_damaged", "scrypt parameters out of range")
        return data

    def usernames(self) -> list[str]:
        return sorted(self.read().body["wraps"])

    def has_recovery(self) -> bool:
        return self.read().body.get("recovery") is not None

    # -- making it -----------------------------------------------------------------------------

    def create(self, username: str, password: str) -> tuple[bytes, str]:
        """A new key file for a new (or upgraded) database: a random database key wrapped for
        `username` and for a new recovery key. Returns (key, recovery key text). Use it on
        `vault.pending()`, then `activate()` once the database exists."""
        if self.final_path.exists():
            raise VaultError("already_set_up")
        private_dir(self.folder)
        key = crypto.new_database_key()
        body = {"database_id": secrets.token_hex(16), "generation": 0,
                "max_failures": MAX_FAILURES, "lock_minutes": LOCK_MINUTES,
                "chain_length": CHAIN_LENGTH, "wraps": {}, "recovery": None}
        data = kf.KeyFile(body=body)
        _set_wrap(data, key, normalize_username(username), password)
        recovery = _set_recovery(data, key)
        self._commit(data, key)
        return key, recovery

    @_exclusive
    def new_recovery_key(self, key: bytes) -> str:
        """Replace the recovery key (the old one stops working); shown once."""
        data = self._authentic(key)
        recovery = _set_recovery(data, key)
        self._commit(data, key)
        return recovery

    @_exclusive
    def drop_recovery(self, key: bytes) -> None:
        """No recovery key until an admin logs in (an upgrade done by a non-admin)."""
        data = self._authentic(key)
        data.body["recovery"] = None
        self._commit(data, key)

    # -- unlocking -----------------------------------------------------------------------------

    def unlock(self, username: str, password: str, now: datetime) -> Unlock:
        """Check a log-in at `now`; on success the database key. A refusal never says whether
        the username or the password was wrong. Raises VaultError for a damaged key file."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        username = normalize_username(username)
        if not username or not password:
            return Unlock(False, "empty", MESSAGES["empty"])
        data = self.read()
        body = data.body
        wrap = body["wraps"].get(username)
        if wrap is None:
            crypto.password_kek(password, _DUMMY_SALT)  # as slow as a real check
            return _refused()
        failures, locked_until = self._lockout(data, username)
        if failures >= body["chain_length"]:
            return Unlock(False, "exhausted", MESSAGES["exhausted"],
                          locked_until=datetime.max.replace(tzinfo=UTC))
        if locked_until is not None and now < locked_until:
            return _locked(locked_until)
        try:
            key = crypto.unwrap(_kek(wrap, password), wrap, _associated(body, username))
        except (crypto.UnwrapError, ValueError):
            return self._failed(data, username, now)
        if not crypto.mac_ok(key, data.canonical_body(), data.mac):
            raise VaultError("keyfile_damaged", "body does not match its mac")
        if failures or wrap["kind"] == "legacy":
            with self.lock():
                fresh = self.read()  # as it is now, not as it was before scrypt ran
                if fresh.body["generation"] == body["generation"]:
                    if wrap["kind"] == "legacy":  # first log-in after the upgrade: a real wrap
                        _set_wrap(fresh, key, username, password)
                    else:
                        _reset_chain(fresh, username)
                    self._commit(fresh, key)
        return Unlock(True, "ok", "", key=key, username=username, failures_before=failures)

    def unlock_recovery(self, text: str) -> bytes:
        """The database key from the recovery key; VaultError("bad_recovery") otherwise."""
        data = self.read()
        sealed = data.body.get("recovery")
        if sealed is None:
            raise VaultError("bad_recovery", "no recovery wrap")
        try:
            kek = crypto.recovery_kek(text, crypto.unb64(sealed["salt"]))
            key = crypto.unwrap(kek, sealed, f"{data.body['database_id']}:recovery")
        except (crypto.UnwrapError, ValueError) as exc:
            raise VaultError("bad_recovery") from exc
        if not crypto.mac_ok(key, data.canonical_body(), data.mac):
            raise VaultError("keyfile_damaged", "body does not match its mac")
        return key

    def lockout(self, username: str, now: datetime) -> Lockout:
        """Failures since the last good log-in and the lock in force at `now` (for lists)."""
        data = self.read()
        username = normalize_username(username)
        if username not in data.body["wraps"]:
            return Lockout(0, None)
        try:
            failures, until = self._lockout(data, username)
        except VaultError:
            return Lockout(0, datetime.max.replace(tzinfo=UTC))
        if failures >= data.body["chain_length"]:
            return Lockout(failures, datetime.max.replace(tzinfo=UTC))
        return Lockout(failures, until if until is not None and now < until else None)

    # -- changes by someone who unlocked -------------------------------------------------------

    @_exclusive
    def set_password(self, key: bytes, username: str, password: str) -> None:
        """Wrap the key for `username` with `password` (a new operator, a changed or reset
        password); any lockout of that account is cleared."""
        data = self._authentic(key)
        _set_wrap(data, key, normalize_username(username), password)
        self._commit(data, key)

    @_exclusive
    def remove(self, key: bytes, username: str) -> None:
        """A deactivated operator: the wrap goes, so the password opens nothing any more."""
        data = self._authentic(key)
        username = normalize_username(username)
        data.body["wraps"].pop(username, None)
        data.lockout.pop(username, None)
        self._commit(data, key)

    @_exclusive
    def apply_limits(self, key: bytes, max_failures: int, lock_minutes: int) -> None:
        """The device's lockout settings (login_max_failures, login_lockout_minutes), copied
        into the key file, where log-in reads them before the database opens."""
        data = self._authentic(key)
        body = data.body
        max_failures, lock_minutes = max(1, int(max_failures)), max(0, int(lock_minutes))
        if (body["max_failures"], body["lock_minutes"]) == (max_failures, lock_minutes):
            return
        body["max_failures"], body["lock_minutes"] = max_failures, lock_minutes
        body["chain_length"] = max(CHAIN_LENGTH, 10 * max_failures)
        for username in body["wraps"]:  # a new chain length means new chains
            _reset_chain(data, username)
        self._commit(data, key)

    @_exclusive
    def clear_lockout(self, key: bytes, username: str) -> None:
        data = self._authentic(key)
        username = normalize_username(username)
        if username in data.body["wraps"]:
            _reset_chain(data, username)
            self._commit(data, key)

    @_exclusive
    def add_legacy(self, key: bytes, username: str, stored_hash: str) -> None:
        """Upgrade of a plain database: the key wrapped under a key derived from the operator's
        existing scrypt log-in hash, so the old password keeps working; replaced by a real
        wrap at that operator's first log-in (see storage/upgrade.py)."""
        n, r, p, salt, digest = passwords.split_hash(stored_hash)
        data = self._authentic(key)
        username = normalize_username(username)
        kek = crypto.hkdf(crypto.unb64(digest), "jamsos-legacy-wrap")
        sealed = crypto.wrap(kek, key, _associated(data.body, username))
        data.body["wraps"][username] = {"kind": "legacy", "salt": salt, "n": n,
                                        "r": r, "p": p, **sealed}
        _reset_chain(data, username)
        self._commit(data, key)

    # -- helpers -------------------------------------------------------------------------------

    def _authentic(self, key: bytes) -> kf.KeyFile:
        data = self.read()
        if not crypto.mac_ok(key, data.canonical_body(), data.mac):
            raise VaultError("keyfile_damaged", "body does not match its mac")
        return data

    def _commit(self, data: kf.KeyFile, key: bytes) -> None:
        data.body["generation"] += 1
        data.mac = crypto.mac(key, data.canonical_body())
        kf.write(self.keyfile_path, data)

    def _lockout(self, data: kf.KeyFile, username: str) -> tuple[int, datetime | None]:
        """(failures, lock end or None); VaultError when the entry is off its chain."""
        body = data.body
        entry = data.lockout.get(username)
        anchor = body["wraps"][username]["anchor"]
        failures = crypto.chain_failures(entry["link"], anchor, body["chain_length"]) \
            if entry else None
        if failures is None:
            raise VaultError("keyfile_damaged", "lockout state off its chain")
        until = None
        if failures and failures % body["max_failures"] == 0:
            until = _parse(entry.get("locked_until", ""))
            if until is None:  # a lock whose end was removed stays closed
                raise VaultError("keyfile_damaged", "lock without its end")
        return failures, until

    def _failed(self, data: kf.KeyFile, username: str, now: datetime) -> Unlock:
        with self.lock():
            fresh = self.read()  # a failure counted meanwhile by another process is kept
            wrap = fresh.body["wraps"].get(username)
            if wrap is None or wrap["anchor"] != data.body["wraps"][username]["anchor"]:
                return _refused()  # the account was changed meanwhile: nothing to count on
            return self._count_failure(fresh, username, now)

    def _count_failure(self, data: kf.KeyFile, username: str, now: datetime) -> Unlock:
        entry = data.lockout[username]
        entry["link"] = crypto.chain_step(entry["link"])
        failures = crypto.chain_failures(entry["link"], data.body["wraps"][username]["anchor"],
                                         data.body["chain_length"]) or 0
        if failures % data.body["max_failures"] == 0:
            until = now + timedelta(minutes=data.body["lock_minutes"])
            entry["locked_until"] = utc_iso(until)
            kf.write(self.keyfile_path, data)
            if failures >= data.body["chain_length"]:
                return Unlock(False, "exhausted", MESSAGES["exhausted"],
                              locked_until=datetime.max.replace(tzinfo=UTC))
            return _locked(until)
        entry["locked_until"] = ""
        kf.write(self.keyfile_path, data)
        return _refused()



def _kek(wrap: dict, password: str) -> bytes:
    salt = crypto.unb64(wrap["salt"])
    if wrap["kind"] == "legacy":
        digest = crypto.password_kek(password, salt, wrap["n"], wrap["r"], wrap["p"])
        digest = digest[:passwords.HASH_BYTES]
        return crypto.hkdf(digest, "jamsos-legacy-wrap")
    return crypto.password_kek(password, salt, wrap["n"], wrap["r"], wrap["p"])


def _set_wrap(data: kf.KeyFile, key: bytes, username: str, password: str) -> None:
    salt = secrets.token_bytes(crypto.SALT_BYTES)
    kek = crypto.password_kek(password, salt)
    sealed = crypto.wrap(kek, key, _associated(data.body, username))
    data.body["wraps"][username] = {"kind": "password", "salt": crypto.b64(salt),
                                    "n": crypto.KDF_N, "r": crypto.KDF_R, "p": crypto.KDF_P,
                                    "anchor": "", **sealed}
    _reset_chain(data, username)


def _reset_chain(data: kf.KeyFile, username: str) -> None:
    first, anchor = crypto.chain_start(data.body["chain_length"])
    data.body["wraps"][username]["anchor"] = anchor
    data.lockout[username] = {"link": first, "locked_until": ""}


def _set_recovery(data: kf.KeyFile, key: bytes) -> str:
    text = crypto.new_recovery_key()
    salt = secrets.token_bytes(crypto.SALT_BYTES)
    sealed = crypto.wrap(crypto.recovery_kek(text, salt), key,
                         f"{data.body['database_id']}:recovery")
    data.body["recovery"] = {"salt": crypto.b64(salt), **sealed}
    return text


def _refused() -> Unlock:
    return Unlock(False, "bad_credentials", MESSAGES["bad_credentials"])


def _locked(until: datetime) -> Unlock:
    return Unlock(False, "locked", MESSAGES["locked"].format(until=show_clock(until)),
                  locked_until=until)


# --- opening the database -----------------------------------------------------------------------


def open_registry(vault: Vault, key: bytes, *, readonly: bool = False,
                  device_id: str | None = None):
    """The folder's encrypted Registry, opened with `key` (from an unlock). Never creates a
    database: a missing one is VaultError("database_missing"); one the key does not open is
    StorageError("key_mismatch"), and nothing is changed."""
    from storage.db import StorageError
    from storage.registry import Registry

    if vault.state() != "encrypted":
        raise VaultError("not_set_up")
    try:
        if readonly:
            return Registry.open_readonly(vault.database_path, key=key, vault=vault)
        return Registry.open(vault.database_path, key=key, vault=vault, device_id=device_id)
    except StorageError as exc:
        if exc.code == "corrupt" and "not a database" in exc.detail:
            raise StorageError("key_mismatch", exc.detail) from exc
        raise
