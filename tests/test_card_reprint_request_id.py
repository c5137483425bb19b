"""A reprint carries a `request_id` (docs/SYNC_API.md §7): when the server applied it but the
answer was lost, the client's retry gets the card that was made instead of 409
`card.not_current`, and nothing is applied twice. The same id for another request is refused;
a request without one behaves as before."""

from __future__ import annotations

import gzip
import json
import uuid
from urllib.parse import urlparse

import requests
from fault_proxy import FaultProxy
from sync_util import (
    enrolled_device,
    sync_once,
    verifier_client,
    verify_and_fund,
)

from cards import desk
from ops import cards as card_ops
from storage.demo import fill_demo_data
from storage.paths import database_path
from sync import card_steps, state
from sync import verifier as v
from sync.client import ProtocolError, RetryPolicy, SyncClient


def _device(root, name: str, url: str, server_dir, role: str):
    folder = root / name
    folder.mkdir()
    return enrolled_device(database_path(folder), url, server_dir, role)


def _funded(tmp_path, url, server_dir, count: int = 1):
    """An enumerator's device with `count` registrations the verifier funded (card version 1)."""
    field = _device(tmp_path, "field", url, server_dir, "enumerator")
    fill_demo_data(field, count, seed=71)
    sync_once(field)
    ids = [r[0] for r in field.db_for_tests.execute("SELECT id FROM workers ORDER BY id")]
    verifier = verifier_client(url, server_dir)
    for reg_id in ids:
        verify_and_fund(verifier, reg_id)
    return field, verifier, ids


def _server_cards(server_dir, reg_id: str) -> tuple[list[int], int, int]:
    """(card versions, revocations, card_reprinted events) the server holds for `reg_id`."""
    from server.store import Store  # the database of the engine the test runs on

    store = Store(server_dir)
    try:
        db = store.reader()
        versions = [r[0] for r in db.execute(
            "SELECT card_version FROM cards WHERE record_id = ? ORDER BY card_version", [reg_id])]
        (revoked,) = db.execute("SELECT count(*) FROM revocations WHERE record_id = ?",
                                [reg_id]).fetchone()
        (events,) = db.execute("SELECT count(*) FROM events WHERE record_id = ? AND "
                               "event = 'card_reprinted'", [reg_id]).fetchone()
        return versions, revoked, events
    finally:
        store.close()


def _poster(url: str, token: str, reg_id: str):
    def post(body: dict, record: str = reg_id) -> requests.Response:
        clerk = {"username": "loket.uji", "display_name": "Petugas cetak"}
        return requests.post(f"{url}/api/v1/registrations/{record}/card/reprint",
                             json={"operator": clerk, **body},
                             headers={"Authorization": f"Bearer {token}"}, timeout=10)
    return post


def test_a_lost_answer_is_answered_with_the_card_on_the_retry(tmp_path, server):
    url, server_dir = server
    field, _, [reg_id] = _funded(tmp_path, url, server_dir)
    card_desk = _device(tmp_path, "desk", url, server_dir, "card_desk")
    sync_once(card_desk)

    sent: list[dict] = []

    def cut_the_first_reprint_answer(request: bytes) -> str | None:
        head, _, body = request.partition(b"\r\n\r\n")
        if b"/card/reprint" not in head.split(b"\r\n", 1)[0]:
            return None
        sent.append(json.loads(gzip.decompress(body)))
        return "drop_after" if len(sent) == 1 else None

    port = urlparse(url).port
    with FaultProxy(port, choose=cut_the_first_reprint_answer) as proxy:
        client = SyncClient(proxy.url, state.token(card_desk),
                            retry=RetryPolicy(attempts=4, base=0.01))
        try:
            serial, version = card_ops.reprint(card_desk, reg_id, "lost",
                                               operator="Petugas cetak", client=client)
        finally:
            client.close()

    # The server applied the first request; its answer never came; the retry, with the same
    # body and id, got the card instead of "already reprinted elsewhere".
    assert proxy.stats.faults["drop_after"] == 1
    assert len(sent) == 2 and sent[0] == sent[1]
    assert str(uuid.UUID(sent[0]["request_id"])) == sent[0]["request_id"]
    assert sent[0]["card_version"] == 1
    assert version == 2
    # The desk keeps it at once: version 2 ready to print, version 1 revoked.
    assert [(r.registration_id, r.version) for r in desk.members_ready_to_print(card_desk)] == [
        (reg_id, 2)]
    history = desk.card_history(card_desk, reg_id)
    assert [(h["version"], h["reprint_reason"], bool(h["revoked_at"])) for h in history] == [
        (1, "", True), (2, "lost", False)]
    assert state.revocations(card_desk) == [(serial, 1)]
    # One new card version on the server, one revocation, one reprint event.
    assert _server_cards(server_dir, reg_id) == ([1, 2], 1, 1)
    # Sync changes nothing of that.
    sync_once(card_desk)
    assert [(h["version"], bool(h["revoked_at"])) for h in desk.card_history(
        card_desk, reg_id)] == [(1, True), (2, False)]
    assert card_desk.audit_chain_ok()
    for registry in (field, card_desk):
        registry.close()


