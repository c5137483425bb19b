"""Logging in: the log-in dialog before the window, the first admin account on a new device, the
lock screen over an idle window, and changing one's own password.

Every check runs on the database worker (`DbWorker.call`) with the time passed in; nothing here
reads or writes the database itself, and no password is kept after the check.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.labels import t

ERROR_STYLE = "color: #b00020;"


def now_utc() -> datetime:
    return datetime.now(UTC)


def error_text(exc: BaseException) -> str:
    """What the operator reads for a failed account job (messages are Indonesian already)."""
    from storage.operators import OperatorError
    from ui.errors import is_storage_error

    if isinstance(exc, OperatorError) or is_storage_error(exc):
        return str(exc)
    return t("error.unexpected", kind=type(exc).__name__)


def password_edit(parent: QWidget, name: str) -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setObjectName(name)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setMaxLength(256)
    return edit


# --- jobs for the database worker (no Qt) -----------------------------------------------------


def error_label(parent: QWidget) -> QLabel:
    """Where a dialog says what is wrong with what was typed."""
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setStyleSheet(ERROR_STYLE)
    return label


def passwords_ok(message: QLabel, password: str, repeat: str) -> bool:
    """The storage rule for a new password typed twice; its refusal goes into `message`."""
    from storage.operators import OperatorError, check_password

    try:
        check_password(password, repeat)
    except OperatorError as exc:
        message.setText(str(exc))
        return False
    return True


def ok_cancel_form(dialog: QDialog, fields: QFormLayout, message: QLabel) -> None:
    """Fields, the error line and OK/Cancel; OK runs `dialog._check`, which accepts or says
    why not."""
    buttons = QDialogButtonBox(dialog)
    ok = buttons.addButton(t("btn.ok"), QDialogButtonBox.ButtonRole.AcceptRole)
    buttons.addButton(t("btn.cancel"), QDialogButtonBox.ButtonRole.RejectRole)
    ok.clicked.connect(dialog._check)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addLayout(fields)
    layout.addWidget(message)
    layout.addWidget(buttons)


def log_in_job(registry, username: str, password: str, now: datetime):
    return registry.operators.log_in(username, password, now)


def first_admin_job(registry, username: str, display_name: str, password: str, now: datetime):
    """Create the first admin (refused once any operator exists) and log it in."""
    from storage.operators import OperatorError

    operators = registry.operators
    if operators.count(active_only=False):
        raise OperatorError("already_set_up")
    operators.add(username, display_name, "admin", password, now=now)
    return operators.log_in(username, password, now)


def count_operators_job(registry) -> int:
    return registry.operators.count()


# --- the log-in form (used by the dialog and the lock screen) ---------------------------------


class LoginForm(QWidget):
    """Username, password and a message. `logged_in(Operator)` after a successful check."""

    logged_in = Signal(object)

    def __init__(self, worker: Any, *, username: str = "", hint: str = "",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.worker = worker
        self._busy = False
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

        fields = QFormLayout()
        fields.addRow(t("login.username"), self.username)
        fields.addRow(t("login.password"), self.password)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.hint)
        layout.addLayout(fields)
        layout.addWidget(self.message)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.submit_button)
        layout.addLayout(row)

        self.submit_button.clicked.connect(self.submit)
        self.username.returnPressed.connect(self.password.setFocus)
        self.password.returnPressed.connect(self.submit)

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
        self.worker.call(log_in_job, username, password, now_utc(),
                         on_result=self._answered, on_error=self._failed)

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


class LoginDialog(QDialog):
    """Shown by run_app before the window; `operator` is set when it is accepted."""

    def __init__(self, worker: Any, *, hint: str = "", username: str = "",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("login_dialog")
        self.setWindowTitle(t("login.title"))
        self.operator: Any = None
        heading = QLabel(f"<b>{t('login.heading')}</b>", self)
        self.form = LoginForm(worker, username=username, hint=hint, parent=self)
        self.form.logged_in.connect(self._logged_in)
        quit_button = QPushButton(t("login.quit"), self)
        quit_button.setAutoDefault(False)
        quit_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.form)
        layout.addWidget(quit_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.resize(440, 0)
        self.form.focus()

    def _logged_in(self, operator: Any) -> None:
        self.operator = operator
        self.accept()


class FirstAdminDialog(QDialog):
    """A device without any operator: make the first admin account (then it is logged in)."""

    def __init__(self, worker: Any, parent: QWidget | None = None):
        from storage.operators import MIN_PASSWORD_LENGTH

        super().__init__(parent)
        self.setObjectName("first_admin_dialog")
        self.setWindowTitle(t("first.title"))
        self.worker = worker
        self.operator: Any = None
        intro = QLabel(t("first.intro"), self)
        intro.setWordWrap(True)
        self.username = QLineEdit(self)
        self.username.setObjectName("first_username")
        self.display_name = QLineEdit(self)
        self.display_name.setObjectName("first_display_name")
        self.password = password_edit(self, "first_password")
        self.password.setPlaceholderText(t("op.password_rule", n=MIN_PASSWORD_LENGTH))
        self.repeat = password_edit(self, "first_repeat")
        self.message = error_label(self)
        self.message.setObjectName("first_message")
        buttons = QDialogButtonBox(self)
        self.create_button = buttons.addButton(t("first.create"),
                                               QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_button.setDefault(True)
        quit_button = buttons.addButton(t("login.quit"), QDialogButtonBox.ButtonRole.RejectRole)
        quit_button.setAutoDefault(False)
        self.create_button.clicked.connect(self.submit)
        quit_button.clicked.connect(self.reject)

        fields = QFormLayout()
        fields.addRow(t("login.username"), self.username)
        fields.addRow(t("op.display_name"), self.display_name)
        fields.addRow(t("login.password"), self.password)
        fields.addRow(t("op.password_again"), self.repeat)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(fields)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.resize(480, 0)

    def submit(self) -> None:
        password = self.password.text()
        if not passwords_ok(self.message, password, self.repeat.text()):
            return
        self.create_button.setEnabled(False)
        self.worker.call(first_admin_job, self.username.text(), self.display_name.text(),
                         password, now_utc(), on_result=self._created, on_error=self._failed,
                         changes=True)

    def _created(self, result: Any) -> None:
        self.create_button.setEnabled(True)
        self.password.clear()
        self.repeat.clear()
        if result.ok:
            self.operator = result.operator
            self.accept()
        else:  # cannot happen right after creating it, but never leave the dialog stuck
            self.message.setText(result.message)

    def _failed(self, exc: BaseException) -> None:
        self.create_button.setEnabled(True)
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
        box = QWidget(self)
        box.setMaximumWidth(460)
        inner = QVBoxLayout(box)
        inner.addWidget(self.title)
        inner.addWidget(self.text)
        inner.addWidget(self.form)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)

    def show_for(self, operator: Any) -> None:
        """Ask `operator`'s password (None: after a log-out, anyone may log in)."""
        if operator is None:
            self.text.setText(t("lock.logged_out"))
            self.form.reset("")
        else:
            self.text.setText(t("lock.text", name=operator.display_name))
            self.form.reset(operator.username)


