"""Long work (demo-data import, bulk operations, the demo's data) with a progress dialog and a
Cancel button: the window's face of `ui.tasks.LongRun`.

Given the database worker, the job runs on the writer as `fn(registry, *args, progress=...,
cancel=...)`; without one (`worker=None`), on the long lane's own thread as `fn(*args, ...)`
(work that opens its own connection, such as the demo's syncs). What the job already committed
stays when it is cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from ui import errors
from ui.labels import t
from ui.tasks import LongRun, TaskCancelled

__all__ = ["LongTask", "TaskCancelled"]


class LongTask(QObject):
    """One long job with its progress dialog. `finished(result)` or `failed(exc)` at the end;
    a cancelled job finishes normally (with what it returned) after `cancelled` is set."""

    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, parent: QWidget, worker: Any, title: str, label: str,
                 fn: Callable[..., Any], *args: Any):
        super().__init__(parent)
        self.dialog = QProgressDialog(label, t("progress.cancel"), 0, 0, parent)
        self.dialog.setWindowTitle(title)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(0)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.run = LongRun(fn, *args, worker=worker, parent=self, start=False)
        self.cancel_event = self.run.cancel_event
        self.dialog.canceled.connect(self.run.cancel)
        self.run.progress.connect(self._on_progress)
        self.run.finished.connect(self._done)
        self.run.failed.connect(self._error)
        self.dialog.show()
        self.run.start()

    @property
    def cancelled(self) -> bool:
        return self.run.cancelled

    def _on_progress(self, done: int, total: int, _phase: str = "") -> None:
        if self.dialog.maximum() != total:
            self.dialog.setMaximum(max(total, 0))
        self.dialog.setValue(min(done, total) if total else 0)

    def _done(self, result: Any) -> None:
        self.dialog.close()
        self.finished.emit(result)

    def _error(self, exc: BaseException) -> None:
        self.dialog.close()
        errors.show_error(self.parent(), exc)
        self.failed.emit(exc)
