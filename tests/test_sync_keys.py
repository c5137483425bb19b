"""Sync brings the server's card-signing public keys to every device, so that a card desk (or
any laptop) can check server-signed cards offline."""

from __future__ import annotations

import pytest
from sync_util import enrol_code, enrolled_device, server_in_thread

from cards.verify import load_context, verify_text
from storage.demo import fill_demo_data
from sync import state
from sync import verifier as v
from sync.client import ProtocolError, SyncClient
from sync.engine import run_sync
from sync.enrol import client_for
from sync.keys import trust_server_keys


def _sync(registry):
    client = client_for(registry)
    try:
        return run_sync(registry, client)
    finally:
        client.close()


def test_a_card_desk_verifies_server_cards_after_one_sync(tmp_path):
    server_dir = tmp_path / "server"
    for folder in ("field", "desk"):
        (tmp_path / folder).mkdir()
    with server_in_thread(server_dir) as url:
        field = enrolled_device(tmp_path / "field" / "r.sqlite3", url, server_dir, "enumerator")
        desk = enrolled_device(tmp_path / "desk" / "r.sqlite3", url, server_dir, "card_desk")
        fill_demo_data(field, 1, seed=7)
        _sync(field)
        reg_id = field.db.execute("SELECT id FROM workers").fetchone()[0]
        answer = SyncClient(url).enrol(enrol_code(server_dir, "verifier"), "Verifikator")
        verifier = SyncClient(url, answer["token"])
        row = v.registration_detail(verifier, reg_id)["registration"]
        row = v.verify(verifier, reg_id, row["revision"])["registration"]
        v.fund(verifier, reg_id, row["revision"])

        assert not (tmp_path / "desk" / "keys").exists()  # nothing trusted before the sync
        _sync(desk)
        qr = state.credential_payloads(desk.db)[0]["qr"]

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