def change_password_job(registry, username: str, old: str, new: str, now: datetime) -> None:
    registry.operators.change_password(username, new, now=now, by=username, old_password=old)


class PasswordDialog(QDialog):
    """A new password typed twice; with `ask_old`, the current one too. `values()` after
    accept: (old or None, new)."""

    def __init__(self, title: str, *, ask_old: bool = False, parent: QWidget | None = None):
        from storage.operators import MIN_PASSWORD_LENGTH

        super().__init__(parent)
        self.setObjectName("password_dialog")
        self.setWindowTitle(title)
        self.old = password_edit(self, "password_old") if ask_old else None
        self.new = password_edit(self, "password_new")
        self.new.setPlaceholderText(t("op.password_rule", n=MIN_PASSWORD_LENGTH))
        self.repeat = password_edit(self, "password_repeat")
        self.message = error_label(self)
        fields = QFormLayout()
        if self.old is not None:
            fields.addRow(t("op.old_password"), self.old)
        fields.addRow(t("op.new_password"), self.new)
        fields.addRow(t("op.password_again"), self.repeat)
        ok_cancel_form(self, fields, self.message)

    def _check(self) -> None:
        if passwords_ok(self.message, self.new.text(), self.repeat.text()):
            self.accept()

    def values(self) -> tuple[str | None, str]:
        return (self.old.text() if self.old is not None else None), self.new.text()


def ask_password(parent: QWidget, title: str, *, ask_old: bool = False
                 ) -> tuple[str | None, str] | None:
    """(old, new) typed in a PasswordDialog, or None when cancelled. Replaced in tests."""
    dialog = PasswordDialog(title, ask_old=ask_old, parent=parent)
    try:
        return dialog.values() if dialog.exec() == QDialog.DialogCode.Accepted else None
    finally:
        dialog.deleteLater()


__all__ = ["FirstAdminDialog", "LockScreen", "LoginDialog", "LoginForm", "PasswordDialog"]
