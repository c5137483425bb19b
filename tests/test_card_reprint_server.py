"""Reprints at an enrolled card desk are issued by the server (docs/SYNC_API.md §7): the desk
names the card version it replaces, keeps the server's new card at once, and the credential and
the revocation travel to every device with sync. A device without a server still signs locally.
"""

from __future__ import annotations

import threading

import pytest
import requests
from sync_util import (
    enrolled_device,
    server_in_thread,
    sync_once,
    verifier_client,
    verify_and_fund,
)
from unlock_util import cli_args, encrypted_registry

import main
from cards import desk
from cards.credential import Status
from cards.demo import fund_demo_members
from cards.keys import DEMO_KEY_FILE
from cards.verify import load_context, verify_text
from ops import cards as card_ops
from storage.demo import fill_demo_data
from storage.paths import database_path
from storage.registry import RegistrationFilter, Registry
from sync import card_steps, state
from sync import verifier as v
from sync.client import Offline, RetryPolicy, SyncClient
from sync.enrol import client_for

WAIT = 20_000


def _device(root, name: str, url: str, server_dir, role: str, encrypted: bool = True):
    folder = root / name
    folder.mkdir()
    return folder, enrolled_device(database_path(folder), url, server_dir, role,
                                   encrypted=encrypted)


def _funded_member(tmp_path, url, server_dir) -> tuple[Registry, SyncClient, str]:
    """An enumerator's device with one registration the verifier funded (card version 1)."""
    _, field = _device(tmp_path, "field", url, server_dir, "enumerator")
    fill_demo_data(field, 1, seed=61)
    sync_once(field)
    reg_id = field.db_for_tests.execute("SELECT id FROM workers").fetchone()[0]
    verifier = verifier_client(url, server_dir)
    verify_and_fund(verifier, reg_id)
    return field, verifier, reg_id


def _snapshot(registry, reg_id: str) -> tuple:
    """Everything a reprint may touch on a device (the command line's log-in is audited too,
    so operator entries are left out)."""
    return (desk.card_history(registry, reg_id), state.revocations(registry),
            state.credential_payloads(registry),
            registry.db_for_tests.execute("SELECT count(*) FROM audit_log "
                                "WHERE entity != 'operator'").fetchone()[0],
            registry.db_for_tests.execute("SELECT count(*) FROM card_events").fetchone()[0])


def test_an_enrolled_desk_reprints_on_the_server_and_every_device_learns_it(
        tmp_path, server, capsys, monkeypatch):
    url, server_dir = server
    field, verifier, reg_id = _funded_member(tmp_path, url, server_dir)
    desk_dir, card_desk = _device(tmp_path, "desk", url, server_dir, "card_desk")
    sync_once(card_desk)
    assert card_desk.count(RegistrationFilter()) == 0  # it never held the registration
    [first] = state.credential_payloads(card_desk)
    assert first["card_version"] == 1
    card_desk.close()

    # `main.py cards reprint` on the enrolled desk asks the server.
    assert main.main(["--data-dir", str(desk_dir), "cards", "reprint", reg_id, "--reason",
                      "lost", *cli_args(monkeypatch, desk_dir, "loket_kartu")]) == 0
    assert "versi 2" in capsys.readouterr().out
    server_side = v.registration_detail(verifier, reg_id)
    assert server_side["registration"]["card"]["card_version"] == 2
    assert server_side["registration"]["status"] == "funded"
    reprinted = [e for e in server_side["events"] if e["event"] == "card_reprinted"]
    assert [(e["reason_code"], e["by"].split(" @ ")[0]) for e in reprinted] == [
        ("lost", "Petugas cetak")]
    assert not (desk_dir / "keys" / "private" / DEMO_KEY_FILE).exists()  # no local signing

    card_desk = encrypted_registry(desk_dir, "loket_kartu")
    # Kept at once, before any sync: version 2 is ready, version 1 revoked.
    assert [(r.registration_id, r.version) for r in desk.members_ready_to_print(card_desk)] == [
        (reg_id, 2)]
    report = sync_once(card_desk)
    assert report.card_steps == 0  # the reprint is not queued: the server made it
    assert [(r.registration_id, r.version) for r in desk.members_ready_to_print(card_desk)] == [
        (reg_id, 2)]
    history = desk.card_history(card_desk, reg_id)
    assert [(h["version"], h["reprint_reason"], bool(h["revoked_at"])) for h in history] == [
        (1, "", True), (2, "lost", False)]
    cards = state.credential_payloads(card_desk)
    old_qr, new_qr = cards[0]["qr"], cards[1]["qr"]
    assert new_qr == server_side["registration"]["card"]["qr"]
    assert card_desk.audit_chain_ok()

    # Another device pulls: the old card is revoked there, the new one valid (keys by sync).
    other_dir, other = _device(tmp_path, "other", url, server_dir, "enumerator")
    sync_once(other)
    context = load_context(other_dir, other)
    assert verify_text(old_qr, context).status is Status.REVOKED
    assert verify_text(new_qr, context).status is Status.VALID
    sync_once(field)
    assert state.revocations(field) == [(first["serial"], 1)]
    for registry in (field, card_desk, other):
        registry.close()


