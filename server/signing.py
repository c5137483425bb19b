"""The server's card-signing key: made on first start in the data directory, never sent out.

Its public key is written next to it as `keys/<key id>.pem` and served at GET /keys; earlier
public keys left in that folder stay trusted after a key rotation.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cards.credential import CardData, issue_credential
from cards.keys import (
    generate_private_key,
    key_id,
    load_private_key,
    load_public_keys,
    public_pem,
    save_private_key,
    save_public_key,
)

PRIVATE_KEY_FILE = "server_signing_key.pem"


class Signer:
    def __init__(self, data_dir: Path):
        self.keys_dir = Path(data_dir) / "keys"
        path = self.keys_dir / "private" / PRIVATE_KEY_FILE
        if path.exists():
            self._private = load_private_key(path)
        else:
            self._private = _key_with_a_new_id(load_public_keys(self.keys_dir))
            save_private_key(self._private, path)
        save_public_key(self._private.public_key(), self.keys_dir)
        self.key_id = key_id(self._private.public_key())

    def issue(self, card: CardData) -> str:
        """The QR text of a card (docs/CARD_QR_FORMAT.md), signed with the server's key."""
        return issue_credential(self._private, self.key_id, card)

    def public_keys(self) -> list[dict]:
        keys = load_public_keys(self.keys_dir)
        return [{"key_id": kid, "public_key_pem": public_pem(k)} for kid, k in sorted(keys.items())]


def _key_with_a_new_id(published: dict) -> Ed25519PrivateKey:
    """A new signing key whose 4-byte key id no earlier published key has, so that a verifier
    never has to tell two of this server's keys apart by id (CARD_QR_FORMAT.md §4)."""
    while True:
        private = generate_private_key()
        if key_id(private.public_key()) not in published:
            return private
