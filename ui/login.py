"""Logging in: the log-in dialog before the window (it unlocks the encrypted database), the
first admin account on a new device (with its recovery key, shown once), the way back in with
the recovery key, the lock screen over an idle window, and changing one's own password.

Before the window, checks run through storage/unlock.py on the data folder (the database is not
open yet); the lock screen's checks run on the database worker (`DbWorker.call`). Nothing here
reads or writes the database itself, and no password is kept after the check.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ui.labels import t

ERROR_STYLE = "color: #b00020;"


def keep_natural_size(widget: QWidget, width: int) -> None:
    """At least `width` wide and never lower than its content needs at that width. Without a
    window manager, or with one that ignores size hints, a dialog with wrapped text was shown
    squashed (its inputs a few pixels tall): the height its wrapped texts need at the real width
    is made the minimum here, so no window system can give it less."""
    layout = widget.layout()
    width = max(width, widget.sizeHint().width())
    height = widget.sizeHint().height()
    if layout is not None and layout.hasHeightForWidth():
        height = max(height, layout.totalHeightForWidth(width))
    widget.setMinimumSize(width, height)
    widget.resize(width, height)


def now_utc() -> datetime:
    return datetime.now(UTC)


def error_text(exc: BaseException) -> str:
    """What the operator reads for a failed account job (messages are Indonesian already)."""
    from storage.operators import OperatorError
    from storage.unlock import UnlockError
    from storage.vault import VaultError
    from ui.errors import is_storage_error

    if isinstance(exc, OperatorError | VaultError | UnlockError) or is_storage_error(exc):
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


def count_operators_job(registry) -> int:
    return registry.operators.count()


# --- the log-in form (used by the dialog and the lock screen) ---------------------------------


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


class LoginDialog(QDialog):
    """Shown by run_app before the window; `operator` is set when it is accepted."""

    def __init__(self, worker: Any = None, *, hint: str = "", username: str = "",
                 parent: QWidget | None = None, folder: Any = None):
        super().__init__(parent)
        self.setObjectName("login_dialog")
        self.setWindowTitle(t("login.title"))
        self.operator: Any = None
        self.opened: Any = None  # storage.unlock.Opened, before the window (`folder` given)
        self.folder = folder
        heading = QLabel(f"<b>{t('login.heading')}</b>", self)
        check = self._unlock if folder is not None else None
        self.form = LoginForm(worker, username=username, hint=hint, parent=self, check=check)
        self.form.logged_in.connect(self._logged_in)
        quit_button = QPushButton(t("login.quit"), self)
        quit_button.setAutoDefault(False)
        quit_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.form)
        row = QHBoxLayout()
        row.addWidget(quit_button)
        row.addStretch(1)
        if folder is not None:
            self.forgot_button = QPushButton(t("recovery.forgot"), self)
            self.forgot_button.setObjectName("login_forgot")
            self.forgot_button.setAutoDefault(False)
            self.forgot_button.clicked.connect(self._recover)
            row.addWidget(self.forgot_button)
        layout.addLayout(row)
        keep_natural_size(self, 440)
        self.form.focus()

    def _unlock(self, username: str, password: str, on_result, on_error) -> None:
        """Unlock the folder's database with this log-in (an upgrade of a plain one included)."""
        from storage.unlock import UnlockError, open_with_password

        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self.opened = open_with_password(self.folder, username, password, now_utc())
        except UnlockError as exc:
            on_result(_Refusal(exc.message))
            return
        except Exception as exc:  # noqa: BLE001 - a damaged key file or database: said, not raised
            on_error(exc)
            return
        finally:
            QApplication.restoreOverrideCursor()
        on_result(_Accepted(self.opened.operator))

    def _recover(self) -> None:
        dialog = RecoveryDialog(self.folder, self)
        try:
            if dialog.exec() == QDialog.DialogCode.Accepted:
                self.opened = dialog.opened
                self._logged_in(dialog.opened.operator)
        finally:
            dialog.deleteLater()

    def _logged_in(self, operator: Any) -> None:
        self.operator = operator
        self.accept()


class _Refusal:
    ok = False
    operator = None

    def __init__(self, message: str):
        self.message = message


class _Accepted:
    ok = True
    message = ""

    def __init__(self, operator: Any):
        self.operator = operator


