"""Status bar: registered today, total, waiting for sync (registry.stats on the reader)."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from ui.labels import t


def thousands(n: int) -> str:
    """228000 → "228.000" (Indonesian grouping)."""
    return f"{n:,}".replace(",", ".")


class RegistryStatusBar(QStatusBar):
    """Counts from the read-only registry; `refresh()` after saves and syncs."""

    def __init__(self, reader: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self._reader = reader
        self.today = QLabel(self)
        self.total = QLabel(self)
        self.waiting = QLabel(self)
        self.busy = QLabel(t("status.busy"), self)
        self.busy.hide()
        for label in (self.busy, self.today, self.total, self.waiting):
            label.setContentsMargins(8, 0, 8, 0)
            self.addPermanentWidget(label)
        self.refresh()

    def refresh(self) -> None:
        stats = self._reader.stats(date.today())
        self.today.setText(t("status.today", n=thousands(stats.registered_today)))
        self.total.setText(t("status.total", n=thousands(stats.total)))
        self.waiting.setText(t("status.waiting", n=thousands(stats.waiting_for_sync)))

    def set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
