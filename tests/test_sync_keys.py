"""Sync brings the server's card-signing public keys to every device, so that a card desk (or
any laptop) can check server-signed cards offline."""

from __future__ import annotations

import pytest
from sync_util import (
    enrolled_device,
    server_in_thread,
    sync_once,
    verifier_client,
    verify_and_fund,
)

from cards.verify import load_context, verify_text
from storage.demo import fill_demo_data
from sync import state
from sync.client import ProtocolError
from sync.keys import trust_server_keys


def test_a_card_desk_verifies_server_cards_after_one_sync(tmp_path):
    server_dir = tmp_path / "server"
    for folder in ("field", "desk"):
        (tmp_path / folder).mkdir()
    with server_in_thread(server_dir) as url:
        field = enrolled_device(tmp_path / "field" / "r.sqlite3", url, server_dir, "enumerator")
        desk = enrolled_device(tmp_path / "desk" / "r.sqlite3", url, server_dir, "card_desk")
        fill_demo_data(field, 1, seed=7)
        sync_once(field)
        reg_id = field.db_for_tests.execute("SELECT id FROM workers").fetchone()[0]
        verifier = verifier_client(url, server_dir, "Verifikator")
        verify_and_fund(verifier, reg_id)

        assert not (tmp_path / "desk" / "keys").exists()  # nothing trusted before the sync
        sync_once(desk)
        qr = state.credential_payloads(desk)[0]["qr"]

    # The server is gone: the check is offline, with the key the sync left on the device.
    verdict = verify_text(qr, load_context(tmp_path / "desk", desk))
    assert verdict.status == "valid", verdict.message
    assert verify_text(qr, load_context(tmp_path / "elsewhere")).status == "unknown_key"


class _LyingServer:
    def __init__(self, keys):
        self.keys = keys

    def public_keys(self):
        return self.keys


def test_a_key_whose_id_does_not_match_is_refused(tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from cards.keys import public_pem

    pem = public_pem(Ed25519PrivateKey.generate().public_key())
    with pytest.raises(ProtocolError):
        trust_server_keys(_LyingServer([{"key_id": "00000000", "public_key_pem": pem}]), tmp_path)
    assert not (tmp_path / "keys").exists() or not list((tmp_path / "keys").iterdir())
