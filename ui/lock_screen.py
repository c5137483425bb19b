"""The log-in form and the lock screen over an idle window, which shows it; the log-in dialog
before the window (ui/login.py) shows the same form. The form's check is given: before the
window an unlock of the data folder, on the lock screen a log-in on the database worker
(`log_in_job`). No password is kept after the check."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ui.labels import t
from ui.login_parts import ERROR_STYLE, error_text, form, now_utc, password_edit


def log_in_job(registry, username: str, password: str, now: datetime):
    """On the database worker: the lock screen's check."""
    return registry.operators.log_in(username, password, now)


class Refusal:
    """A check that said no, with the reason to show."""

    ok = False
    operator = None

    def __init__(self, message: str):
        self.message = message


class Accepted:
    """A check that let the operator in."""

    ok = True
    message = ""

    def __init__(self, operator: Any):
        self.operator = operator


class LoginForm(QWidget):
    """Username, password and a message. `logged_in(Operator)` after a successful check."""

    logged_in = Signal(object)

    def __init__(self, worker: Any, *, username: str = "", hint: str = "",
                 parent: QWidget | None = None, check: Any = None):
        super().__init__(parent)
        self.worker = worker
        # check(username, password, on_result, on_error): the lock screen's default runs
        # log_in_job on the worker; before the window it is an unlock of the data folder.
        self.check = check or self._check_on_worker
        self._busy = False
        self._build(username, hint)
        self.submit_button.clicked.connect(self.submit)
        self.username.returnPressed.connect(self.password.setFocus)
        self.password.returnPressed.connect(self.submit)

    def _build(self, username: str, hint: str) -> None:
        self.username = QLineEdit(username, self)
        self.username.setObjectName("login_username")
        self.username.setMaxLength(64)
        self.password = password_edit(self, "login_password")
        self.message = QLabel(self)
        self.message.setObjectName("login_message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.hint = QLabel(hint, self)
        self.hint.setObjectName("login_hint")
        self.hint.setWordWrap(True)
        self.hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint.setVisible(bool(hint))
        self.submit_button = QPushButton(t("login.submit"), self)
        self.submit_button.setObjectName("login_submit")
        self.submit_button.setDefault(True)
        self.submit_button.setAutoDefault(True)
        self._place()

    def _place(self) -> None:
        fields = form([("login.username", self.username), ("login.password", self.password)])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.hint)
        layout.addLayout(fields)
        layout.addWidget(self.message)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.submit_button)
        layout.addLayout(row)

    def focus(self) -> None:
        (self.password if self.username.text() else self.username).setFocus()

    def reset(self, username: str = "") -> None:
        self.username.setText(username)
        self.password.clear()
        self.message.clear()
        self.focus()

    def submit(self) -> None:
        if self._busy:
            return
        username, password = self.username.text().strip(), self.password.text()
        self.password.clear()  # the text leaves the widget at once
        self._busy = True
        self.submit_button.setEnabled(False)
        self.message.setText(t("login.checking"))
        self.check(username, password, self._answered, self._failed)

    def _check_on_worker(self, username: str, password: str, on_result, on_error) -> None:
        self.worker.call(log_in_job, username, password, now_utc(),
                         on_result=on_result, on_error=on_error)

    def _answered(self, result: Any) -> None:
        self._busy = False
        self.submit_button.setEnabled(True)
        if result.ok:
            self.message.clear()
            self.logged_in.emit(result.operator)
            return
        self.message.setText(result.message)
        self.password.setFocus()

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        self.submit_button.setEnabled(True)
        self.message.setText(error_text(exc))


class LockScreen(QWidget):
    """Covers the window's tabs while it is locked. `unlocked(Operator)` when the same or
    another operator logs in."""

    unlocked = Signal(object)

    def __init__(self, worker: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("lock_screen")
        self.title = QLabel(f"<h2>{t('lock.title')}</h2>", self)
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.form = LoginForm(worker, parent=self)
        self.form.logged_in.connect(self.unlocked)
        self.box = QWidget(self)
        self.box.setObjectName("lock_box")
        self.box.setMinimumWidth(360)
        self.box.setMaximumWidth(460)
        inner = QVBoxLayout(self.box)
        inner.addWidget(self.title)
        inner.addWidget(self.text)
        inner.addWidget(self.form)
        self._centre()

    def _centre(self) -> None:
        """Centred by stretches rather than by an alignment flag: a layout item with an
        alignment is given its size hint without asking the wrapped texts' height for the
        width it really gets, which squashed the inputs to a few pixels in a real window."""
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.box, 4)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(2)
        self.box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def show_for(self, operator: Any) -> None:
        """Ask `operator`'s password (None: after a log-out, anyone may log in)."""
        if operator is None:
            self.text.setText(t("lock.logged_out"))
            self.form.reset("")
        else:
            self.text.setText(t("lock.text", name=operator.display_name))
            self.form.reset(operator.username)
