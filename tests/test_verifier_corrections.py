"""Corrections in the verifier's window, against the real server on loopback (pytest-qt): a
funded member's heir changed on its own device waits as *koreksi menunggu verifikasi*; the
verifier sees the version in force and the correction side by side with the heirs marked,
approves one correction and rejects the next with a reason, both after a confirmation; the owner
device learns both."""

from __future__ import annotations

import pytest
from sync_util import enrolled_device, sync_once, verifier_client, verify_and_fund

from storage.demo import fill_demo_data
from storage.models import Heir
from storage.operators import Operator
from sync import state
from sync import verifier as api
from ui.db_worker import DbWorker
from ui.session import Session
from ui.verifier_panel import VerifierPanel

WAIT = 10_000
SARI = Operator(id=7, username="sari.v", display_name="Sari Verifikator", role="verifikator",
                active=True, failed_attempts=0, locked_until=None, created_at="")


def correct_heir(registry, reg_id: str, name: str) -> int:
    """The enumerator corrects the heir on the owner device; returns the new version."""
    reg = registry.get(reg_id)
    reg.heirs = [Heir(name=name, relationship="anak")]
    result = registry.save(reg, operator="Petugas Pendata")
    if not result.saved:
        codes = {w.code for w in result.validation.warnings}
        result = registry.save(reg, operator="Petugas Pendata", confirmed_warnings=codes)
    assert result.saved, result.validation
    return result.registration.version


@pytest.fixture
def setup(qtbot, tmp_path, server):
    url, server_dir = server
    owner = enrolled_device(tmp_path / "a.sqlite3", url, server_dir)
    fill_demo_data(owner, 2, seed=31)
    sync_once(owner)
    reg_id = owner.db_for_tests.execute("SELECT id FROM workers ORDER BY seq LIMIT 1").fetchone()[0]
    desk = verifier_client(url, server_dir)
    funded = verify_and_fund(desk, reg_id)
    desk.close()
    assert funded["status"] == "funded"
    sync_once(owner)  # the owner learns it is funded

    enrolled_device(tmp_path / "v.sqlite3", url, server_dir, "verifier").close()
    worker = DbWorker.for_path(tmp_path / "v.sqlite3")
    worker.start()
    panel = VerifierPanel(worker, session=Session(SARI))
    qtbot.addWidget(panel)
    panel.asked = []
    panel.confirm = lambda title, text, yes: panel.asked.append((title, text, yes)) or True
    panel.resize(1300, 700)
    panel.reload()
    qtbot.waitUntil(lambda: panel.client is not None, timeout=WAIT)
    yield owner, reg_id, funded, panel
    panel.shutdown()
    worker.shutdown()
    owner.close()


def open_only_correction(qtbot, panel, reg_id: str) -> None:
    panel.correction_check.setChecked(True)
    qtbot.waitUntil(lambda: [i["id"] for i in panel.model.items] == [reg_id], timeout=WAIT)
    assert panel.status_combo.currentData() == ""  # corrections wait on decided ones
    assert "koreksi menunggu verifikasi" in panel.cell(panel.model.items[0], 6)
    panel.detail = None
    panel.open_registration(reg_id)
    qtbot.waitUntil(lambda: panel.detail is not None and panel.correction is not None,
                    timeout=WAIT)


def wait_message(qtbot, panel) -> str:
    qtbot.waitUntil(lambda: panel.message.text() not in ("", "Mengirim keputusan ke server…"),
                    timeout=WAIT)
    return panel.message.text()


