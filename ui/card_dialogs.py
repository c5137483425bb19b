"""What the card desk asks and tells the operator: where to save the PDF, which printer, the
preview of one sheet, a warning before printing cards valid only briefly, who received a card,
why a card is reprinted, and what went wrong. Each takes the desk as parent and returns the
answer (None or False when the operator cancels)."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from cards import desk, validity
from cards.pdf import render_pdf
from storage.vocabulary import REPRINT_REASONS
from sync.client import SyncError
from ui.card_printing import paint_pdf, printer_for
from ui.labels import t


def tell(parent: QWidget, key: str) -> None:
    """An information box titled as the desk (choose some cards, choose one)."""
    QMessageBox.information(parent, t("desk.title"), t(key))


def say_not_allowed(parent: QWidget) -> None:
    QMessageBox.warning(parent, t("desk.title"), t("desk.not_allowed"))


def short_validity_accepted(parent: QWidget, valid_until: list[str]) -> bool:
    """Asks before printing a card valid for less than the configured 90 days (No is the
    default); True when there is none or the operator goes on."""
    rule = validity.rule_for(date.today())
    texts = {key: t(f"validity.{key}") for key in validity.WARNING_TEXTS}
    warning = validity.batch_warning(valid_until, warn_below_days=rule.warn_below_days,
                                     texts=texts)
    if not warning:
        return True
    yes, no = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
    return QMessageBox.question(parent, t("desk.title"),
                                t("desk.short_validity", warning=warning), yes | no, no) == yes


def ask_pdf_path(parent: QWidget) -> Path | None:
    path, _ = QFileDialog.getSaveFileName(parent, t("desk.save_title"), t("desk.pdf_name"),
                                          t("desk.pdf_filter"))
    return Path(path) if path else None


def ask_printer(parent: QWidget, layout: str) -> QPrinter | None:
    """The system's print dialog for a printer set to the layout's paper."""
    printer = printer_for(layout)
    dialog = QPrintDialog(printer, parent)
    return printer if dialog.exec() == QPrintDialog.DialogCode.Accepted else None


def open_preview(parent: QWidget, cards: list, layout: str) -> QPrintPreviewDialog:
    """The first sheet (or card) as it will print; nothing is recorded."""
    pdf = Path(tempfile.mkdtemp(prefix="pratinjau-kartu-")) / "pratinjau.pdf"
    pages = render_pdf(cards, pdf, layout)  # one sheet: quick
    dialog = QPrintPreviewDialog(parent)
    dialog.setWindowTitle(t("desk.preview_title"))
    dialog.paintRequested.connect(lambda printer: paint_pdf(printer, pdf, pages, dpi=150))
    dialog.open()
    return dialog


def ask_received_by(parent: QWidget) -> str | None:
    name, ok = QInputDialog.getText(parent, t("desk.hand_over_title"), t("desk.hand_over_prompt"))
    return name if ok else None


def ask_reprint_reason(parent: QWidget) -> str | None:
    """The reason's code, chosen by its label."""
    codes = list(REPRINT_REASONS)
    shown = [t(f"reprint.{code}") for code in codes]
    label, ok = QInputDialog.getItem(parent, t("desk.reprint_title"), t("desk.reprint_prompt"),
                                     shown, 0, False)
    return codes[shown.index(label)] if ok else None


def show_error(parent: QWidget, exc: BaseException) -> None:
    box = QMessageBox(QMessageBox.Icon.Warning, t("desk.title"), message(exc),
                      QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("card_error_box")
    box.open()


def message(exc: BaseException) -> str:
    if isinstance(exc, SyncError):
        return exc.message
    if isinstance(exc, desk.CardDeskError | OSError | RuntimeError | ValueError) and str(exc):
        return str(exc)
    return t("desk.error")
