"""The one-machine demo from start-up (pytest-qt): the offer accepted, the real server started
on a free loopback port, this device enrolled, demo data made through sync and the API, and the
data visible in every view (list, verifier, card desk); a card verifies offline; the choice is
kept, the server comes back by itself on the next start, and a "do not ask again" is honoured.
"""

from __future__ import annotations

import json

import pytest

from cards.verify import load_context, verify_text
from ops.demo import CHOICE_FILE, MIN_COUNT, DemoChoice
from storage.models import Status
from storage.registry import RegistrationFilter
from sync import verifier as api
from sync.enrol import client_for
from ui.app import build_window, open_worker
from ui.demo_mode import DemoMode, install_demo

WAIT = 30_000
EVERY_STATUS = (Status.REGISTERED, Status.RECEIVED, Status.VERIFIED, Status.REJECTED,
                Status.FUNDED, Status.CARD_PRINTED, Status.CARD_HANDED_OVER)


@pytest.fixture
def app_window(qtbot, tmp_path):
    data = tmp_path / "data"
    worker = open_worker(data)
    window = build_window(worker)
    qtbot.addWidget(window)
    yield window, worker, data
    window.sync_panel.shutdown()
    window.verifier.shutdown()
    worker.shutdown()


def _never(self):
    raise AssertionError("the offer must not be shown")


def _count(worker, status: Status) -> int:
    return worker.readonly.count(RegistrationFilter(status=status.value))


def test_demo_start_up_path_fills_every_view(qtbot, app_window, monkeypatch):
    window, worker, data = app_window
    # Automatic sync would send the demo's "registered" examples at once: held for the check.
    window.sync_panel.shutdown()
    monkeypatch.setattr(window.sync_panel, "start_watching", lambda **_: None)
    monkeypatch.setattr(DemoMode, "ask_offer", lambda self: (True, False))
    monkeypatch.setattr(DemoMode, "ask_seed", lambda self: True)
    demo = install_demo(window, worker, data)
    demo.count = MIN_COUNT
    failures, reports = [], []
    demo.failed.connect(failures.append)
    demo.seeded.connect(reports.append)
    qtbot.waitUntil(lambda: bool(failures or reports), timeout=WAIT)
    assert not failures, failures
    try:
        assert demo.server.url.startswith("http://127.0.0.1:")
        assert not reports[0].cancelled
        assert {s: _count(worker, s) > 0 for s in EVERY_STATUS} == dict.fromkeys(
            EVERY_STATUS, True)

        # The list, the verifier's window and the card desk all show the demo data.
        window.registrations.refresh()
        qtbot.waitUntil(lambda: window.registrations.model.total() >= MIN_COUNT, timeout=WAIT)
        verifier = window.verifier  # built on first use; it loads when shown, or on reload
        verifier.reload()
        qtbot.waitUntil(lambda: verifier.model.rowCount() > 0, timeout=WAIT)
        assert {i["status"] for i in verifier.model.items} == {"received"}
        assert any(i["possible_duplicate"] for i in verifier.model.items)
        qtbot.waitUntil(lambda: "tersisa" in verifier.quota_label.text(), timeout=WAIT)
        window.card_desk.refresh()
        assert window.card_desk.model.total() == _count(worker, Status.FUNDED)

        # A handed-over member's card, signed by the local server, verifies on this device.
        (row,) = worker.readonly.query(RegistrationFilter(status="card_handed_over"), limit=1)
        client = client_for(worker.readonly)
        card = api.registration_detail(client, row.id)["registration"]["card"]
        client.close()
        verdict = verify_text(card["qr"], load_context(data, worker.readonly))
        assert verdict.valid, verdict.message
        assert json.loads((data / CHOICE_FILE).read_text())["local_server"] is True
        port = demo.server.port
    finally:
        demo.shutdown()
    assert demo.server.proc is None

    # Next start: the local server comes back without a question, on the same address.
    monkeypatch.setattr(DemoMode, "ask_offer", _never)
    again = DemoMode(window, worker, data)
    with qtbot.waitSignal(again.server_ready, timeout=WAIT) as ready:
        again.start()
    try:
        assert ready.args[0] == f"http://127.0.0.1:{port}"
        verifier.reload()
        qtbot.waitUntil(lambda: verifier.model.rowCount() > 0, timeout=WAIT)
    finally:
        again.shutdown()


def test_declined_with_do_not_ask_again_is_never_offered_again(qtbot, app_window, monkeypatch):
    window, worker, data = app_window
    asked = []
    monkeypatch.setattr(DemoMode, "ask_offer", lambda self: asked.append(1) or (False, True))
    demo = DemoMode(window, worker, data)
    demo.start()
    qtbot.waitUntil(lambda: asked == [1], timeout=10_000)
    assert DemoChoice.load(data).declined and demo.server is None
    monkeypatch.setattr(DemoMode, "ask_offer", _never)
    DemoMode(window, worker, data).start()
    qtbot.wait(200)  # the enrolment check runs on the writer thread; nothing may be asked


def test_declined_once_is_asked_again_next_time(qtbot, app_window, monkeypatch):
    window, worker, data = app_window
    asked = []
    monkeypatch.setattr(DemoMode, "ask_offer", lambda self: asked.append(1) or (False, False))
    DemoMode(window, worker, data).start()
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=10_000)
    DemoMode(window, worker, data).start()
    qtbot.waitUntil(lambda: len(asked) == 2, timeout=10_000)
    assert not DemoChoice.load(data).declined


def test_a_damaged_choice_file_counts_as_no_choice(tmp_path):
    (tmp_path / CHOICE_FILE).write_text("{not json")
    assert DemoChoice.load(tmp_path) == DemoChoice()
    DemoChoice(declined=True, port=8765).save(tmp_path)
    assert DemoChoice.load(tmp_path) == DemoChoice(declined=True, port=8765)


def test_a_new_database_beside_an_old_choice_is_enrolled_again(qtbot, app_window, monkeypatch):
    window, worker, data = app_window
    DemoChoice(local_server=True, seeded=True).save(data)
    monkeypatch.setattr(DemoMode, "ask_offer", _never)
    asked = []
    monkeypatch.setattr(DemoMode, "ask_seed", lambda self: asked.append(1) or False)
    demo = DemoMode(window, worker, data)
    try:
        demo.start()
        qtbot.waitUntil(lambda: asked == [1], timeout=WAIT)
        client = client_for(worker.readonly)
        assert api.quota(client)["cohorts"]  # enrolled: an admin device's token works
        client.close()
    finally:
        demo.shutdown()