def test_a_heir_change_waits_then_is_approved_and_the_next_one_rejected(qtbot, setup):
    owner, reg_id, funded, panel = setup
    old_heir = owner.get(reg_id).heirs[0].name
    version = correct_heir(owner, reg_id, "Ahli Waris Baru")
    sync_once(owner)
    assert state.answer_for(owner, reg_id).outcome == "correction_pending"

    open_only_correction(qtbot, panel, reg_id)
    assert panel.correction["version"] == version and "heirs" in panel.correction["changed"]
    # Side by side: the version in force on the left, the correction on the right, the heir
    # marked as changed; the funded member keeps status and member number meanwhile.
    assert old_heir in panel.this_view.toPlainText()
    assert "Ahli Waris Baru" in panel.other_view.toPlainText()
    assert "Bagian yang berubah: Ahli waris" in panel.other_view.toPlainText()
    assert "✎ Ahli Waris Baru" in panel.other_view.toPlainText()
    assert panel.other_view.toPlainText().count("✎") == 1  # nothing else is marked
    assert panel.this_view.toPlainText().count("✎") == 1
    assert panel.detail["status"] == "funded"
    assert panel.detail["member_number"] == funded["member_number"]
    box = panel.corrections
    assert not box.isHidden() and box.approve_button.isEnabled()
    assert box.reason_combo.currentData() == "" and not box.reject_button.isEnabled()
    assert not panel.fund_button.isEnabled() and not panel.reject_button.isEnabled()

    panel.message.clear()
    box.approve_button.click()
    assert panel.asked[-1][0] == "Setujui koreksi?" and "Ahli waris" in panel.asked[-1][1]
    assert wait_message(qtbot, panel).startswith("Tersimpan"), panel.message.text()
    assert panel.detail["data"]["heirs"][0]["name"] == "Ahli Waris Baru"
    assert panel.correction is None and box.isHidden()
    assert panel.detail["status"] == "funded"
    events = api.registration_detail(panel.client, reg_id)["events"]
    approved = [e for e in events if e["event"] == "correction_approved"]
    assert approved and approved[-1]["operator"] == {"username": "sari.v",
                                                     "display_name": "Sari Verifikator"}
    sync_once(owner)
    assert state.answer_for(owner, reg_id).outcome != "correction_rejected"

    # The next correction is rejected with a reason; the approved version stays in force.
    version = correct_heir(owner, reg_id, "Ahli Waris Salah")
    sync_once(owner)
    panel.correction_check.setChecked(False)
    open_only_correction(qtbot, panel, reg_id)
    assert panel.correction["version"] == version
    box.reject_button.click()  # no reason chosen: nothing happens
    assert panel.asked[-1][0] == "Setujui koreksi?"
    box.reason_combo.setCurrentIndex(box.reason_combo.findData("wrong_data"))
    box.reason_edit.setText("Nama anak tidak sesuai KK")
    panel.message.clear()
    box.reject_button.click()
    title, text, yes = panel.asked[-1]
    assert (title, yes) == ("Tolak koreksi?", "Ya, tolak koreksi")
    assert "Nama anak tidak sesuai KK" in text
    assert wait_message(qtbot, panel).startswith("Tersimpan"), panel.message.text()
    assert panel.detail["data"]["heirs"][0]["name"] == "Ahli Waris Baru"
    sync_once(owner)
    answer = state.answer_for(owner, reg_id)
    assert answer.outcome == "correction_rejected"
    assert "Nama anak tidak sesuai KK" in answer.reason


def test_a_correction_that_moved_on_is_refused_and_reloaded(qtbot, setup):
    owner, reg_id, _funded, panel = setup
    correct_heir(owner, reg_id, "Koreksi Pertama")
    sync_once(owner)
    open_only_correction(qtbot, panel, reg_id)
    newer = correct_heir(owner, reg_id, "Koreksi Kedua")  # arrives while the verifier looks
    sync_once(owner)
    panel.message.clear()
    panel.corrections.approve_button.click()
    assert wait_message(qtbot, panel) == api.STALE_MESSAGE
    qtbot.waitUntil(lambda: panel.correction and panel.correction["version"] == newer,
                    timeout=WAIT)
    assert "Koreksi Kedua" in panel.other_view.toPlainText()