class FirstAdminDialog(QDialog):
    """A device without any operator: make the first admin account (then it is logged in)."""

    def __init__(self, folder: Any, parent: QWidget | None = None):
        from storage.operators import MIN_PASSWORD_LENGTH

        super().__init__(parent)
        self.setObjectName("first_admin_dialog")
        self.setWindowTitle(t("first.title"))
        self.folder = folder
        self.operator: Any = None
        self.opened: Any = None  # storage.unlock.Opened: the new database, unlocked
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
        keep_natural_size(self, 480)

    def submit(self) -> None:
        from storage.unlock import set_up

        password = self.password.text()
        if not passwords_ok(self.message, password, self.repeat.text()):
            return
        self.create_button.setEnabled(False)
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self.opened = set_up(self.folder, self.username.text(), self.display_name.text(),
                                 password, now_utc())
        except Exception as exc:  # noqa: BLE001 - refusals and failures are said in the dialog
            self._failed(exc)
            return
        finally:
            QApplication.restoreOverrideCursor()
        self.create_button.setEnabled(True)
        self.password.clear()
        self.repeat.clear()
        self.operator = self.opened.operator
        self.accept()

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
        self.box = QWidget(self)
        self.box.setObjectName("lock_box")
        self.box.setMinimumWidth(360)
        self.box.setMaximumWidth(460)
        inner = QVBoxLayout(self.box)
        inner.addWidget(self.title)
        inner.addWidget(self.text)
        inner.addWidget(self.form)
        # Centred by stretches rather than by an alignment flag: a layout item with an
        # alignment is given its size hint without asking the wrapped texts' height for the
        # width it really gets, which squashed the inputs to a few pixels in a real window.
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


class RecoveryDialog(QDialog):
    """Every password forgotten: the recovery key opens the database, a new password is set for
    one account, and that account is logged in (`opened`)."""

    def __init__(self, folder: Any, parent: QWidget | None = None):
        from storage.operators import MIN_PASSWORD_LENGTH

        super().__init__(parent)
        self.setObjectName("recovery_dialog")
        self.setWindowTitle(t("recovery.title"))
        self.folder = folder
        self.opened: Any = None
        intro = QLabel(t("recovery.intro"), self)
        intro.setWordWrap(True)
        self.key = QLineEdit(self)
        self.key.setObjectName("recovery_key")
        self.key.setPlaceholderText("XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX")
        self.username = QLineEdit(self)
        self.username.setObjectName("recovery_username")
        self.new = password_edit(self, "recovery_password")
        self.new.setPlaceholderText(t("op.password_rule", n=MIN_PASSWORD_LENGTH))
        self.repeat = password_edit(self, "recovery_repeat")
        self.message = error_label(self)
        self.message.setObjectName("recovery_message")
        fields = QFormLayout()
        fields.addRow(t("recovery.key"), self.key)
        fields.addRow(t("login.username"), self.username)
        fields.addRow(t("op.new_password"), self.new)
        fields.addRow(t("op.password_again"), self.repeat)
        outer = QVBoxLayout()
        outer.addWidget(intro)
        outer.addLayout(fields)
        ok_cancel_form(self, outer, self.message)
        keep_natural_size(self, 520)

    def _check(self) -> None:
        from storage.unlock import open_with_password, open_with_recovery

        if not passwords_ok(self.message, self.new.text(), self.repeat.text()):
            return
        try:
            recovered = open_with_recovery(self.folder, self.key.text())
            try:
                recovered.registry.operators.change_password(
                    self.username.text(), self.new.text(), now=now_utc(), by="pemulihan")
            finally:
                recovered.registry.close()
            self.opened = open_with_password(self.folder, self.username.text(),
                                             self.new.text(), now_utc())
        except Exception as exc:  # noqa: BLE001 - said in the dialog
            self.message.setText(error_text(exc) if not hasattr(exc, "message")
                                 else str(exc.message))
            return
        self.accept()


class RecoveryKeyDialog(QDialog):
    """The recovery key, shown once in groups, with a check that it was copied."""

    def __init__(self, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("recovery_key_dialog")
        self.setWindowTitle(t("recovery.show_title"))
        intro = QLabel(t("recovery.show_text"), self)
        intro.setWordWrap(True)
        self.key = QLabel(text.replace("-", "  "), self)
        self.key.setObjectName("recovery_key_text")
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSize(max(font.pointSize(), 14) + 2)
        font.setBold(True)
        self.key.setFont(font)
        self.key.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key.setAlignment(Qt.AlignmentFlag.AlignCenter)
        copy = QPushButton(t("recovery.copy"), self)
        copy.setAutoDefault(False)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(text))
        self.copied = QCheckBox(t("recovery.copied"), self)
        self.copied.setObjectName("recovery_copied")
        buttons = QDialogButtonBox(self)
        self.ok = buttons.addButton(t("btn.ok"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setEnabled(False)
        self.copied.toggled.connect(self.ok.setEnabled)
        self.ok.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.key)
        layout.addWidget(copy, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.copied)
        layout.addWidget(buttons)
        keep_natural_size(self, 520)

    def reject(self) -> None:  # Escape does not skip it: the key is never shown again
        if self.copied.isChecked():
            super().reject()


def show_recovery_key(parent: QWidget | None, text: str) -> None:
    """Shown once after the first admin is made (or after an upgrade). Replaced in tests."""
    dialog = RecoveryKeyDialog(text, parent)
    try:
        dialog.exec()
    finally:
        dialog.deleteLater()


__all__ = ["FirstAdminDialog", "RecoveryDialog", "RecoveryKeyDialog", "LockScreen", "LoginDialog", "LoginForm", "PasswordDialog"]