def test_a_repeated_id_gets_the_same_answer_and_another_request_under_it_is_refused(
        tmp_path, server):
    url, server_dir = server
    field, verifier, [reg_a, reg_b] = _funded(tmp_path, url, server_dir, count=2)
    desk_a = _device(tmp_path, "desk-a", url, server_dir, "card_desk")
    desk_b = _device(tmp_path, "desk-b", url, server_dir, "card_desk")
    post = _poster(url, state.token(desk_a), reg_a)
    request_id = str(uuid.uuid4())
    body = {"card_version": 1, "reason_code": "lost", "request_id": request_id}

    first = post(body)
    assert first.status_code == 200
    card = first.json()["registration"]["card"]
    assert card["card_version"] == 2
    again = post(body)
    assert again.status_code == 200
    assert again.json()["registration"]["card"] == card
    assert _server_cards(server_dir, reg_a) == ([1, 2], 1, 1)

    # The same id for another registration, or another request for the same one: 409.
    other = post({**body}, record=reg_b)
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "request.id_reused"
    assert "sudah dipakai" in other.json()["error"]["message"]
    changed = post({**body, "reason_code": "damaged"})
    assert changed.json()["error"]["code"] == "request.id_reused"
    assert _server_cards(server_dir, reg_b) == ([1], 0, 0)
    assert _server_cards(server_dir, reg_a) == ([1, 2], 1, 1)

    # The id is the device's own: another desk using the same one is a new request.
    other_desk = _poster(url, state.token(desk_b), reg_b)(body)
    assert other_desk.status_code == 200
    assert other_desk.json()["registration"]["card"]["card_version"] == 2

    # Replaced since by another reprint: the repeat still answers 200, with the current card,
    # and applies nothing.
    newer = post({"card_version": 2, "reason_code": "damaged"})
    assert newer.json()["registration"]["card"]["card_version"] == 3
    late = post(body)
    assert late.status_code == 200
    assert late.json()["registration"]["card"]["card_version"] == 3
    assert _server_cards(server_dir, reg_a) == ([1, 2, 3], 2, 2)
    assert v.registration_detail(verifier, reg_a)["registration"]["card"]["card_version"] == 3
    for registry in (field, desk_a, desk_b):
        registry.close()


def test_without_a_request_id_a_repeat_is_refused_as_before(tmp_path, server):
    url, server_dir = server
    field, _, [reg_id] = _funded(tmp_path, url, server_dir)
    card_desk = _device(tmp_path, "desk", url, server_dir, "card_desk")
    post = _poster(url, state.token(card_desk), reg_id)
    body = {"card_version": 1, "reason_code": "lost"}
    assert post(body).json()["registration"]["card"]["card_version"] == 2
    repeat = post(body)
    assert repeat.status_code == 409
    assert repeat.json()["error"]["code"] == "card.not_current"
    assert _server_cards(server_dir, reg_id) == ([1, 2], 1, 1)
    assert post({**body, "request_id": "not a valid id!"}).status_code == 422

    schema = requests.get(f"{url}/api/v1/openapi.json", timeout=10).json()
    reprint = schema["components"]["schemas"]["ReprintRequest"]
    assert "request_id" in reprint["properties"]
    assert sorted(reprint["required"]) == ["operator", "reason_code"]
    for registry in (field, card_desk):
        registry.close()


class _OlderServer:
    """A client stand-in for a server from before request_id: the field is refused with 422."""

    def __init__(self):
        self.bodies: list[dict] = []

    def call(self, method, path, body=None, params=None):
        self.bodies.append(dict(body or {}))
        if "request_id" in body:
            raise ProtocolError("tidak sah", detail="422 request.invalid", code="request.invalid",
                                status=422, details=[{"loc": ["body", "request_id"],
                                                      "msg": "Extra inputs are not permitted"}])
        return {"registration": {"card": {"card_version": 2}}}


def test_a_server_that_predates_request_id_is_asked_again_without_it():
    older = _OlderServer()
    answer = card_steps.send_reprint(older, "reg-1", 1, "lost", operator="Petugas")
    assert answer["registration"]["card"]["card_version"] == 2
    assert [sorted(b) for b in older.bodies] == [
        ["card_version", "operator", "reason_code", "request_id"],
        ["card_version", "operator", "reason_code"]]
    # Two reprints asked are two ids.
    card_steps.send_reprint(older, "reg-1", 1, "lost", operator="Petugas")
    assert older.bodies[0]["request_id"] != older.bodies[2]["request_id"]
