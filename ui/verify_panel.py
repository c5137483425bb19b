"""Card verification: a USB scanner types the QR text into the field (it ends with Enter), or an
image of the card is opened. The verdict shows in colour and plain Indonesian, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cards import desk
from cards.credential import Status, Verdict, display_name, verdict_values
from cards.verify import load_context, verify_image, verify_text
from storage.vocabulary import show_date
from ui.labels import t

# The verdict's colour; its title is the label "check.<status>".
COLOURS = {
    Status.VALID: "#1b7f3b",
    Status.FORGED: "#b3261e",
    Status.REVOKED: "#b3261e",
    Status.EXPIRED: "#b85c00",
    Status.UNKNOWN_KEY: "#b85c00",
    Status.NOT_A_CREDENTIAL: "#555555",
    Status.UNREADABLE: "#555555",
}


class VerifyPanel(QWidget):
    """The verification tab. `worker` is the DbWorker; its read-only registry gives the
    revocation list (kept current by sync); the keys come from resources and the data folder."""

    verified = Signal(object)  # the Verdict

    def __init__(self, worker: Any, parent: QWidget | None = None, *,
                 data_dir: Path | None = None):
        super().__init__(parent)
        self.worker = worker
        self._data_dir = data_dir
        self.verdict: Verdict | None = None
        self.input = QLineEdit(self)
        self.input.setPlaceholderText(t("check.scan"))
        self.input.setClearButtonEnabled(True)
        self.open_button = QPushButton(t("check.open_image"), self)
        self.title = QLabel(t("check.waiting"), self)
        self.title.setObjectName("verdict_title")
        self.message = QLabel("", self)
        self.message.setWordWrap(True)
        self.details = QLabel("", self)
        self.details.setWordWrap(True)
        self.frame = QFrame(self)
        box = QVBoxLayout(self.frame)
        for label in (self.title, self.message, self.details):
            box.addWidget(label)
        row = QHBoxLayout()
        row.addWidget(self.input, 1)
        row.addWidget(self.open_button)
        root = QVBoxLayout(self)
        root.addLayout(row)
        root.addWidget(self.frame)
        root.addStretch(1)
        self.input.returnPressed.connect(self.submit)
        self.open_button.clicked.connect(self.open_image_dialog)
        self._show_waiting()

    def _context(self):
        reader = self.worker.readonly
        data_dir = self._data_dir or (desk.data_dir_of(reader) if reader is not None else None)
        return load_context(data_dir, reader)

    def submit(self) -> Verdict:
        """Check what the scanner typed; the field is cleared for the next card."""
        text = self.input.text()
        self.input.clear()
        return self.show_verdict(verify_text(text, self._context()))

    def open_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, t("check.image_title"), "",
                                              t("check.image_filter"))
        if path:
            self.check_image(Path(path))

    def check_image(self, path: Path) -> Verdict:
        return self.show_verdict(verify_image(path, self._context()))

    def _show_waiting(self) -> None:
        self.frame.setStyleSheet("QFrame { border: 2px solid #999; border-radius: 6px; }")
        self.title.setStyleSheet("font-size: 20px; font-weight: bold; border: none;")

    def show_verdict(self, verdict: Verdict) -> Verdict:
        self.verdict = verdict
        title, colour = t(f"check.{verdict.status.value}"), COLOURS[verdict.status]
        self.frame.setStyleSheet(
            f"QFrame {{ border: 3px solid {colour}; border-radius: 6px; }}")
        self.title.setStyleSheet(
            f"font-size: 20px; font-weight: bold; color: {colour}; border: none;")
        self.title.setText(title)
        self.message.setText(t(f"verdict.{verdict.reason}",
                               **verdict_values(verdict.card, verdict.key_id))
                             if verdict.reason else verdict.message)
        self.message.setStyleSheet("border: none;")
        card = verdict.card
        if card is not None:
            self.details.setText(t(
                "check.card", name=display_name(card), number=card.member_number,
                start=show_date(card.valid_from), until=show_date(card.valid_until),
                serial=card.serial, version=card.version))
        else:
            self.details.setText("")
        self.details.setStyleSheet("border: none;")
        self.verified.emit(verdict)
        return verdict
