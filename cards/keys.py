"""Ed25519 signing keys for card credentials, and the trusted public keys by key id.

Private keys live only where credentials are issued: the central server's data directory, or, for
a demonstration, a local demo key in one device's data directory (trusted on that device alone).
Public keys ship to every device in `resources/keys/` and may also be dropped into the data
directory's `keys/` folder, each file named `<key id>.pem`, so that keys can be rotated without a
new release.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

RESOURCE_KEYS = Path(__file__).resolve().parent.parent / "resources" / "keys"
KEY_ID_BYTES = 4
DEMO_KEY_FILE = "demo_signing_key.pem"


class KeyFileError(Exception):
    """A key file is missing or is not an Ed25519 key (Indonesian message)."""


def raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_bytes(public_key: Ed25519PublicKey) -> bytes:
    """The first 4 bytes of SHA-256 over the 32 raw public-key bytes (CARD_QR_FORMAT.md §4)."""
    return hashlib.sha256(raw_public(public_key)).digest()[:KEY_ID_BYTES]


def key_id(public_key: Ed25519PublicKey) -> str:
    return key_id_bytes(public_key).hex()


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def save_private_key(private_key: Ed25519PrivateKey, path: Path) -> None:
    """Write PKCS#8 PEM readable by the owner only (the key signs every card), in a folder that
    is the owner's alone."""
    from storage.paths import private_dir

    private_dir(path.parent)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"Kunci penandatangan tidak dapat dibaca: {path}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"Kunci penandatangan bukan Ed25519: {path}")
    return key


def save_public_key(public_key: Ed25519PublicKey, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key_id(public_key)}.pem"
    path.write_text(public_pem(public_key), encoding="ascii")
    return path


def load_public_keys(*folders: Path) -> dict[str, Ed25519PublicKey]:
    """Every `*.pem` public key in the folders, by key id (computed, never trusted from the name)."""
    return {key_id(key): key for key in _public_key_files(*folders)}


def _public_key_files(*folders: Path):
    for folder in folders:
        if not folder or not Path(folder).is_dir():
            continue
        for path in sorted(Path(folder).glob("*.pem")):
            try:
                key = serialization.load_pem_public_key(path.read_bytes())
            except ValueError:
                continue  # a private key or a damaged file is not a trusted public key
            if isinstance(key, Ed25519PublicKey):
                yield key


def trusted_keys(data_dir: Path | None = None) -> dict[str, tuple[Ed25519PublicKey, ...]]:
    """The shipped public keys plus those in the device's data directory, by key id. Two
    different keys that share a 4-byte id are both kept and both tried (CARD_QR_FORMAT.md §4):
    one must not hide the other and make its genuine cards look forged."""
    folders = [RESOURCE_KEYS]
    if data_dir is not None:
        folders.append(Path(data_dir) / "keys")
    keys: dict[str, tuple[Ed25519PublicKey, ...]] = {}
    for key in _public_key_files(*folders):
        same = keys.get(key_id(key), ())
        if all(raw_public(k) != raw_public(key) for k in same):
            keys[key_id(key)] = (*same, key)
    return keys


def ensure_demo_key(data_dir: Path) -> tuple[Ed25519PrivateKey, str]:
    """The local demo signing key of this device, made on first use.

    Its public key goes into the data directory only, so only this device trusts cards it signs.
    """
    path = Path(data_dir) / "keys" / "private" / DEMO_KEY_FILE
    if path.exists():
        private_key = load_private_key(path)
    else:
        private_key = generate_private_key()
        save_private_key(private_key, path)
    save_public_key(private_key.public_key(), Path(data_dir) / "keys")
    return private_key, key_id(private_key.public_key())
