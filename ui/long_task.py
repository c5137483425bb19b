"""Long work (demo-data import, bulk operations) off the main thread, with progress and cancel.

The job runs on the database worker's thread as `fn(registry, *args, progress=..., cancel=...)`:
`progress(done, total)` may be called from that thread (it only emits a queued signal) and
`cancel` is a threading.Event the job checks between steps. What the job already committed stays.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from ui import errors
from ui.labels import t


class TaskCancelled(Exception):
    """Raised inside the job by its progress callback once the operator has cancelled."""


class _Relay(QObject):
    progress = Signal(int, int)


class LongTask(QObject):
    """One long job with its progress dialog. `finished(result)` or `failed(exc)` at the end;
    a cancelled job finishes normally (with what it returned) after `cancelled` is set."""

    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, parent: QWidget, worker: Any, title: str, label: str,
                 fn: Callable[..., Any], *args: Any):
        super().__init__(parent)
        self.cancel_event = threading.Event()
        self._relay = _Relay()
        self.dialog = QProgressDialog(label, t("progress.cancel"), 0, 0, parent)
        self.dialog.setWindowTitle(title)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(0)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.canceled.connect(self.cancel_event.set)
        self._relay.progress.connect(self._on_progress)
        relay, cancel = self._relay, self.cancel_event

        def progress(done: int, total: int) -> None:
            relay.progress.emit(int(done), int(total))
            if cancel.is_set():  # jobs without a cancel flag stop at their next progress step
                raise TaskCancelled

        accepts_cancel = "cancel" in inspect.signature(fn).parameters

        def job(registry, *job_args):
            extra = {"cancel": cancel} if accepts_cancel else {}
            try:
                return fn(registry, *job_args, progress=progress, **extra)
            except TaskCancelled:
                return None

        self.dialog.show()
        worker.call(job, *args, on_result=self._done, on_error=self._error, changes=True)

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def _on_progress(self, done: int, total: int) -> None:
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
