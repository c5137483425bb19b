"""The key material of the encrypted device database: the random database key, the keys that
wrap it (one per operator password, one for the recovery key) and the recovery key's text form.

The database key is 32 random bytes handed to SQLCipher as a raw key (SQLCipher then runs no
key derivation of its own: the slow step is scrypt here, once per log-in). Each wrap is AES-256-GCM
of the database key under a key-encryption key (KEK): scrypt of the operator's password with its
own salt, or HKDF of the recovery key (150 random bits need no slow derivation). The GCM tag
makes a wrong password or a changed wrap fail instead of giving a wrong key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
SALT_BYTES = 16
NONCE_BYTES = 12

# scrypt for the KEK: 32 MiB and ~0.1 s on a field laptop. Stronger than the log-in hash of
# migration 0009 because this one alone stands between a copied key file and the database.
KDF_N = 2**15
KDF_R = 8
KDF_P = 1

RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: copied by hand
RECOVERY_GROUPS, RECOVERY_GROUP_LEN = 6, 5  # 30 characters of 5 bits: 150 bits


class UnwrapError(Exception):
    """The secret does not open this wrap (wrong password or key, or a changed wrap)."""


def new_database_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def sqlcipher_key(key: bytes) -> str:
    """The PRAGMA key value of a raw 256-bit key: x'...' (no SQLCipher key derivation)."""
    if len(key) != KEY_BYTES:
        raise ValueError("database key must be 32 bytes")
    return f"\"x'{key.hex()}'\""


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def password_kek(password: str, salt: bytes, n: int = KDF_N, r: int = KDF_R,
                 p: int = KDF_P) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          dklen=KEY_BYTES, maxmem=256 * 1024 * 1024)


def hkdf(secret: bytes, info: str, salt: bytes | None = None) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt,
                info=info.encode("ascii")).derive(secret)


def wrap(kek: bytes, key: bytes, associated: str) -> dict:
    """{"nonce", "ct"} (base64): `key` sealed under `kek`, bound to `associated`."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(kek).encrypt(nonce, key, associated.encode("utf-8"))
    return {"nonce": b64(nonce), "ct": b64(sealed)}


def unwrap(kek: bytes, sealed: dict, associated: str) -> bytes:
    try:
        key = AESGCM(kek).decrypt(unb64(sealed["nonce"]), unb64(sealed["ct"]),
                                  associated.encode("utf-8"))
    except (InvalidTag, KeyError, ValueError, TypeError) as exc:
        raise UnwrapError() from exc
    if len(key) != KEY_BYTES:
        raise UnwrapError()
    return key


def mac(key: bytes, text: str) -> str:
    return hmac.new(hkdf(key, "jamsos-keyfile-mac"), text.encode("utf-8"),
                    hashlib.sha256).hexdigest()


def mac_ok(key: bytes, text: str, tag: str) -> bool:
    return hmac.compare_digest(mac(key, text), tag or "")


# --- the recovery key ---------------------------------------------------------------------------


def new_recovery_key() -> str:
    """'K7QMW-3XTPA-…': six groups of five, shown once to the first admin."""
    groups = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_LEN))
              for _ in range(RECOVERY_GROUPS)]
    return "-".join(groups)


def normalize_recovery_key(text: str) -> str:
    """Upper case, no spaces or dashes; O read as 0 is not in the alphabet, so 0→O, 1→I are
    not guessed: a typo simply fails."""
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())


def recovery_kek(text: str, salt: bytes) -> bytes:
    return hkdf(normalize_recovery_key(text).encode("ascii", "replace"), "jamsos-recovery", salt)


# --- the lockout chain --------------------------------------------------------------------------


def chain_step(value: str) -> str:
    """One failed log-in: the next link. Anyone can step forward; nobody can step back."""
    return hashlib.sha256(bytes.fromhex(value)).hexdigest()


def chain_start(length: int) -> tuple[str, str]:
    """(first link, anchor): the anchor is `length` steps ahead of the first link."""
    first = secrets.token_bytes(32).hex()
    value = first
    for _ in range(length):
        value = chain_step(value)
    return first, value


def chain_failures(value: str, anchor: str, length: int) -> int | None:
    """How many failures `value` records (0..length), or None when it is not on the chain."""
    try:
        for steps in range(length + 1):
            if hmac.compare_digest(value, anchor):
                return length - steps
            value = chain_step(value)
    except ValueError:
        return None
    return None
