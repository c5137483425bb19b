"""The card desk and verification panels, offscreen, against a real database and DbWorker."""

from __future__ import annotations

import re
import subprocess
from datetime import date

import pytest
import zxingcpp
from PIL import Image
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtGui import QPageLayout
from PySide6.QtPrintSupport import QPrinter

from cards import desk
from cards.credential import Status
from cards.demo import fund_demo_members
from storage.demo import fill_demo_data
from storage.registry import Registry
from ui import card_dialogs, card_printing
from ui.card_desk import CardDeskPanel
from ui.db_worker import DbWorker
from ui.verify_panel import VerifyPanel

TODAY = date.today()


@pytest.fixture
def worker(qtbot, tmp_path):
    path = tmp_path / "registry.sqlite3"
    registry = Registry.open(path)
    fill_demo_data(registry, 24, seed=5, as_of=TODAY)
    fund_demo_members(registry, tmp_path, share=0.5, seed=2, today=TODAY)
    registry.close()
    w = DbWorker.for_path(path)
    w.start()
    yield w
    w.shutdown()


def _select(panel: CardDeskPanel, rows: range) -> None:
    selection = panel.table.selectionModel()
    selection.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in rows:
        selection.select(panel.model.index(row, 0), flags)


def _run_batch(qtbot, panel, ids, out=None, printer=None) -> bool:
    result = []
    panel.start_batch(ids, out, printer=printer, on_finished=result.append)
    qtbot.waitUntil(lambda: bool(result), timeout=20_000)
    qtbot.waitUntil(lambda: panel.worker.pending() == 0, timeout=5_000)
    return result[0]


def test_desk_lists_ready_members_with_masked_nik_and_filters(qtbot, worker):
    panel = CardDeskPanel(worker)
    qtbot.addWidget(panel)
    assert panel.model.rowCount() == 12
    assert "12 kartu" in panel.count_label.text()
    for row in range(panel.model.rowCount()):
        assert "******" in panel.model.index(row, 1).data()
    panel.cohort.setCurrentIndex(panel.cohort.findData("petugas_keagamaan"))
    assert all(r.cohort == "petugas_keagamaan" for r in panel.model.rows)
    panel.cohort.setCurrentIndex(0)
    panel.select_all()
    assert len(panel.selected_ids()) == 12


def test_save_pdf_records_printed_and_cancel_records_nothing(qtbot, worker, tmp_path,
                                                           monkeypatch):
    panel = CardDeskPanel(worker)
    qtbot.addWidget(panel)
    _select(panel, range(10))
    ids = panel.selected_ids()
    real_render = card_printing.render_pdf

    def cancelled_render(cards, out, layout, *, progress=None, cancel=None):
        cancel.set()  # the operator presses "Batal" as the batch starts
        return real_render(cards, out, layout, progress=progress, cancel=cancel)

    monkeypatch.setattr(card_printing, "render_pdf", cancelled_render)
    out = tmp_path / "batal.pdf"
    assert _run_batch(qtbot, panel, ids, out) is False
    assert not out.exists()
    assert desk.count_ready_to_print(worker.readonly) == 12
    assert "Dibatalkan" in panel.count_label.text()
    monkeypatch.setattr(card_printing, "render_pdf", real_render)
    out = tmp_path / "kartu.pdf"
    assert _run_batch(qtbot, panel, ids, out) is True
    assert out.exists()
    assert desk.count_ready_to_print(worker.readonly) == 2
    assert panel.model.rowCount() == 2  # the list refreshed after the write


def test_print_through_a_printer_then_hand_over_and_reprint(qtbot, worker, tmp_path):
    panel = CardDeskPanel(worker)
    qtbot.addWidget(panel)
    panel.layout_box.setCurrentIndex(panel.layout_box.findData("cr80"))
    reg_id = panel.model.rows[0].registration_id
    printer = card_printing.printer_for("cr80")
    size = printer.pageLayout().fullRect(QPageLayout.Unit.Millimeter)
    assert abs(size.width() - 85.60) < 0.1 and abs(size.height() - 53.98) < 0.1
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printer-output.pdf"))
    assert _run_batch(qtbot, panel, [reg_id], printer=printer) is True
    printed = tmp_path / "printer-output.pdf"
    assert printed.stat().st_size > 10_000
    # What reached the "printer" is card-sized and its QR code still decodes at 300 dpi.
    box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)", printed.read_bytes())
    # Qt's PDF writer rounds the media box to whole points (0.35 mm); the page layout asserted
    # above is the exact size a printer driver receives.
    assert abs(float(box[1]) / 72 * 25.4 - 85.60) < 0.36
    assert abs(float(box[2]) / 72 * 25.4 - 53.98) < 0.36
    subprocess.run(["pdftoppm", "-r", "300", "-f", "1", "-l", "1", "-singlefile", "-png",
                    str(printed), str(tmp_path / "printed")], check=True)
    with Image.open(tmp_path / "printed.png") as image:
        found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    expected = desk.load_print_cards(worker.readonly, [reg_id])[0].qr_text
    assert [b.text for b in found] == [expected]
    panel.view_box.setCurrentIndex(panel.view_box.findData("hand_over"))
    assert [r.registration_id for r in panel.model.rows] == [reg_id]
    with qtbot.waitSignal(worker.changed, timeout=5000):
        panel.hand_over(reg_id, "Rina (anak)")
    assert panel.model.rowCount() == 0
    with qtbot.waitSignal(worker.changed, timeout=5000):
        panel.reprint(reg_id, "lost")
    history = desk.card_history(worker.readonly, reg_id)
    assert [h["version"] for h in history] == [1, 2] and history[0]["revoked_at"]


