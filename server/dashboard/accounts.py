"""Officials' accounts for the dashboard: scrypt passwords, lockout, sessions and CSRF tokens.

Accounts are people at Disnaker or the mayor's office, never devices: they live in their own
table and are made, reset and disabled only by the server admin's command line. Passwords are
hashed like the desktop app's operators (`storage.operators`: salted scrypt). After
`MAX_FAILURES` wrong passwords in a row the account is locked for `LOCK_MINUTES`; a new password
set by the admin unlocks it.

A session is a random token in an HttpOnly cookie; the database keeps only its SHA-256. Each
session carries its own CSRF token, which every form that changes something sends back.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from server.store import Store
from storage.passwords import hash_password, verify_password
from storage.refusals import Refusal
from storage.vocabulary import utc_iso

ROLES = {
    "pimpinan": "Pimpinan (angka agregat saja)",
    "disnaker": "Disnaker (agregat dan daftar orang, NIK disamarkan)",
}
MAX_FAILURES = 5
LOCK_MINUTES = 15
SESSION_IDLE = timedelta(minutes=30)  # a session unused this long has expired
SESSION_MAX = timedelta(hours=12)  # and none outlives a working day
MIN_PASSWORD = 10
MAX_PASSWORD = 256
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")
_DUMMY_HASH = hash_password(secrets.token_hex(8))  # checked for unknown names: same time spent

MESSAGES = {
    "bad_credentials": "Nama pengguna atau kata sandi salah.",
    "locked": "Terlalu banyak percobaan masuk yang gagal. Akun ini dikunci sampai {until} UTC. "
              "Coba lagi nanti, atau minta admin server mengganti kata sandinya.",
    "disabled": "Nama pengguna atau kata sandi salah.",  # never told apart from a wrong password
    "username_invalid": "Nama pengguna 3–32 karakter: huruf kecil, angka, titik, garis bawah "
                        "atau tanda hubung.",
    "username_taken": "Nama pengguna ini sudah dipakai.",
    "not_found": "Akun dasbor tidak ditemukan.",
    "role_invalid": "Peran tidak dikenal. Pilih: " + ", ".join(ROLES) + ".",
    "password_short": f"Kata sandi paling sedikit {MIN_PASSWORD} karakter.",
    "password_long": f"Kata sandi paling banyak {MAX_PASSWORD} karakter.",
    "name_empty": "Isi nama lengkap pejabat.",
}


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str

    @property
    def sees_people(self) -> bool:
        """Only Disnaker sees lists of people (with masked NIKs); pimpinan sees aggregates."""
        return self.role == "disnaker"


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str


class AccountError(Refusal):
    """A refused log-in or account change; `.code` is stable, str() is Indonesian."""

    MESSAGES = MESSAGES


def _now() -> datetime:
    return datetime.now(UTC)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError("password_short")
    if len(password) > MAX_PASSWORD:
        raise AccountError("password_long")


# --- the admin's command line -------------------------------------------------------------


def add_user(store: Store, username: str, display_name: str, role: str, password: str) -> User:
    username = username.strip().casefold()
    if not USERNAME_RE.match(username):
        raise AccountError("username_invalid")
    if role not in ROLES:
        raise AccountError("role_invalid")
    if not display_name.strip():
        raise AccountError("name_empty")
    _check_password(password)
    now = utc_iso(_now(), precise=True)
    with store.write() as db:
        if db.execute("SELECT 1 FROM dashboard_users WHERE username = ?", [username]).fetchone():
            raise AccountError("username_taken")
        db.execute(
            "INSERT INTO dashboard_users (username, display_name, role, password_hash, "
            "created_at, updated_at) VALUES (?,?,?,?,?,?)",
            [username, " ".join(display_name.split()), role, hash_password(password), now, now],
        )
    return User(username, display_name, role)


def set_password(store: Store, username: str, password: str) -> None:
    """A new password; also lifts a lockout and ends the account's open sessions."""
    _check_password(password)
    with store.write() as db:
        found = db.execute(
            "UPDATE dashboard_users SET password_hash = ?, failed_attempts = 0, locked_until = '',"
            " updated_at = ? WHERE username = ?",
            [hash_password(password), utc_iso(_now(), precise=True), username.strip().casefold()],
        ).rowcount
        if not found:
            raise AccountError("not_found")
        db.execute("DELETE FROM dashboard_sessions WHERE username = ?", [username])


