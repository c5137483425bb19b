"""The *Klaim & PDP* tab against the real server on loopback (pytest-qt): a verifier records a
death, chooses the heir, ticks the documents, records submission, payment and hand-over; makes
the person's PDF copy; is told why erasure must wait; exports the BPJS file and imports a KPJ
answer whose unmatched row is listed. An operator who may not verify can do none of it."""

from __future__ import annotations

import pytest
from sync_util import enrol_code, enrolled_device, sync_once, verify_and_fund

from storage.demo import fill_demo_data
from storage.operators import Operator
from sync import claims as office
from sync.client import SyncClient
from ui.claims_panel import ClaimsPanel
from ui.db_worker import DbWorker
from ui.session import Session

WAIT = 10_000
SARI = Operator(id=7, username="sari.v", display_name="Verifikator Uji", role="verifikator",
                active=True, failed_attempts=0, locked_until=None, created_at="")
PETUGAS = Operator(id=8, username="budi.p", display_name="Petugas Uji", role="petugas",
                   active=True, failed_attempts=0, locked_until=None, created_at="")


@pytest.fixture
def setup(qtbot, tmp_path, server):
    url, server_dir = server
    field = enrolled_device(tmp_path / "field.sqlite3", url, server_dir)
    fill_demo_data(field, 1, seed=91)
    sync_once(field)
    (member,) = [r[0] for r in field.db_for_tests.execute("SELECT id FROM workers")]
    answer = SyncClient(url).enrol(enrol_code(server_dir, "verifier"), "Meja uji")
    verifier = SyncClient(url, answer["token"])
    verify_and_fund(verifier, member)
    enrolled_device(tmp_path / "v.sqlite3", url, server_dir, "verifier").close()
    worker = DbWorker.for_path(tmp_path / "v.sqlite3")
    worker.start()
    panels = []

    def make(operator=SARI) -> ClaimsPanel:
        widget = ClaimsPanel(worker, session=Session(operator))
        qtbot.addWidget(widget)
        widget.confirm = lambda title, text, yes: True
        panels.append(widget)
        return widget

    yield make, verifier, member, field
    for widget in panels:
        widget.shutdown()
    worker.shutdown()
    verifier.close()
    field.close()


def _open(qtbot, panel) -> None:
    panel.reload()
    qtbot.waitUntil(lambda: panel.results.count() == 1, timeout=WAIT)
    panel.results.setCurrentRow(0)
    qtbot.waitUntil(lambda: panel.detail is not None, timeout=WAIT)


def _step(qtbot, panel, button, stage: str) -> None:
    assert button.isEnabled()
    button.click()
    qtbot.waitUntil(lambda: (panel.claim or {}).get("stage") == stage, timeout=WAIT)


def test_a_verifier_follows_the_claim_and_the_requests(qtbot, setup, tmp_path):
    make, verifier, member, field = setup
    panel = make()
    _open(qtbot, panel)
    assert panel.claim is None and panel.death_button.isEnabled()
    assert not panel.submit_button.isEnabled()
    panel.death_place.setText("RSUD Raden Mattaher")
    panel.certificate_no.setText("AKT-1571-0001")
    panel.reported_by.setText("Istri")
    _step(qtbot, panel, panel.death_button, "death_recorded")
    assert not panel.death_button.isEnabled()  # never twice
    assert panel.claimant_combo.currentData() == 0  # the first registered heir
    _step(qtbot, panel, panel.claimant_button, "claimant_chosen")
    for box in panel.document_boxes.values():
        box.setChecked(True)
    panel.documents_button.click()
    qtbot.waitUntil(lambda: all(d["checked"] for d in panel.claim["checklist"]), timeout=WAIT)
    panel.reference.setText("JKM/2026/0042")
    _step(qtbot, panel, panel.submit_button, "submitted")
    assert panel.amount.value() == 42_000_000
    _step(qtbot, panel, panel.paid_button, "paid")
    _step(qtbot, panel, panel.handed_button, "handed_over")
    claim = office.claim(verifier, member)
    assert (claim["amount"], claim["submission_ref"]) == (42_000_000, "JKM/2026/0042")
    assert claim["claimant_name"] == field.get(member).heirs[0].name
    assert "Rp42.000.000" in panel.claim_label.text()

    # PDP: the copy is saved where the verifier chose; erasure must wait for the retention.
    target = tmp_path / "salinan.pdf"
    panel.ask_save_path = lambda caption, name: str(target)
    panel.copy_button.click()
    qtbot.waitUntil(lambda: target.exists() and "Salinan disimpan" in panel.message.text(),
                    timeout=WAIT)
    assert target.read_bytes().startswith(b"%PDF")
    panel.erase_button.click()
    qtbot.waitUntil(lambda: "masa simpan" in panel.message.text(), timeout=WAIT)

    # The BPJS file, and a KPJ answer whose unmatched row is listed, never guessed.
    exported = tmp_path / "bpjs.xlsx"
    panel.ask_save_path = lambda caption, name: str(exported)
    panel.export_full_button.click()
    qtbot.waitUntil(lambda: "SHA-256" in panel.bpjs_report.toPlainText(), timeout=WAIT)
    assert exported.read_bytes().startswith(b"PK")  # the dead member is not in it as active
    answer = tmp_path / "jawaban.csv"
    answer.write_text("NIK;No KPJ\n1571019999990001;KPJ99000001\n", encoding="utf-8")
    panel.ask_open_path = lambda caption: str(answer)
    panel.kpj_button.click()
    qtbot.waitUntil(lambda: "Baris 2" in panel.bpjs_report.toPlainText(), timeout=WAIT)
    assert "tidak ditebak" in panel.bpjs_report.toPlainText()


def test_an_operator_who_may_not_verify_can_do_nothing(qtbot, setup):
    make, _verifier, _member, _field = setup
    panel = make(PETUGAS)
    _open(qtbot, panel)
    buttons = (panel.death_button, panel.copy_button, panel.withdraw_button,
               panel.erase_button, panel.export_full_button, panel.kpj_button)
    assert not any(b.isEnabled() for b in buttons)
    panel.record_death()  # reached anyway: refused before anything is sent
    assert "verifikator atau admin" in panel.message.text()
