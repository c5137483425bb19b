"""The one thread that owns writes to the local database: the database lane of ui/tasks.py.

SQLite allows one writer; the window must never wait on it. Every write (and any read that may
be slow) goes through `DbWorker.call`, which runs `fn(registry, *args)` on a dedicated QThread
and hands the result or the exception back on the main thread through a queued signal. Quick
reads for the list and the status bar use `worker.readonly`, a second, read-only connection
(WAL lets it read while the writer writes). Only database work runs here: a job that waits on
the network runs on a `ui.tasks.Tasks` pool and sends its database steps back here.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from ui.tasks import check_job

log = logging.getLogger(__name__)

TIDY_AFTER_MS = 3000  # quiet time after the last write before the database's upkeep runs


class _Executor(QObject):
    """Lives on the writer thread; runs the jobs queued to it, one at a time, in order."""

    finished = Signal(int, object)  # job id, result
    failed = Signal(int, object)  # job id, exception
    opened = Signal(object)  # None, or the exception that prevented opening

    def __init__(self, opener: Callable[[], Any]):
        super().__init__()
        self._opener = opener
        self.registry: Any = None

    @Slot()
    def open(self) -> None:
        try:
            self.registry = self._opener()
        except Exception as exc:  # reported to the main thread, which shows it
            self.opened.emit(exc)
            return
        self.opened.emit(None)

    @Slot(int, object, object)
    def run(self, job_id: int, fn: Callable, args: tuple) -> None:
        try:
            result = fn(self.registry, *args)
        except Exception as exc:
            log.warning("database job failed: %s", type(exc).__name__)
            self.failed.emit(job_id, exc)
            return
        self.finished.emit(job_id, result)

    @Slot()
    def close(self) -> None:
        if self.registry is not None and hasattr(self.registry, "close"):
            self.registry.close()
        self.registry = None
        # Quit from inside the thread, after every job queued before the close has run.
        QThread.currentThread().quit()


class DbWorker(QObject):
    """Owns the writer thread. `start()` opens the database (raising what opening raised);
    `call()` queues work; `shutdown()` finishes queued work and closes both connections."""

    changed = Signal()  # a write completed: views refresh
    error = Signal(object)  # an exception no caller handled (the window shows it)
    busy_changed = Signal(bool)  # writes (jobs with changes=True) are waiting or running

    _submit = Signal(int, object, object)
    _open = Signal()
    _close = Signal()

    def __init__(
        self,
        open_writer: Callable[[], Any],
        open_reader: Callable[[], Any] | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._open_reader = open_reader
        self.readonly: Any = None
        self._ids = itertools.count(1)
        self._writes = 0
        self._pending: dict[int, tuple[Callable | None, Callable | None, bool]] = {}
        self._thread = QThread()
        self._thread.setObjectName("db-writer")
        self._executor = _Executor(open_writer)
        self._executor.moveToThread(self._thread)
        self._submit.connect(self._executor.run)
        self._open.connect(self._executor.open)
        self._close.connect(self._executor.close)
        self._executor.finished.connect(self._on_finished)
        self._executor.failed.connect(self._on_failed)
        self._opened = threading.Event()
        self._open_error: BaseException | None = None
        self._executor.opened.connect(self._on_opened_direct, type=Qt.ConnectionType.DirectConnection)
        self._running = False
        # Upkeep (Registry.tidy) waits for a pause in writing, so no save ever waits on it.
        self._tidy_timer = QTimer(self)
        self._tidy_timer.setSingleShot(True)
        self._tidy_timer.setInterval(TIDY_AFTER_MS)
        self._tidy_timer.timeout.connect(self._tidy)

    @classmethod
    def for_path(cls, path: Path, *, device_id: str | None = None, key: bytes | None = None,
                 vault: Any = None) -> DbWorker:
        """The usual worker: a writer `Registry.open` and a reader `Registry.open_readonly`.
        `key` and `vault` (storage/vault.py) for the encrypted database the app opens after
        log-in; without them a plain database (tests)."""
        from storage.registry import Registry

        return cls(
            lambda: Registry.open(path, device_id=device_id, key=key, vault=vault),
            lambda: Registry.open_readonly(path, key=key, vault=vault),
        )

    @classmethod
    def for_registry(cls, registry: Any) -> DbWorker:
        """A worker that takes over a Registry opened already (by the log-in, which unlocked
        it), with a reader on the same file and key."""
        from storage.registry import Registry
        from sync.state import database_file

        path = database_file(registry)
        return cls(
            lambda: registry,
            lambda: Registry.open_readonly(path, key=registry.key, vault=registry.vault),
        )

    # -- life cycle -------------------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> None:
        """Open the database on the writer thread, then the reader here. Blocks until the writer
        has opened (migrations run before anyone reads), and raises its error if it failed."""
        self._thread.start()
        self._running = True
        self._open.emit()
        if not self._opened.wait(timeout):
            raise TimeoutError("database did not open in time")
        if self._open_error is not None:
            self.shutdown()
            raise self._open_error
        if self._open_reader is not None:
            self.readonly = self._open_reader()

    def _on_opened_direct(self, exc: object) -> None:
        # Runs on the writer thread (direct connection): only sets thread-safe state.
        self._open_error = exc if isinstance(exc, BaseException) else None
        self._opened.set()

    def shutdown(self) -> None:
        """Let queued jobs finish, close the writer on its own thread, stop the thread."""
        if not self._running:
            return
        self._running = False
        self._tidy_timer.stop()
        self._close.emit()  # queued behind every pending job; quits the thread when done
        self._thread.wait()
        if self.readonly is not None and hasattr(self.readonly, "close"):
            self.readonly.close()
        self.readonly = None

    @property
    def running(self) -> bool:
        return self._running

    # -- jobs -------------------------------------------------------------------------------

    def call(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        changes: bool = False,
    ) -> int:
        """Run `fn(registry, *args)` on the writer thread. `on_result(result)` or
        `on_error(exc)` is called later on the main thread; an error nobody handles is emitted
        as `error`. With `changes=True`, `changed` is emitted after success. Returns a job id,
        or -1 when the worker has already shut down (a timer of a closing window). Jobs take
        values, never widgets (`ui.tasks.check_job`: TypeError)."""
        check_job(fn, args)
        if not self._running:
            log.warning("database job dropped: the worker has shut down")
            return -1
        job_id = next(self._ids)
        self._pending[job_id] = (on_result, on_error, changes)
        if changes:
            self._writes += 1
            if self._writes == 1:
                self.busy_changed.emit(True)
        self._submit.emit(job_id, fn, args)
        return job_id

    def pending(self) -> int:
        return len(self._pending)

    def _pop(self, job_id: int) -> tuple[Callable | None, Callable | None, bool]:
        entry = self._pending.pop(job_id, (None, None, False))
        if entry[2]:
            self._writes -= 1
            if self._writes == 0:
                self.busy_changed.emit(False)
                self._tidy_timer.start()
        return entry

    def _tidy(self) -> None:
        if self._writes == 0 and hasattr(self._executor.registry, "tidy"):
            self.call(lambda registry: registry.tidy(), on_error=self._tidy_failed)
        elif self._writes:
            self._tidy_timer.start()

    @staticmethod
    def _tidy_failed(exc: BaseException) -> None:
        # Upkeep is optional: the next pause tries again. Not worth troubling the operator.
        log.warning("database upkeep failed: %s", type(exc).__name__)

    @Slot(int, object)
    def _on_finished(self, job_id: int, result: Any) -> None:
        on_result, _, changes = self._pop(job_id)
        if on_result is not None:
            on_result(result)
        if changes:
            self.changed.emit()

    @Slot(int, object)
    def _on_failed(self, job_id: int, exc: BaseException) -> None:
        _, on_error, _ = self._pop(job_id)
        if on_error is not None:
            on_error(exc)
        else:
            self.error.emit(exc)

