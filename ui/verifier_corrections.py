"""Corrections waiting for a verifier, in the Verifikasi tab (docs/SYNC_API.md §6 Corrections).

A new version of a verified or funded registration from its owner device does not become what
the card, the lists and the exports use until a verifier approves it. When the registration
shown has one, the panel puts the version in force and the correction side by side (the
changed fields marked) and this box offers *Setujui koreksi* and *Tolak koreksi* with a reason.
No reason is chosen beforehand; both ask once more before anything is sent.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from ui.labels import t, term
from ui.verifier_detail import changed_labels


class WrappedLabel(QLabel):
    """A word-wrapped label that does not make its layout height-for-width: in the window's
    tab (a scroll area) such a layout is given its preferred height, taller than a laptop
    screen, and scrolls; without it the list and the detail shrink to fit instead."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        return False

    def minimumSizeHint(self):  # noqa: N802 - Qt's name
        # As many lines as the text needs at the label's width (at most four).
        hint = super().minimumSizeHint()
        width = max(self.width(), 200)
        needed = -(-self.fontMetrics().horizontalAdvance(self.text()) // width)  # ceil
        lines = min(max(needed, 1), 4) if self.text() else 0
        hint.setHeight(max(hint.height(), lines * self.fontMetrics().lineSpacing()))
        return hint

    def sizeHint(self):  # noqa: N802 - Qt's name
        hint = super().sizeHint()
        hint.setHeight(self.minimumSizeHint().height())  # never taller than its lines
        return hint

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.updateGeometry()  # another width may need another number of lines


def rejection_inputs(parent: QWidget, name: str, reject_label: str
                     ) -> tuple[QComboBox, QLineEdit, QPushButton]:
    """A reason to choose (its combo named `name`), a note, and the button that rejects."""
    combo = QComboBox(parent)
    combo.setObjectName(name)
    note = QLineEdit(parent)
    note.setPlaceholderText(t("ver.note"))
    return combo, note, QPushButton(reject_label, parent)


def fill_reasons(combo: QComboBox, first: str, reasons: dict[str, str]) -> None:
    """The rejection reasons by code, after a first entry that asks for one: no reason is ever
    chosen for the verifier."""
    combo.clear()
    combo.addItem(first, "")
    for code, label in reasons.items():
        combo.addItem(term("reject", code, label), code)
    combo.setCurrentIndex(0)


class CorrectionBox(QGroupBox):
    """Approve or reject the correction shown. Emits `approve()` or `reject(code, note)`; the
    panel asks for confirmation and sends the decision."""

    approve = Signal()
    reject = Signal(str, str)  # reason code, note

    def __init__(self, parent: QWidget | None = None):
        super().__init__(t("corr.title"), parent)
        self.setObjectName("correction_box")
        self.summary = WrappedLabel("", self)
        self.approve_button = QPushButton(t("corr.approve"), self)
        self.reason_combo, self.reason_edit, self.reject_button = rejection_inputs(
            self, "correction_reason", t("corr.reject"))
        grid = QGridLayout(self)
        grid.addWidget(self.summary, 0, 0, 1, 4)
        grid.addWidget(self.approve_button, 1, 0)
        grid.addWidget(self.reason_combo, 1, 1)
        grid.addWidget(self.reason_edit, 1, 2)
        grid.addWidget(self.reject_button, 1, 3)
        self.approve_button.clicked.connect(self.approve)
        self.reject_button.clicked.connect(self._reject_clicked)
        self.reason_combo.currentIndexChanged.connect(lambda _i: self._update())
        self._allowed = False
        self.set_reasons({})
        self.hide()

    def set_reasons(self, reasons: dict[str, str]) -> None:
        fill_reasons(self.reason_combo, t("corr.choose_reason"), reasons)

    def show_correction(self, correction: dict | None, current_version: int | str) -> None:
        """Show the box for `correction` (None hides it); the reason starts unchosen."""
        if not correction:
            self.hide()
            return
        fields = ", ".join(changed_labels(list(correction.get("changed") or []))) or "—"
        self.summary.setText(t("corr.summary", version=correction.get("version"),
                               current=current_version, fields=fields))
        self.reason_combo.setCurrentIndex(0)
        self.reason_edit.clear()
        self.show()
        self._update()

    def set_allowed(self, allowed: bool) -> None:
        self._allowed = allowed
        self._update()

    def set_busy(self) -> None:
        for widget in (self.approve_button, self.reject_button):
            widget.setEnabled(False)

    def _update(self) -> None:
        self.approve_button.setEnabled(self._allowed)
        self.reason_combo.setEnabled(self._allowed)
        self.reason_edit.setEnabled(self._allowed)
        self.reject_button.setEnabled(self._allowed and bool(self.reason_combo.currentData()))

    def _reject_clicked(self) -> None:
        code = self.reason_combo.currentData() or ""
        if code:
            self.reject.emit(code, self.reason_edit.text().strip())
