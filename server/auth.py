"""Device enrolment and tokens (docs/SYNC_API.md §3).

Enrolment codes and tokens are random secrets; the database keeps only their SHA-256 hashes, so
a copy of the server's database does not let anyone act as a device. Both are high-entropy, so a
plain hash (no slow KDF) is enough.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from server.errors import ApiError
from server.schemas import ROLES
from server.store import Store
from storage.ids import new_id
from storage.vocabulary import utc_now_iso

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud and typed
CODE_GROUPS, CODE_GROUP_LEN = 3, 4
CODE_LIFETIME = timedelta(days=7)
ENROL_ANSWER_LIFETIME = timedelta(minutes=15)  # a retry after a lost answer gets the same token


@dataclass(frozen=True)
class Device:
    id: str
    name: str
    role: str

    @property
    def label(self) -> str:
        return self.name


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normalize_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def create_enrol_code(store: Store, role: str, note: str = "") -> str:
    """A one-time code for one device, e.g. "K7QM-3XTP-WA9D"; shown to the admin once."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    groups = [
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LEN))
        for _ in range(CODE_GROUPS)
    ]
    code = "-".join(groups)
    expires = datetime.now(UTC) + CODE_LIFETIME
    with store.write() as db:
        db.execute(
            "INSERT INTO enrol_codes (code_hash, role, note, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [_hash(normalize_code(code)), role, note, utc_now_iso(precise=True),
             expires.isoformat()],
        )
    return code


def _seal(request_id: str, token: str) -> str:
    """The token sealed under a key derived from the device's request id (AES-GCM)."""
    key = hashlib.sha256(("jamsos-enrol-answer:" + request_id).encode("utf-8")).digest()
    nonce = secrets.token_bytes(12)
    return (nonce + AESGCM(key).encrypt(nonce, token.encode("utf-8"), None)).hex()


def _unseal(request_id: str, sealed: str) -> str | None:
    key = hashlib.sha256(("jamsos-enrol-answer:" + request_id).encode("utf-8")).digest()
    raw = bytes.fromhex(sealed)
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], None).decode("utf-8")
    except (InvalidTag, ValueError):
        return None


def enrol(store: Store, code: str, device_name: str,
          request_id: str | None = None) -> tuple[Device, str]:
    """Spend a code: a new device and its token (the only time the token exists in clear).

    With the device's `request_id`, the answer is kept for ENROL_ANSWER_LIFETIME: the same code
    with the same request id (a retry after a lost answer) gets the same device and token; for
    anyone else the code is spent."""
    code_hash = _hash(normalize_code(code))
    token = secrets.token_urlsafe(32)
    device = None
    now = datetime.now(UTC)
    with store.write() as db:
        db.execute("DELETE FROM enrol_answers WHERE answered_at < ?",
                   [(now - ENROL_ANSWER_LIFETIME).isoformat()])
        row = db.execute(
            "SELECT role, expires_at, used_at FROM enrol_codes WHERE code_hash = ?", [code_hash]
        ).fetchone()
        if row is not None and row[2] is None and row[1] > utc_now_iso(precise=True):
            device = Device(new_id(), " ".join(device_name.split()) or "perangkat", row[0])
            db.execute(
                "INSERT INTO devices (id, name, role, token_hash, created_at) VALUES (?,?,?,?,?)",
                [device.id, device.name, device.role, _hash(token), utc_now_iso(precise=True)],
            )
            db.execute(
                "UPDATE enrol_codes SET used_at = ?, device_id = ? WHERE code_hash = ?",
                [utc_now_iso(precise=True), device.id, code_hash],
            )
            if request_id:
                db.execute(
                    "INSERT INTO enrol_answers (code_hash, request_hash, device_id, "
                    "sealed_token, answered_at) VALUES (?, ?, ?, ?, ?)",
                    [code_hash, _hash(request_id), device.id, _seal(request_id, token),
                     now.isoformat()],
                )
        elif row is not None and request_id:
            device, token = _answer_again(db, code_hash, request_id)
    if device is None:
        raise ApiError(
            404, "enrol.invalid_code",
            "Kode pendaftaran perangkat tidak dikenal, sudah dipakai, atau sudah kedaluwarsa. "
            "Mintalah kode baru kepada admin.",
        )
    return device, token


def _answer_again(db, code_hash: str, request_id: str) -> tuple[Device | None, str]:
    """The kept answer for this code and request id, if the device is still active."""
    kept = db.execute(
        "SELECT a.sealed_token, d.id, d.name, d.role FROM enrol_answers a "
        "JOIN devices d ON d.id = a.device_id "
        "WHERE a.code_hash = ? AND a.request_hash = ? AND d.revoked_at IS NULL",
        [code_hash, _hash(request_id)],
    ).fetchone()
    token = _unseal(request_id, kept[0]) if kept else None
    if token is None:
        return None, ""
    return Device(kept[1], kept[2], kept[3]), token


def authenticate(store: Store, authorization: str | None) -> Device:
    """The device behind a `Bearer` token, or a 401 that says why."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401, "auth.missing_token",
            "Perangkat belum masuk: token akses tidak ada. Daftarkan perangkat ini terlebih dahulu.",
        )
    row = store.reader().execute(
        "SELECT id, name, role, revoked_at FROM devices WHERE token_hash = ?",
        [_hash(token.strip())],
    ).fetchone()
    if row is None:
        raise ApiError(
            401, "auth.invalid_token",
            "Token akses perangkat tidak dikenal. Daftarkan ulang perangkat ini.",
        )
    if row[3] is not None:
        raise ApiError(
            401, "auth.revoked", "Akses perangkat ini sudah dicabut oleh admin. Hubungi admin."
        )
    return Device(row[0], row[1], row[2])


def require_role(device: Device, *roles: str) -> None:
    if device.role not in roles:
        raise ApiError(
            403, "auth.forbidden_role",
            f"Peran perangkat ini ({device.role}) tidak berwenang untuk tindakan ini.",
        )


def revoke_device(store: Store, device_id: str) -> bool:
    with store.write() as db:
        cur = db.execute(
            "UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            [utc_now_iso(precise=True), device_id],
        )
        return cur.rowcount > 0


def list_devices(store: Store) -> list[dict]:
    rows = store.reader().execute(
        "SELECT id, name, role, created_at, revoked_at FROM devices ORDER BY created_at"
    ).fetchall()
    keys = ("id", "name", "role", "created_at", "revoked_at")
    return [dict(zip(keys, row, strict=True)) for row in rows]
