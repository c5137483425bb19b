"""Rows of heirs (ahli waris): name, relationship, phone, optional NIK; add and remove rows.

A registration needs at least one heir, so the editor always keeps one row.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from storage.models import HEIR_RELATIONSHIPS, Heir
from ui.labels import t, term

# An heir's inputs in typing order (HeirRow's attributes; the parts a draft's heir may hold).
HEIR_PARTS = ("name", "relationship", "phone", "nik")


class HeirRow:
    """The widgets of one heir."""

    def __init__(self, parent: QWidget):
        self.name = QLineEdit(parent)
        self.name.setPlaceholderText(t("heir.name"))
        self.name.setObjectName("heir_name")
        self.relationship = QComboBox(parent)
        self.relationship.setObjectName("heir_relationship")
        self.relationship.addItem(t("choose"), "")
        for key in HEIR_RELATIONSHIPS:
            self.relationship.addItem(term("relationship", key), key)
        self.phone = QLineEdit(parent)
        self.phone.setPlaceholderText(t("ph.phone"))
        self.phone.setObjectName("heir_phone")
        self.nik = QLineEdit(parent)
        self.nik.setPlaceholderText(t("heir.nik_ph"))
        self.nik.setObjectName("heir_nik")
        self.nik.setMaxLength(24)
        # Wide enough for a usual name, a whole phone number and a whole NIK as people type them.
        for edit, sample in ((self.name, "Zulkifli Syahputra"), (self.phone, "0812 3456 7890"),
                             (self.nik, "1571 0945 1285 9902")):
            edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance(sample) + 16)
        self.remove = QPushButton(t("heir.remove"), parent)
        self.remove.setObjectName("heir_remove")

    def inputs(self) -> list[QWidget]:
        return [getattr(self, part) for part in HEIR_PARTS]

    def widgets(self) -> list[QWidget]:
        return [*self.inputs(), self.remove]

    def value(self) -> Heir:
        return Heir(
            name=self.name.text().strip(),
            relationship=self.relationship.currentData() or "",
            phone=self.phone.text().strip(),
            nik=self.nik.text().strip(),
        )

    def set_value(self, heir: Heir) -> None:
        self.name.setText(heir.name)
        index = self.relationship.findData(heir.relationship)
        self.relationship.setCurrentIndex(max(index, 0))
        self.phone.setText(heir.phone)
        self.nik.setText(heir.nik)

    def is_empty(self) -> bool:
        heir = self.value()
        return not (heir.name or heir.relationship or heir.phone or heir.nik)


class HeirsEditor(QWidget):
    """Edits a list of heirs. `changed` fires on every edit; `rows_changed` when rows are added or
    removed (the form rebuilds its tab order then)."""

    changed = Signal()
    rows_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.rows: list[HeirRow] = []
        self._grid = QGridLayout()
        self._grid.setContentsMargins(0, 0, 0, 0)
        for column, key in enumerate(("heir.name", "heir.relationship", "heir.phone", "heir.nik")):
            self._grid.addWidget(QLabel(t(key), self), 0, column)
        self._grid.setColumnStretch(0, 3)
        self._grid.setColumnStretch(2, 2)
        self._grid.setColumnStretch(3, 2)
        self.add_button = QPushButton(t("heir.add"), self)
        self.add_button.setObjectName("heir_add")
        self.add_button.clicked.connect(self._add_clicked)
        self.issues = QLabel(self)
        self.issues.setObjectName("heirs_issues")
        self.issues.setWordWrap(True)
        self.issues.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._grid)
        layout.addWidget(self.issues)
        layout.addWidget(self.add_button)
        self.add_row()

    def add_row(self, heir: Heir | None = None) -> HeirRow:
        row = HeirRow(self)
        if heir is not None:
            row.set_value(heir)
        line = len(self.rows) + 1
        for column, widget in enumerate(row.widgets()):
            self._grid.addWidget(widget, line, column)
        row.name.textEdited.connect(self.changed)
        row.phone.textEdited.connect(self.changed)
        row.nik.textEdited.connect(self.changed)
        row.relationship.activated.connect(self.changed)
        row.remove.clicked.connect(lambda: self.remove_row(row))
        self.rows.append(row)
        self._update_remove_buttons()
        self.rows_changed.emit()
        return row

    def remove_row(self, row: HeirRow) -> None:
        if len(self.rows) <= 1:
            return
        self.rows.remove(row)
        for widget in row.widgets():
            self._grid.removeWidget(widget)
            widget.deleteLater()
        # Re-lay the remaining rows so no gap is left.
        for line, remaining in enumerate(self.rows, start=1):
            for column, widget in enumerate(remaining.widgets()):
                self._grid.addWidget(widget, line, column)
        self._update_remove_buttons()
        self.rows_changed.emit()
        self.changed.emit()
        self.rows[-1].name.setFocus()

    def heirs(self) -> list[Heir]:
        """The heirs typed, leaving out rows left completely empty."""
        return [row.value() for row in self.rows if not row.is_empty()]

    def set_heirs(self, heirs: list[Heir]) -> None:
        while len(self.rows) > 1:
            self.remove_row(self.rows[-1])
        self.rows[0].set_value(heirs[0] if heirs else Heir(name="", relationship=""))
        for heir in heirs[1:]:
            self.add_row(heir)

    def focus_chain(self) -> list[QWidget]:
        """The heirs' input widgets in typing order, then the add button."""
        chain: list[QWidget] = []
        for row in self.rows:
            chain += row.inputs()
        return chain

    def show_issues(self, messages: list[str], color: str) -> None:
        self.issues.setVisible(bool(messages))
        self.issues.setText("\n".join(messages))
        self.issues.setStyleSheet(f"color: {color};")

    def _add_clicked(self) -> None:
        row = self.add_row()
        self.changed.emit()
        row.name.setFocus()

    def _update_remove_buttons(self) -> None:
        for row in self.rows:
            row.remove.setEnabled(len(self.rows) > 1)
