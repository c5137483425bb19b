"""Who is logged in, and the idle timer that locks the window (DESIGN.md §7).

`Session` holds the logged-in operator (storage.operators.Operator) of a window; forms find it
with `session_of(widget)` through their parents, so the operator recorded on a save is always
the one logged in at that moment. `IdleWatcher` watches keyboard and mouse input anywhere in
the application and emits `idle` after the given time without any.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QWidget

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
    """The operator logged in to one window. `changed(operator or None)` on every change."""

    changed = Signal(object)

    def __init__(self, operator: Any = None, parent: QObject | None = None):
        super().__init__(parent)
        self.operator = operator

    def set_operator(self, operator: Any) -> None:
        self.operator = operator
        self.changed.emit(operator)

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
