"""Who is logged in, and the idle timer that locks the window (DESIGN.md §7).

`Session` holds the logged-in operator (storage.operators.Operator) of a window; forms find it
with `session_of(widget)` through their parents, so the operator recorded on a save is always
the one logged in at that moment. It also says what that operator may do on this device
(`may(capability)`, storage/roles.py: the operator's role and the device's enrolled role); panels
ask it before they act, and `operator_ref()` is who a decision, print or reprint names. `IdleWatcher` watches keyboard and mouse input anywhere in
the application and emits `idle` after the given time without any.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QWidget

from storage import roles
from ui.labels import language

# Input that counts as "someone is using the app".
ACTIVITY_EVENTS = frozenset({
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
    QEvent.Type.TouchUpdate,
})


def role_label(role: str) -> str:
    from storage.operators import ROLE_LABELS, ROLE_LABELS_EN

    labels = ROLE_LABELS_EN if language() == "en" else ROLE_LABELS
    return labels.get(role, role)


class Session(QObject):
    """The operator logged in to one window. `changed(operator or None)` on every change of
    operator or of the device's role.

    `login_required` is True for a window opened after a log-in: then nobody logged in (after
    *Keluar akun*) may do nothing. A window built without log-in (tests, benchmarks,
    screenshots) may do everything its device's role allows."""

    changed = Signal(object)

    def __init__(self, operator: Any = None, parent: QObject | None = None, *,
                 login_required: bool | None = None):
        super().__init__(parent)
        self.operator = operator
        self.login_required = operator is not None if login_required is None else login_required
        self.device_role = ""  # "" until the device is enrolled with a server

    def set_operator(self, operator: Any) -> None:
        self.operator = operator
        self.changed.emit(operator)

    def set_device_role(self, role: str) -> None:
        if role != self.device_role:
            self.device_role = role
            self.changed.emit(self.operator)

    def capabilities(self) -> frozenset[str]:
        if self.operator is None:
            if self.login_required:
                return frozenset()
            return roles.capabilities("admin", self.device_role)
        return roles.capabilities(self.operator.role, self.device_role)

    def may(self, capability: str) -> bool:
        return capability in self.capabilities()

    def operator_ref(self) -> dict[str, str]:
        """Who acts, as decisions and card steps carry it: `{"username", "display_name"}`.
        Read on the main thread, before a background job starts."""
        return {"username": self.username, "display_name": self.display_name}

    @property
    def username(self) -> str:
        return self.operator.username if self.operator is not None else ""

    @property
    def display_name(self) -> str:
        return self.operator.display_name if self.operator is not None else ""

    @property
    def is_admin(self) -> bool:
        return self.operator is not None and self.operator.role == "admin"


def session_of(widget: QWidget | None) -> Session | None:
    """The session of the window `widget` lives in (through its parents), if any."""
    while widget is not None:
        session = getattr(widget, "session", None)
        if isinstance(session, Session):
            return session
        widget = widget.parentWidget()
    return None


def may(widget: QWidget | None, capability: str) -> bool:
    """Whether the operator of `widget`'s window may do `capability`. A widget outside any
    window with a session (a panel tested alone, a command-line dialog) is not limited here;
    the server still checks the device's role."""
    session = session_of(widget)
    return session is None or session.may(capability)


class IdleWatcher(QObject):
    """Emits `idle` once after `interval_ms` without keyboard or mouse input in the app.
    `start()` arms it, `stop()` disarms it (while the lock screen shows)."""

    idle = Signal()

    def __init__(self, interval_ms: int, parent: QObject | None = None):
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(max(int(interval_ms), 1))
        self._timer.timeout.connect(self.idle)
        self._active = False
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def set_interval_ms(self, interval_ms: int) -> None:
        self._timer.setInterval(max(int(interval_ms), 1))
        if self._active:
            self._timer.start()

    def interval_ms(self) -> int:
        return self._timer.interval()

    def start(self) -> None:
        self._active = True
        self._timer.start()

    def stop(self) -> None:
        self._active = False
        self._timer.stop()

    @property
    def active(self) -> bool:
        return self._active

    def remove(self) -> None:
        self.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if self._active and event.type() in ACTIVITY_EVENTS:
            self._timer.start()  # restarts the countdown
        return False
