"""The server's card-signing public keys, kept on every device so that its cards verify offline.

Fetched at every sync: keys rotate, and a new key must reach the card desks before the first card
it signs does. Only public keys travel; the private key never leaves the server.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cards.desk import data_dir_of
from cards.keys import key_id, save_public_key
from sync.client import ProtocolError, SyncClient

if TYPE_CHECKING:
    from storage.registry import Registry


def trust_server_keys(client: SyncClient, data_dir: Path) -> int:
    """Save the server's public keys in the device's key folder; returns how many it has.

    A key whose id does not match its bytes is refused: the id is what a card names."""
    folder = Path(data_dir) / "keys"
    saved = 0
    for item in client.public_keys():
        try:
            key = serialization.load_pem_public_key(str(item["public_key_pem"]).encode("ascii"))
        except (KeyError, ValueError, TypeError) as exc:
            raise ProtocolError(detail="unreadable public key from /keys") from exc
        if not isinstance(key, Ed25519PublicKey) or key_id(key) != item.get("key_id"):
            raise ProtocolError(detail="public key id does not match its key")
        save_public_key(key, folder)
        saved += 1
    return saved


def trust_server_keys_of(registry: Registry, client: SyncClient) -> int:
    """The same, into the data directory of `registry`'s database file."""
    folder = data_dir_of(registry)
    return trust_server_keys(client, folder) if folder is not None else 0
