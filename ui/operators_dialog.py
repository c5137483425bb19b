"""An admin manages the device's operators: add, reset a password, unlock, deactivate.

Every change runs on the database worker (`DbWorker.call`) and is audited by storage; the
dialog only lists what `registry.operators.list()` returns and offers the actions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from storage.operators import ROLES
from storage.vocabulary import show_clock
from ui.labels import plain, t
from ui.login import ask_password
from ui.login_parts import (
    error_label,
    error_text,
    form,
    new_password_edits,
    now_utc,
    ok_cancel_form,
    passwords_ok,
)
from ui.session import Session, role_label
from ui.standard_buttons import confirm

# --- jobs for the database worker (no Qt) -----------------------------------------------------


def list_job(registry):
    return registry.operators.list()


def add_job(registry, username, display_name, role, password, by, now):
    return registry.operators.add(username, display_name, role, password, now=now, by=by)


def reset_job(registry, username, password, by, now):
    registry.operators.change_password(username, password, now=now, by=by)


def unlock_job(registry, username, by, now):
    registry.operators.unlock(username, now=now, by=by)


def deactivate_job(registry, username, by, now):
    registry.operators.deactivate(username, now=now, by=by)


def state_text(operator: Any, now: datetime) -> str:
    if not operator.active:
        return t("ops.inactive")
    if operator.locked_at(now):
        return t("ops.locked", clock=show_clock(operator.locked_until))
    if operator.failed_attempts:
        return t("ops.failures", n=operator.failed_attempts)
    return t("ops.active")


class AddOperatorDialog(QDialog):
    """Username, full name, role and a password typed twice."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(t("ops.add.title"))
        self.username = QLineEdit(self)
        self.display_name = QLineEdit(self)
        self.role = QComboBox(self)
        for role in ROLES:
            self.role.addItem(role_label(role), role)
        self.password, self.repeat = new_password_edits(self, "add_password", "add_repeat")
        self.message = error_label(self)
        fields = form([("login.username", self.username), ("op.display_name", self.display_name),
                       ("op.role", self.role), ("login.password", self.password),
                       ("op.password_again", self.repeat)])
        ok_cancel_form(self, fields, self.message)

    def _check(self) -> None:
        if passwords_ok(self.message, self.password.text(), self.repeat.text()):
            self.accept()

    def values(self) -> tuple[str, str, str, str]:
        return (self.username.text(), self.display_name.text(), self.role.currentData(),
                self.password.text())


class OperatorsDialog(QDialog):
    """The list of operators with the admin's actions. Only opened for an admin; each action
    checks again that the session's operator is an admin."""

    def __init__(self, worker: Any, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("operators_dialog")
        self.setWindowTitle(t("ops.title"))
        self.worker, self.session = worker, session
        self.operators: list[Any] = []
        self.table = QTableWidget(0, 4, self)
        self.table.setObjectName("operators_table")
        self.table.setHorizontalHeaderLabels([t("ops.col.username"), t("ops.col.name"),
                                              t("ops.col.role"), t("ops.col.state")])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.message = QLabel(self)
        self.message.setObjectName("operators_message")
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        for key, slot in (("ops.add", self.ask_add), ("ops.reset", self.ask_reset),
                          ("ops.unlock", self.unlock_selected),
                          ("ops.deactivate", self.ask_deactivate)):
            button = QPushButton(t(key), self)
            button.setAutoDefault(False)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        close = QPushButton(t("ops.close"), self)
        close.clicked.connect(self.accept)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.resize(720, 420)
        self.reload()

    # -- the list -------------------------------------------------------------------------------

    def reload(self) -> None:
        self.worker.call(list_job, on_result=self._show, on_error=self._failed)

    def _show(self, operators: list[Any]) -> None:
        selected = self.selected()
        self.operators = operators
        now = now_utc()
        self.table.setRowCount(len(operators))
        for row, op in enumerate(operators):
            for column, text in enumerate((op.username, op.display_name, role_label(op.role),
                                           state_text(op, now))):
                self.table.setItem(row, column, QTableWidgetItem(text))
            if selected is not None and op.username == selected.username:
                self.table.selectRow(row)
        # Usernames, names and roles whole; the state takes what is left.
        for column in range(self.table.columnCount() - 1):
            self.table.resizeColumnToContents(column)

    def selected(self) -> Any:
        row = self.table.currentRow()
        return self.operators[row] if 0 <= row < len(self.operators) else None

    def select(self, username: str) -> None:
        for row, op in enumerate(self.operators):
            if op.username == username:
                self.table.selectRow(row)

    # -- actions (the ask_* ones show dialogs; the others are what they run) --------------------

    def _allowed(self) -> bool:
        if not self.session.is_admin:
            self.message.setText(t("ops.admin_only"))
            return False
        return True

    def _run(self, job, *args, done: str = "") -> None:
        if not self._allowed():
            return

        def finished(_result: Any) -> None:
            self.message.setText(done)
            self.reload()

        self.worker.call(job, *args, self.session.username, now_utc(), on_result=finished,
                         on_error=self._failed, changes=True)

    def add(self, username: str, display_name: str, role: str, password: str) -> None:
        self._run(add_job, username, display_name, role, password,
                  done=t("ops.done.add", name=" ".join(display_name.split())))

    def reset_password(self, username: str, password: str) -> None:
        self._run(reset_job, username, password, done=t("ops.done.reset", name=username))

    def unlock(self, username: str) -> None:
        self._run(unlock_job, username, done=t("ops.done.unlock", name=username))

    def deactivate(self, username: str) -> None:
        self._run(deactivate_job, username, done=t("ops.done.deactivate", name=username))

    def ask_add(self) -> None:
        if not self._allowed():
            return
        dialog = AddOperatorDialog(self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.add(*dialog.values())
        dialog.deleteLater()

    def _chosen(self) -> Any:
        chosen = self.selected()
        if chosen is None:
            self.message.setText(t("ops.choose"))
        return chosen

    def ask_reset(self) -> None:
        chosen = self._chosen()
        if chosen is None or not self._allowed():
            return
        answer = ask_password(self, plain("ops.reset.title", name=chosen.display_name))
        if answer is not None:
            self.reset_password(chosen.username, answer[1])

    def unlock_selected(self) -> None:
        chosen = self._chosen()
        if chosen is not None:
            self.unlock(chosen.username)

    def ask_deactivate(self) -> None:
        chosen = self._chosen()
        if chosen is None or not self._allowed():
            return
        if confirm(self, plain("ops.deactivate"),
                   t("ops.deactivate.confirm", name=chosen.display_name)):
            self.deactivate(chosen.username)

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(error_text(exc))