def disable_user(store: Store, username: str) -> None:
    """The account can no longer log in; its sessions end now."""
    username = username.strip().casefold()
    now = utc_iso(_now(), precise=True)
    with store.write() as db:
        found = db.execute(
            "UPDATE dashboard_users SET disabled_at = ?, updated_at = ? WHERE username = ? "
            "AND disabled_at = ''", [now, now, username],
        ).rowcount
        if not found:
            raise AccountError("not_found")
        db.execute("DELETE FROM dashboard_sessions WHERE username = ?", [username])


def list_users(store: Store) -> list[dict]:
    rows = store.reader().execute(
        "SELECT username, display_name, role, failed_attempts, locked_until, disabled_at "
        "FROM dashboard_users ORDER BY username"
    ).fetchall()
    keys = ("username", "display_name", "role", "failed_attempts", "locked_until", "disabled_at")
    return [dict(zip(keys, r, strict=True)) for r in rows]


# --- log-in and sessions ------------------------------------------------------------------


def log_in(store: Store, username: str, password: str) -> tuple[Session, str]:
    """(session, cookie token) or AccountError. Wrong password, unknown name and a disabled
    account get the same answer; a locked account says until when."""
    username = (username or "").strip().casefold()
    now = _now()
    row = store.reader().execute(
        "SELECT display_name, role, password_hash, failed_attempts, locked_until, disabled_at "
        "FROM dashboard_users WHERE username = ?", [username],
    ).fetchone()
    if row is None:
        verify_password(password or "", _DUMMY_HASH)
        raise AccountError("bad_credentials")
    name, role, stored, failures, locked_until, disabled_at = row
    if locked_until and now < datetime.fromisoformat(locked_until):
        raise AccountError("locked", until=locked_until[:16].replace("T", " "))
    if disabled_at or not verify_password(password or "", stored):
        _count_failure(store, username, failures, now)
        raise AccountError("bad_credentials")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with store.write() as db:
        db.execute("UPDATE dashboard_users SET failed_attempts = 0, locked_until = '' "
                   "WHERE username = ?", [username])
        stamp = utc_iso(now, precise=True)
        db.execute("DELETE FROM dashboard_sessions WHERE expires_at < ?", [stamp])
        db.execute(
            "INSERT INTO dashboard_sessions (token_hash, username, csrf_token, created_at, "
            "last_seen_at, expires_at) VALUES (?,?,?,?,?,?)",
            [_token_hash(token), username, csrf, stamp, stamp,
             utc_iso(now + SESSION_MAX, precise=True)],
        )
    return Session(User(username, name, role), csrf), token


def _count_failure(store: Store, username: str, failures: int, now: datetime) -> None:
    failures += 1
    until = now + timedelta(minutes=LOCK_MINUTES)
    locked = utc_iso(until, precise=True) if failures >= MAX_FAILURES else ""
    with store.write() as db:
        db.execute(
            "UPDATE dashboard_users SET failed_attempts = ?, locked_until = ? WHERE username = ?",
            [0 if locked else failures, locked, username],
        )
    if locked:
        raise AccountError("locked", until=locked[:16].replace("T", " "))


def session_of(store: Store, token: str | None) -> Session | None:
    """The live session of a cookie token, refreshed; None when missing, expired or ended."""
    if not token or len(token) > 100:
        return None
    now = _now()
    key = _token_hash(token)
    row = store.reader().execute(
        "SELECT s.username, u.display_name, u.role, s.csrf_token, s.last_seen_at, s.expires_at "
        "FROM dashboard_sessions s JOIN dashboard_users u ON u.username = s.username "
        "WHERE s.token_hash = ? AND u.disabled_at = ''", [key],
    ).fetchone()
    if row is None:
        return None
    username, name, role, csrf, last_seen, expires = row
    if now >= datetime.fromisoformat(expires) or \
            now - datetime.fromisoformat(last_seen) >= SESSION_IDLE:
        log_out(store, token)
        return None
    if now - datetime.fromisoformat(last_seen) > timedelta(minutes=1):  # fewer writes
        with store.write() as db:
            db.execute("UPDATE dashboard_sessions SET last_seen_at = ? WHERE token_hash = ?",
                       [utc_iso(now, precise=True), key])
    return Session(User(username, name, role), csrf)


def log_out(store: Store, token: str | None) -> None:
    if token:
        with store.write() as db:
            db.execute("DELETE FROM dashboard_sessions WHERE token_hash = ?", [_token_hash(token)])


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(expected, given)
