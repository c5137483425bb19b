"""One registration opened from the list: read it, correct it (a new version), see its history."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QListWidget,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from storage import roles
from storage.models import Registration
from ui import screen_fit
from ui.labels import t, term
from ui.registration_form import RegistrationForm
from ui.registrations_model import format_timestamp
from ui.session import may
from ui.timefmt import format_date


class RecordDialog(QDialog):
    """The form in correction mode, the record's status above it, its saved versions below."""

    def __init__(self, worker: Any, registration: Registration, history: list[Registration],
                 parent: QWidget | None = None, kpj: tuple[str, str] | None = None):
        super().__init__(parent)
        self.kpj = kpj  # (KPJ number, start of cover) once BPJS's answer reached this device
        self.setWindowTitle(t("record.title", name=registration.full_name))
        self.form = RegistrationForm(worker, editing=registration, parent=self)
        self.form.saved.connect(self._saved)
        self.read_only = not may(parent, roles.REGISTER)
        if self.read_only:
            # A role that does not register (verifier, card desk) reads, never corrects: a
            # disabled form takes no typing, no Enter and no save shortcut.
            self.form.setEnabled(False)
        scroll = QScrollArea(self)
        scroll.setWidget(self.form)
        scroll.setWidgetResizable(True)

        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.read_only_note = QLabel(t("record.read_only"), self)
        self.read_only_note.setWordWrap(True)
        self.read_only_note.setVisible(self.read_only)
        self.history = QListWidget(self)
        self.history.setObjectName("history")
        # The form takes the dialog's whole width (beside a side panel it would be squeezed
        # into scrolling sideways on a 1366-pixel screen); status and history sit above and
        # below it.
        self.history.setMaximumHeight(self.history.fontMetrics().lineSpacing() * 4 + 12)
        layout = QVBoxLayout(self)
        layout.addWidget(self.read_only_note)
        layout.addWidget(self.status)
        layout.addWidget(scroll, 1)
        layout.addWidget(QLabel(t("record.history"), self))
        layout.addWidget(self.history)
        self._show_record(registration, history)
        screen_fit.fit(self, screen_fit.RECORD_DIALOG)  # fits a 1366×768 laptop

    def _show_record(self, reg: Registration, history: list[Registration]) -> None:
        lines = [t("record.status", status=term("status", reg.status))]
        if reg.status_reason:
            lines.append(t("record.reason", reason=reg.status_reason))
        if reg.member_number:
            lines.append(t("record.member", number=reg.member_number))
        if self.kpj:
            lines.append(t("record.kpj", kpj=self.kpj[0], start=format_date(self.kpj[1]) or "—"))
        self.status.setText("\n".join(lines))
        self.history.clear()
        for version in reversed(history):  # newest first
            self.history.addItem(t("record.version", version=version.version,
                                   when=format_timestamp(version.updated_at),
                                   who=version.operator or "—"))

    def _saved(self, reg: Registration) -> None:
        self.form._worker.call(lambda r, rid: r.history(rid), reg.id,
                               on_result=lambda hist: self._show_record(reg, hist))


def open_record(parent: QWidget, worker: Any, reg_id: str) -> None:
    """Load the record and its history through the worker, then show the dialog."""

    def loaded(result: tuple[Registration | None, list[Registration]]) -> None:
        reg, history, kpj = result
        if reg is None:
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.information(parent, t("error.title"), t("record.not_found"))
            return
        dialog = RecordDialog(worker, reg, history, parent, kpj=kpj)
        dialog.setObjectName("record_dialog")
        dialog.open()

    worker.call(lambda r, rid: (r.get(rid), r.history(rid), r.kpj_of(rid)), reg_id,
                on_result=loaded)
