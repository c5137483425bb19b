"""The log-in dialogs: the log-in before the window (it unlocks the encrypted database), the
first admin account on a new device with its recovery key (shown once), the way back in with
the recovery key, and changing a password.

Before the window, checks run through storage/unlock.py on the data folder (the database is not
open yet); a password change runs on the database worker. Nothing here reads or writes the
database itself, and no password is kept after the check. The form and the lock screen over an
idle window are ui/lock_screen.py; what they share with these dialogs is ui/login_parts.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.labels import t
from ui.lock_screen import Accepted, LoginForm, Refusal
from ui.login_parts import (
    error_label,
    error_text,
    form,
    keep_natural_size,
    named_edit,
    new_password_edits,
    now_utc,
    ok_cancel_form,
    password_edit,
    passwords_ok,
)


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
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.form)
        layout.addLayout(self._buttons())
        keep_natural_size(self, 440)
        self.form.focus()

    def _buttons(self) -> QHBoxLayout:
        """*Keluar* on the left; *Lupa kata sandi?* on the right when a folder is unlocked."""
        quit_button = QPushButton(t("login.quit"), self)
        quit_button.setAutoDefault(False)
        quit_button.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(quit_button)
        row.addStretch(1)
        if self.folder is not None:
            self.forgot_button = QPushButton(t("recovery.forgot"), self)
            self.forgot_button.setObjectName("login_forgot")
            self.forgot_button.setAutoDefault(False)
            self.forgot_button.clicked.connect(self._recover)
            row.addWidget(self.forgot_button)
        return row

    def _unlock(self, username: str, password: str, on_result, on_error) -> None:
        """Unlock the folder's database with this log-in (an upgrade of a plain one included)."""
        from storage.unlock import UnlockError, open_with_password

        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self.opened = open_with_password(self.folder, username, password, now_utc())
        except UnlockError as exc:
            on_result(Refusal(exc.message))
            return
        except Exception as exc:  # noqa: BLE001 - a damaged key file or database: said, not raised
            on_error(exc)
            return
        finally:
            QApplication.restoreOverrideCursor()
        on_result(Accepted(self.opened.operator))

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


class FirstAdminDialog(QDialog):
    """A device without any operator: make the first admin account (then it is logged in)."""

    def __init__(self, folder: Any, parent: QWidget | None = None):
        super().__init__(parent)
        intro = titled(self, "first_admin_dialog", "first.title", "first.intro")
        self.folder = folder
        self.operator: Any = None
        self.opened: Any = None  # storage.unlock.Opened: the new database, unlocked
        self.username = named_edit(self, "first_username")
        self.display_name = named_edit(self, "first_display_name")
        self.password, self.repeat = new_password_edits(self, "first_password", "first_repeat")
        self.message = error_label(self)
        self.message.setObjectName("first_message")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form([("login.username", self.username),
                               ("op.display_name", self.display_name),
                               ("login.password", self.password),
                               ("op.password_again", self.repeat)]))
        layout.addWidget(self.message)
        layout.addWidget(self._buttons())
        keep_natural_size(self, 480)

    def _buttons(self) -> QDialogButtonBox:
        """*Buat akun* (the default) and *Keluar*."""
        buttons = QDialogButtonBox(self)
        self.create_button = buttons.addButton(t("first.create"),
                                               QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_button.setDefault(True)
        quit_button = buttons.addButton(t("login.quit"), QDialogButtonBox.ButtonRole.RejectRole)
        quit_button.setAutoDefault(False)
        self.create_button.clicked.connect(self.submit)
        quit_button.clicked.connect(self.reject)
        return buttons

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


def change_password_job(registry, username: str, old: str, new: str, now: datetime) -> None:
    registry.operators.change_password(username, new, now=now, by=username, old_password=old)


class PasswordDialog(QDialog):
    """A new password typed twice; with `ask_old`, the current one too. `values()` after
    accept: (old or None, new)."""

    def __init__(self, title: str, *, ask_old: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("password_dialog")
        self.setWindowTitle(title)
        self.old = password_edit(self, "password_old") if ask_old else None
        self.new, self.repeat = new_password_edits(self, "password_new", "password_repeat")
        self.message = error_label(self)
        rows = [("op.old_password", self.old)] if self.old is not None else []
        rows += [("op.new_password", self.new), ("op.password_again", self.repeat)]
        ok_cancel_form(self, form(rows), self.message)

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


def titled(dialog: QDialog, name: str, title_key: str, intro_key: str) -> QLabel:
    """Names and titles the dialog; its introduction, wrapped."""
    dialog.setObjectName(name)
    dialog.setWindowTitle(t(title_key))
    intro = QLabel(t(intro_key), dialog)
    intro.setWordWrap(True)
    return intro


class RecoveryDialog(QDialog):
    """Every password forgotten: the recovery key opens the database, a new password is set for
    one account, and that account is logged in (`opened`)."""

    def __init__(self, folder: Any, parent: QWidget | None = None):
        super().__init__(parent)
        intro = titled(self, "recovery_dialog", "recovery.title", "recovery.intro")
        self.folder = folder
        self.opened: Any = None
        self.key = named_edit(self, "recovery_key")
        self.key.setPlaceholderText("XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX")
        self.username = named_edit(self, "recovery_username")
        self.new, self.repeat = new_password_edits(self, "recovery_password", "recovery_repeat")
        self.message = error_label(self)
        self.message.setObjectName("recovery_message")
        outer = QVBoxLayout()
        outer.addWidget(intro)
        outer.addLayout(form([("recovery.key", self.key), ("login.username", self.username),
                              ("op.new_password", self.new),
                              ("op.password_again", self.repeat)]))
        ok_cancel_form(self, outer, self.message)
        keep_natural_size(self, 520)

    def _check(self) -> None:
        if not passwords_ok(self.message, self.new.text(), self.repeat.text()):
            return
        try:
            self.opened = self._recover()
        except Exception as exc:  # noqa: BLE001 - said in the dialog
            self.message.setText(error_text(exc) if not hasattr(exc, "message")
                                 else str(exc.message))
            return
        self.accept()

    def _recover(self) -> Any:
        """The key opens the database, the account gets its new password, and the database
        is opened again with it."""
        from storage.unlock import open_with_password, open_with_recovery

        recovered = open_with_recovery(self.folder, self.key.text())
        try:
            recovered.registry.operators.change_password(
                self.username.text(), self.new.text(), now=now_utc(), by="pemulihan")
        finally:
            recovered.registry.close()
        return open_with_password(self.folder, self.username.text(), self.new.text(), now_utc())


class RecoveryKeyDialog(QDialog):
    """The recovery key, shown once in groups, with a check that it was copied."""

    def __init__(self, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        intro = titled(self, "recovery_key_dialog", "recovery.show_title", "recovery.show_text")
        self.key = QLabel(text.replace("-", "  "), self)
        self.key.setObjectName("recovery_key_text")
        self.key.setFont(_key_font())
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


def _key_font() -> QFont:
    """Large, bold and monospaced: the key is copied by hand."""
    font = QFont("monospace")
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPointSize(max(font.pointSize(), 14) + 2)
    font.setBold(True)
    return font


def show_recovery_key(parent: QWidget | None, text: str) -> None:
    """Shown once after the first admin is made (or after an upgrade). Replaced in tests."""
    dialog = RecoveryKeyDialog(text, parent)
    try:
        dialog.exec()
    finally:
        dialog.deleteLater()
