"""The operators who may use this device: accounts, passwords, log-in and lockout (DESIGN.md §7).

A field laptop gets lost; whoever finds it must not open the registry. Each operator has a
username (unique whatever its case), a display name (recorded on saves), a role and a password
kept only as a salted `hashlib.scrypt` hash. After `login_max_failures` failed log-ins in a row
(a declared setting, 5) the account is locked for `login_lockout_minutes` (15); a successful
log-in resets the count. The time is always passed in (`now`, an aware datetime), never read
here, so tests can move it. A refusal never says whether the username or the password was wrong.
Log-ins, failures, lockouts and every change to an account are written to the registry's one
audit chain (`Registry.append_audit`), inside the same transaction as the change.

Used through `registry.operators` (an `Operators` bound to the registry's writer connection).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from storage.db import storage_errors
from storage.passwords import hash_password, verify_password  # noqa: F401 (this module's API)
from storage.refusals import Refusal
from storage.vocabulary import show_clock, utc_iso

if TYPE_CHECKING:
    from storage.registry import Registry

ROLES = ("petugas", "verifikator", "loket_kartu", "admin")
ROLE_LABELS = {
    "petugas": "Petugas pendata",
    "verifikator": "Verifikator",
    "loket_kartu": "Petugas loket kartu",
    "admin": "Admin",
}
ROLE_LABELS_EN = {
    "petugas": "Enumerator",
    "verifikator": "Verifier",
    "loket_kartu": "Card desk",
    "admin": "Admin",
}
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256  # scrypt hashes any length; this bounds the work a typed text can cost
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")


MESSAGES = {
    "bad_credentials": "Nama pengguna atau kata sandi salah.",
    "locked": "Terlalu banyak percobaan masuk yang gagal. Akun ini dikunci sampai pukul {until}. "
              "Coba lagi nanti, atau minta admin membuka kuncinya.",
    "empty": "Isi nama pengguna dan kata sandi.",
    "password_short": f"Kata sandi paling sedikit {MIN_PASSWORD_LENGTH} karakter.",
    "password_long": f"Kata sandi paling banyak {MAX_PASSWORD_LENGTH} karakter.",
    "password_mismatch": "Kedua kata sandi tidak sama.",
    "username_invalid": "Nama pengguna 3–32 karakter: huruf kecil, angka, titik, garis bawah "
                        "atau tanda hubung, diawali huruf atau angka.",
    "username_taken": "Nama pengguna ini sudah dipakai.",
    "display_name_empty": "Isi nama lengkap petugas.",
    "role_invalid": "Peran tidak dikenal. Pilih: " + ", ".join(ROLES) + ".",
    "first_must_be_admin": "Akun petugas yang pertama harus admin.",
    "not_found": "Akun petugas tidak ditemukan.",
    "last_admin": "Admin aktif terakhir tidak dapat dinonaktifkan.",
    "inactive": "Akun petugas ini sudah nonaktif.",
    "wrong_password": "Kata sandi lama salah.",
    "already_set_up": "Perangkat ini sudah memiliki akun petugas. Masuk dengan akun yang ada.",
}


class OperatorError(Refusal):
    """A refused account change; `str(error)` is the Indonesian message, `.code` is stable."""

    MESSAGES = MESSAGES


@dataclass(frozen=True)
class Operator:
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    failed_attempts: int
    locked_until: datetime | None
    created_at: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


@dataclass(frozen=True)
class LoginResult:
    """`ok` with the operator, or a refusal: `code` is "bad_credentials" (unknown username,
    wrong password or inactive account: never told apart), "locked" (with `locked_until`) or
    "empty". `message` is what the operator sees, in Indonesian."""

    ok: bool
    code: str
    message: str
    operator: Operator | None = None
    locked_until: datetime | None = None


# --- passwords ---------------------------------------------------------------------------------


def check_password(password: str, repeated: str | None = None) -> None:
    """OperatorError unless `password` is acceptable (and equal to `repeated` when given)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise OperatorError("password_short")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise OperatorError("password_long")
    if repeated is not None and repeated != password:
        raise OperatorError("password_mismatch")