def test_a_stale_card_version_is_refused_and_the_api_names_the_card(tmp_path, server):
    url, server_dir = server
    field, verifier, reg_id = _funded_member(tmp_path, url, server_dir)
    _, desk_a = _device(tmp_path, "desk-a", url, server_dir, "card_desk")
    _, desk_b = _device(tmp_path, "desk-b", url, server_dir, "card_desk")
    sync_once(desk_a)
    sync_once(desk_b)
    assert card_ops.reprint(desk_a, reg_id, "damaged", operator="A")[1] == 2

    before = _snapshot(desk_b, reg_id)
    with pytest.raises(v.DecisionRefused) as refused:
        card_ops.reprint(desk_b, reg_id, "lost", operator="B")
    assert (refused.value.status, refused.value.code) == (409, "card.not_current")
    assert refused.value.message == card_steps.REPRINT_NOT_CURRENT
    assert _snapshot(desk_b, reg_id) == before
    sync_once(desk_b)  # after sync desk B holds version 2 and may replace it
    assert card_ops.reprint(desk_b, reg_id, "lost", operator="B")[1] == 3

    # The raw API: a stale version is 409 with an Indonesian message; one of the two is needed;
    # `revision` keeps working; an enumerator may not ask.
    token = state.token(desk_a)
    clerk = {"username": "loket.a", "display_name": "Petugas A"}
    post = lambda body, t=token: requests.post(  # noqa: E731
        f"{url}/api/v1/registrations/{reg_id}/card/reprint", json={"operator": clerk, **body},
        headers={"Authorization": f"Bearer {t}"}, timeout=10)
    stale = post({"card_version": 2, "reason_code": "lost"})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "card.not_current"
    assert "bukan lagi kartu yang berlaku" in stale.json()["error"]["message"]
    assert post({"reason_code": "lost"}).status_code == 422
    assert post({"card_version": 0, "reason_code": "lost"}).status_code == 422
    revision = v.registration_detail(verifier, reg_id)["registration"]["revision"]
    both_stale = post({"card_version": 3, "revision": revision + 1, "reason_code": "other"})
    assert both_stale.json()["error"]["code"] == "decision.stale_revision"
    by_revision = post({"revision": revision, "reason_code": "other"})
    assert by_revision.status_code == 200
    assert by_revision.json()["registration"]["card"]["card_version"] == 4
    enumerator = client_for(field)
    with pytest.raises(v.CannotDecide) as forbidden:
        card_steps.send_reprint(enumerator, reg_id, 4, "lost", operator=clerk)
    enumerator.close()
    assert forbidden.value.message == card_steps.REPRINT_FORBIDDEN

    schema = requests.get(f"{url}/api/v1/openapi.json", timeout=10).json()
    reprint = schema["components"]["schemas"]["ReprintRequest"]
    assert {"card_version", "revision"} <= set(reprint["properties"])
    assert sorted(reprint["required"]) == ["operator", "reason_code"]
    assert "card_version" in reprint["description"]
    for registry in (field, desk_a, desk_b):
        registry.close()


