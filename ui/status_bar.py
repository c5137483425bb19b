"""Status bar: registered today, total, waiting for sync (registry.stats).

The counts are taken on the database worker's thread: with 228,000 workers they take a moment,
and the window must not wait for them (at start-up, or after every save).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QWidget

from ui.labels import t


def thousands(n: int) -> str:
    """228000 → "228.000" (Indonesian grouping)."""
    return f"{n:,}".replace(",", ".")


def _stats(registry: Any) -> Any:
    return registry.stats(date.today())


class RegistryStatusBar(QStatusBar):
    """Counts from the registry; `refresh()` after saves and syncs (coalesced: at most one
    count runs at a time, and one more follows if something changed meanwhile).

    Messages (`showMessage`) go to a word-wrapping label beside the counts instead of Qt's own
    one-line message, which cuts a long message off behind the counts and the operator's name:
    a long message takes a second line."""

    def __init__(self, worker: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self._worker = worker
        self._running = False
        self._again = False
        self.today = QLabel(t("status.today", n="…"), self)
        self.total = QLabel(t("status.total", n="…"), self)
        self.waiting = QLabel(t("status.waiting", n="…"), self)
        self.busy = QLabel(t("status.busy"), self)
        self.busy.hide()
        self.note = QLabel(self)
        self.note.setObjectName("status_note")
        self.note.setWordWrap(True)
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.addWidget(self.note, 1)
        self._note_timer = QTimer(self, singleShot=True)
        self._note_timer.timeout.connect(self.clearMessage)
        for label in (self.busy, self.today, self.total, self.waiting):
            label.setContentsMargins(8, 0, 8, 0)
            self.addPermanentWidget(label)
        self.refresh()

    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802 - Qt's name
        self.note.setText(text)
        self.note.setToolTip(text)
        self._note_timer.stop()
        if timeout > 0:
            self._note_timer.start(timeout)

    def clearMessage(self) -> None:  # noqa: N802 - Qt's name
        self._note_timer.stop()
        self.note.clear()
        self.note.setToolTip("")

    def currentMessage(self) -> str:  # noqa: N802 - Qt's name
        return self.note.text()

    def refresh(self) -> None:
        if self._running:
            self._again = True
            return
        self._running = True
        self._worker.call(_stats, on_result=self._show, on_error=self._failed)

    def _show(self, stats: Any) -> None:
        self.today.setText(t("status.today", n=thousands(stats.registered_today)))
        self.total.setText(t("status.total", n=thousands(stats.total)))
        self.waiting.setText(t("status.waiting", n=thousands(stats.waiting_for_sync)))
        self._done()

    def _failed(self, _exc: BaseException) -> None:
        self._done()  # the counts stay as they were; the next write tries again

    def _done(self) -> None:
        self._running = False
        if self._again:
            self._again = False
            self.refresh()

    def set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