def test_verify_panel_scanner_input_and_images(qtbot, worker, tmp_path):
    panel = VerifyPanel(worker)
    qtbot.addWidget(panel)
    reg_id = desk.members_ready_to_print(worker.readonly)[0].registration_id
    text = desk.load_print_cards(worker.readonly, [reg_id])[0].qr_text
    qtbot.keyClicks(panel.input, text)
    with qtbot.waitSignal(panel.verified, timeout=2000):
        qtbot.keyClick(panel.input, "\r")
    assert panel.verdict.status is Status.VALID and panel.title.text() == "KARTU SAH"
    assert "JMB-" in panel.details.text() and panel.input.text() == ""
    tampered = text[:-12] + ("A" if text[-12] != "A" else "B") + text[-11:]
    panel.input.setText(tampered)
    assert panel.submit().status is Status.FORGED
    assert "PALSU" in panel.title.text()
    panel.input.setText("https://contoh.example/bukan-kartu")
    assert panel.submit().status is Status.NOT_A_CREDENTIAL
    desk_panel = CardDeskPanel(worker)
    qtbot.addWidget(desk_panel)
    with qtbot.waitSignal(worker.changed, timeout=5000):
        desk_panel.reprint(reg_id, "damaged")
    panel.input.setText(text)
    assert panel.submit().status is Status.REVOKED
    blank = tmp_path / "kosong.png"
    Image.new("L", (200, 200), 255).save(blank)
    verdict = panel.check_image(blank)
    assert verdict.status is Status.UNREADABLE and "Tidak ada kode QR" in panel.message.text()


def test_the_desk_warns_before_printing_a_card_valid_for_less_than_90_days(qtbot, worker,
                                                                         tmp_path, monkeypatch):
    from datetime import timedelta

    from PySide6.QtWidgets import QMessageBox

    from cards.validity import batch_warning

    panel = CardDeskPanel(worker)
    qtbot.addWidget(panel)
    rows = panel.model.rows
    assert batch_warning([r.valid_until for r in rows]) == ""  # demo cards: the funded rule
    short = rows[1]
    soon = (TODAY + timedelta(days=30)).isoformat()
    done = []
    worker.call(lambda reg: reg.db_for_tests.execute(
        "UPDATE cards SET valid_until = ? WHERE serial = ?", [soon, short.serial]),
        on_result=done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=5_000)
    panel.refresh()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 12, timeout=5_000)
    asked, answers = [], [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(card_dialogs.QMessageBox, "question",
                        lambda *a: (asked.append(a), answers.pop(0))[1])
    out = tmp_path / "kartu.pdf"
    monkeypatch.setattr(card_dialogs.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(out), "PDF (*.pdf)"))
    _select(panel, range(3))
    assert short.registration_id in panel.selected_ids()
    panel.save_dialog()  # answered No: nothing printed
    assert len(asked) == 1 and "1 dari 3 kartu" in asked[0][2] and "90 hari" in asked[0][2]
    assert asked[0][4] == QMessageBox.StandardButton.No  # the default
    assert not out.exists() and desk.count_ready_to_print(worker.readonly) == 12
    panel.save_dialog()  # answered Yes: printed
    qtbot.waitUntil(lambda: desk.count_ready_to_print(worker.readonly) == 9, timeout=20_000)
    assert out.exists()
    _select(panel, range(2))  # cards valid long enough: no question
    ids = panel.selected_ids()
    assert short.registration_id not in ids
    panel.save_dialog()
    qtbot.waitUntil(lambda: desk.count_ready_to_print(worker.readonly) == 7, timeout=20_000)
    assert len(asked) == 2
