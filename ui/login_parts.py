"""The pieces the log-in dialogs, the lock screen and the operators' dialogs share: a password
input, a new password typed twice and its check, the error line, a form with OK/Cancel, the
natural size of a dialog, the clock and the message for a failed account job."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLayout,
    QLineEdit,
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


def named_edit(parent: QWidget, name: str) -> QLineEdit:
    """An input with the object name tests and the style sheet find it by."""
    edit = QLineEdit(parent)
    edit.setObjectName(name)
    return edit


def password_edit(parent: QWidget, name: str) -> QLineEdit:
    edit = named_edit(parent, name)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setMaxLength(256)
    return edit


def new_password_edits(parent: QWidget, new_name: str, repeat_name: str
                       ) -> tuple[QLineEdit, QLineEdit]:
    """A new password (the rule shown in it) and the same typed again."""
    from storage.operators import MIN_PASSWORD_LENGTH

    new = password_edit(parent, new_name)
    new.setPlaceholderText(t("op.password_rule", n=MIN_PASSWORD_LENGTH))
    return new, password_edit(parent, repeat_name)


def form(rows: list[tuple[str, QWidget]]) -> QFormLayout:
    """Inputs each under its label's key."""
    fields = QFormLayout()
    for key, widget in rows:
        fields.addRow(t(key), widget)
    return fields


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


def ok_cancel_form(dialog: QDialog, fields: QLayout, message: QLabel) -> None:
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