def normalize_username(username: str) -> str:
    return (username or "").strip().casefold()


# A hash of nothing in particular, checked when the username is unknown, so that a refusal
# takes as long whether or not the account exists.
_DUMMY_HASH = hash_password(secrets.token_hex(8))


def _parse(text: str) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now


# --- the accounts ------------------------------------------------------------------------------

_COLUMNS = ("id, username, display_name, role, active, failed_attempts, locked_until, "
            "created_at")


class Operators:
    """The operator accounts of one registry. Every method that writes runs in one transaction
    with its audit entry. `by` names who made a change (an operator's username, or "cli:<user>"
    for the command line), for the audit log."""

    def __init__(self, registry: Registry):
        self.registry = registry
        self._db = registry._db
        # An encrypted registry's key file (storage/vault.py): passwords wrap the database key
        # there, and log-in and lockout are checked there. None: a plain database (tests).
        self.vault = getattr(registry, "vault", None)

    # -- reading --------------------------------------------------------------------------------

    def count(self, *, active_only: bool = True) -> int:
        sql = "SELECT count(*) FROM operators" + (" WHERE active = 1" if active_only else "")
        with storage_errors():
            return self._db.execute(sql).fetchone()[0]

    def list(self, *, include_inactive: bool = True) -> list[Operator]:
        sql = f"SELECT {_COLUMNS} FROM operators"
        if not include_inactive:
            sql += " WHERE active = 1"
        with storage_errors():
            rows = [_operator(r) for r in self._db.execute(sql + " ORDER BY username")]
        return [self._with_lockout(op) for op in rows]

    def get(self, username: str) -> Operator | None:
        with storage_errors():
            row = self._db.execute(f"SELECT {_COLUMNS} FROM operators WHERE username = ?",
                                  [normalize_username(username)]).fetchone()
        return self._with_lockout(_operator(row)) if row else None

    def _with_lockout(self, op: Operator) -> Operator:
        """With a key file, the failure count and lock it holds (the table's stay zero)."""
        if self.vault is None or not op.active:
            return op
        from dataclasses import replace

        state = self.vault.lockout(op.username, datetime.now(UTC))
        return replace(op, failed_attempts=state.failures, locked_until=state.locked_until)

    def _require(self, username: str) -> Operator:
        found = self.get(username)
        if found is None:
            raise OperatorError("not_found")
        return found

    # -- changes --------------------------------------------------------------------------------

    def add(self, username: str, display_name: str, role: str, password: str, *,
            now: datetime, by: str = "") -> Operator:
        """A new active operator. The first operator of a device must be an admin."""
        now = _aware(now)
        username = normalize_username(username)
        display_name = " ".join((display_name or "").split())
        if not USERNAME_RE.match(username):
            raise OperatorError("username_invalid")
        if not display_name:
            raise OperatorError("display_name_empty")
        if role not in ROLES:
            raise OperatorError("role_invalid")
        check_password(password)
        digest = hash_password(password)  # slow: outside the transaction
        with storage_errors(), self._db.atomic():
            if self._db.execute("SELECT 1 FROM operators WHERE username = ?",
                               [username]).fetchone():
                raise OperatorError("username_taken")
            if role != "admin" and not self._db.execute(
                    "SELECT 1 FROM operators LIMIT 1").fetchone():
                raise OperatorError("first_must_be_admin")
            self._db.execute(
                "INSERT INTO operators (username, display_name, role, password_hash, "
                "created_at, password_changed_at) VALUES (?, ?, ?, ?, ?, ?)",
                [username, display_name, role, digest, utc_iso(now), utc_iso(now)],
            )
            self._audit(by or username, "operator.create", username,
                        {"role": role, "display_name": display_name}, now)
        if self.vault is not None:  # the new operator's password opens the database too
            self.vault.set_password(self.registry.key, username, password)
        return self._require(username)

    def change_password(self, username: str, new_password: str, *, now: datetime, by: str = "",
                        old_password: str | None = None) -> None:
        """Set a new password. With `old_password` (an operator changing their own), the old
        one must match; without it (an admin's reset or the command line), it is a reset.
        Either way the failure count and any lock are cleared."""
        now = _aware(now)
        check_password(new_password)
        current = self._require(username)
        if old_password is not None and not verify_password(old_password,
                                                            self._hash_of(current.username)):
            raise OperatorError("wrong_password")
        digest = hash_password(new_password)
        action = "operator.password_change" if old_password is not None else \
            "operator.password_reset"
        with storage_errors(), self._db.atomic():
            self._db.execute(
                "UPDATE operators SET password_hash = ?, password_changed_at = ?, "
                "failed_attempts = 0, locked_until = '' WHERE id = ?",
                [digest, utc_iso(now), current.id],
            )
            self._audit(by or current.username, action, current.username, {}, now)
        if self.vault is not None and current.active:  # re-wrap: the old password opens nothing
            self.vault.set_password(self.registry.key, current.username, new_password)

    def deactivate(self, username: str, *, now: datetime, by: str = "") -> None:
        """The account can no longer log in (kept for the audit trail and saved records)."""
        now = _aware(now)
        current = self._require(username)
        if not current.active:
            raise OperatorError("inactive")
        with storage_errors(), self._db.atomic():
            if current.is_admin and self._db.execute(
                    "SELECT count(*) FROM operators WHERE role = 'admin' AND active = 1"
            ).fetchone()[0] <= 1:
                raise OperatorError("last_admin")
            if self.vault is not None:  # first, so a crash leaves no password that opens it
                self.vault.remove(self.registry.key, current.username)
            self._db.execute("UPDATE operators SET active = 0 WHERE id = ?", [current.id])
            self._audit(by or current.username, "operator.deactivate", current.username, {}, now)

    def unlock(self, username: str, *, now: datetime, by: str = "") -> None:
        """Clear a lockout and the failure count."""
        now = _aware(now)
        current = self._require(username)
        with storage_errors(), self._db.atomic():
            self._db.execute("UPDATE operators SET failed_attempts = 0, locked_until = '' "
                            "WHERE id = ?", [current.id])
            self._audit(by or current.username, "operator.unlock", current.username,
                        {"was_locked": current.locked_at(now)}, now)
        if self.vault is not None:
            self.vault.clear_lockout(self.registry.key, current.username)

    def record_event(self, username: str, action: str, *, now: datetime,
                     detail: dict | None = None) -> None:
        """An audited session event of a logged-in operator (log-out, screen locked)."""
        now = _aware(now)
        with storage_errors(), self._db.atomic():
            self._audit(normalize_username(username), action, normalize_username(username),
                        detail or {}, now)

    # -- logging in -----------------------------------------------------------------------------

    def log_in(self, username: str, password: str, now: datetime) -> LoginResult:
        """Check a log-in at `now`. Every outcome is audited (an unknown username is recorded
        without the text typed: it may be a password typed in the wrong field)."""
        now = _aware(now)
        username = normalize_username(username)
        if not username or not password:
            return LoginResult(False, "empty", MESSAGES["empty"])
        if self.vault is not None:
            return self._log_in_with_key(username, password, now)
        max_failures = int(self.registry.get_setting("login_max_failures"))
        lock_minutes = int(self.registry.get_setting("login_lockout_minutes"))
        with storage_errors():
            row = self._db.execute(
                f"SELECT {_COLUMNS}, password_hash FROM operators WHERE username = ?",
                [username]).fetchone()
        if row is None:
            verify_password(password, _DUMMY_HASH)  # same time as a real check
            with storage_errors(), self._db.atomic():
                self._audit("", "operator.login_failed", "", {"known": False}, now)
            return _refused()
        account, stored = _operator(row[:-1]), row[-1]
        if account.locked_at(now):
            with storage_errors(), self._db.atomic():
                self._audit(account.username, "operator.login_refused_locked", account.username,
                            {"locked_until": utc_iso(account.locked_until)}, now)
            return _locked(account.locked_until)
        password_ok = verify_password(password, stored)
        with storage_errors(), self._db.atomic():
            if password_ok and account.active:
                self._db.execute("UPDATE operators SET failed_attempts = 0, locked_until = '' "
                                "WHERE id = ?", [account.id])
                self._audit(account.username, "operator.login", account.username, {}, now)
                return LoginResult(True, "ok", "", operator=self._require(account.username))
            if not account.active:
                self._audit(account.username, "operator.login_failed", account.username,
                            {"known": True, "inactive": True}, now)
                return _refused()
            failures = account.failed_attempts + 1
            if failures >= max_failures:
                until = now + timedelta(minutes=lock_minutes)
                self._db.execute("UPDATE operators SET failed_attempts = 0, locked_until = ? "
                                "WHERE id = ?", [utc_iso(until), account.id])
                self._audit(account.username, "operator.login_failed", account.username,
                            {"known": True, "failures": failures}, now)
                self._audit(account.username, "operator.locked", account.username,
                            {"until": utc_iso(until), "failures": failures}, now)
                return _locked(until)
            self._db.execute("UPDATE operators SET failed_attempts = ? WHERE id = ?",
                            [failures, account.id])
            self._audit(account.username, "operator.login_failed", account.username,
                        {"known": True, "failures": failures}, now)
            return _refused()

    def _log_in_with_key(self, username: str, password: str, now: datetime) -> LoginResult:
        """An encrypted registry: the password must unwrap the database key from the key file,
        whose lockout chain counts the failures; the outcome is audited here."""
        outcome = self.vault.unlock(username, password, now)
        return self.after_unlock(outcome, now)

    def after_unlock(self, outcome, now: datetime) -> LoginResult:
        """The LoginResult and audit entries for a storage.vault.Unlock (also used at start-up,
        where the unlock happened before the database was open)."""
        now = _aware(now)
        username = outcome.username
        if outcome.ok:
            account = self.get(username)
            with storage_errors(), self._db.atomic():
                if outcome.failures_before:
                    self._audit(username, "operator.login_failed", username,
                                {"known": True, "failures": outcome.failures_before}, now)
                if account is None or not account.active:
                    self._audit(username, "operator.login_failed", username,
                                {"known": account is not None, "inactive": True}, now)
                    return _refused()
                self._audit(username, "operator.login", username, {}, now)
            if self.vault is not None:  # the lockout settings, where log-in reads them
                self.vault.apply_limits(self.registry.key,
                                        self.registry.get_setting("login_max_failures"),
                                        self.registry.get_setting("login_lockout_minutes"))
            return LoginResult(True, "ok", "", operator=account)
        with storage_errors(), self._db.atomic():
            if outcome.code in ("locked", "exhausted"):
                self._audit("", "operator.login_refused_locked", "", {}, now)
            elif outcome.code == "bad_credentials":
                self._audit("", "operator.login_failed", "", {}, now)
        return LoginResult(False, outcome.code, outcome.message,
                           locked_until=outcome.locked_until)

    # -- helpers --------------------------------------------------------------------------------

    def _hash_of(self, username: str) -> str:
        with storage_errors():
            row = self._db.execute("SELECT password_hash FROM operators WHERE username = ?",
                                  [normalize_username(username)]).fetchone()
        return row[0] if row else _DUMMY_HASH

    def _audit(self, actor: str, action: str, username: str, detail: dict,
               now: datetime) -> None:
        self.registry.append_audit(actor, action, "operator", username, detail,
                                   now.isoformat(timespec="seconds"))


def _operator(row: tuple) -> Operator:
    return Operator(id=row[0], username=row[1], display_name=row[2], role=row[3],
                    active=bool(row[4]), failed_attempts=row[5], locked_until=_parse(row[6]),
                    created_at=row[7])


def _refused() -> LoginResult:
    return LoginResult(False, "bad_credentials", MESSAGES["bad_credentials"])


def _locked(until: datetime) -> LoginResult:
    return LoginResult(False, "locked", MESSAGES["locked"].format(until=show_clock(until)),
                       locked_until=until)


__all__ = [
    "ROLES",
    "ROLE_LABELS",
    "LoginResult",
    "Operator",
    "OperatorError",
    "Operators",
    "check_password",
    "hash_password",
    "verify_password",
]