def test_an_offline_reprint_says_so_and_changes_nothing(tmp_path, capsys, monkeypatch):
    server_dir = tmp_path / "server"
    with server_in_thread(server_dir) as url:
        field, _, reg_id = _funded_member(tmp_path, url, server_dir)
        desk_dir, card_desk = _device(tmp_path, "desk", url, server_dir, "card_desk")
        sync_once(card_desk)
    # The server is gone now.
    before = _snapshot(card_desk, reg_id)
    quick = SyncClient(url, state.token(card_desk), retry=RetryPolicy(attempts=2, base=0.01))
    with pytest.raises(Offline) as offline:
        card_ops.reprint(card_desk, reg_id, "lost", client=quick, operator="Petugas cetak")
    quick.close()
    assert "tidak dapat menghubungi server; coba lagi saat tersambung" in offline.value.message
    assert _snapshot(card_desk, reg_id) == before
    card_desk.close()
    assert main.main(["--data-dir", str(desk_dir), "cards", "reprint", reg_id,
                      "--reason", "lost", *cli_args(monkeypatch, desk_dir, "loket_kartu")]) == 1
    assert "tidak dapat menghubungi server" in capsys.readouterr().err
    card_desk = encrypted_registry(desk_dir, "loket_kartu")
    assert _snapshot(card_desk, reg_id) == before
    card_desk.close()
    field.close()


def test_a_device_without_a_server_still_signs_the_reprint_itself(tmp_path, capsys,
                                                                   monkeypatch):
    registry = encrypted_registry(tmp_path)
    fill_demo_data(registry, 6, seed=62)
    fund_demo_members(registry, tmp_path, share=0.5, seed=3)
    reg_id = desk.members_ready_to_print(registry)[0].registration_id
    old = desk.load_print_cards(registry, [reg_id])[0].qr_text
    registry.close()
    assert main.main(["--data-dir", str(tmp_path), "cards", "reprint", reg_id,
                      "--reason", "damaged", *cli_args(monkeypatch, tmp_path, "loket_kartu")]) == 0
    assert "versi 2" in capsys.readouterr().out
    registry = encrypted_registry(tmp_path)
    new = desk.load_print_cards(registry, [reg_id])[0].qr_text
    context = load_context(tmp_path, registry)
    assert verify_text(old, context).status is Status.REVOKED
    assert verify_text(new, context).status is Status.VALID
    assert (tmp_path / "keys" / "private" / DEMO_KEY_FILE).exists()
    registry.close()


# --- the window -----------------------------------------------------------------------------


def test_the_desk_window_asks_the_server_off_the_main_thread(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from ui.card_desk import CardDeskPanel
    from ui.db_worker import DbWorker

    server_dir = tmp_path / "server"
    with server_in_thread(server_dir) as url:
        field, _, reg_id = _funded_member(tmp_path, url, server_dir)
        desk_dir, card_desk = _device(tmp_path, "desk", url, server_dir, "card_desk",
                                      encrypted=False)
        sync_once(card_desk)
        card_desk.close()
        threads: list = []
        real_send = card_steps.send_reprint

        def send(*args, **kwargs):
            threads.append(threading.current_thread())
            return real_send(*args, **kwargs)

        monkeypatch.setattr(card_steps, "send_reprint", send)
        worker = DbWorker.for_path(database_path(desk_dir))
        worker.start()
        try:
            panel = CardDeskPanel(worker, data_dir=desk_dir, operator="Petugas cetak")
            qtbot.addWidget(panel)
            done: list = []
            panel.reprint(reg_id, "damaged", on_done=done.append)
            qtbot.waitUntil(lambda: bool(done), timeout=WAIT)
            qtbot.waitUntil(lambda: worker.pending() == 0, timeout=WAIT)
            assert done[0][1] == 2
            assert threads and threading.main_thread() not in threads
            assert [(r.registration_id, r.version) for r in panel.model.rows] == [(reg_id, 2)]
            assert "versi 2" in panel.note.text()
        except BaseException:
            worker.shutdown()
            raise
    # Offline: the operator is told, and nothing changes.
    try:
        before = desk.card_history(worker.readonly, reg_id)
        failed: list = []
        panel.reprint(reg_id, "lost", on_done=done.append, on_error=failed.append)
        qtbot.waitUntil(lambda: bool(failed), timeout=WAIT)
        assert isinstance(failed[0], Offline)
        box = panel.findChild(QMessageBox, "card_error_box")
        assert "coba lagi saat tersambung" in box.text()
        assert panel.reprint_button.isEnabled() and "belum dilakukan" in panel.note.text()
        assert desk.card_history(worker.readonly, reg_id) == before
        assert len(done) == 1
    finally:
        panel.shutdown()
        worker.shutdown()
        field.close()
