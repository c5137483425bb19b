"""The one way to run work off the main thread (in the spirit of Picard's `run_task`).

Three lanes, each for one kind of work:

- **database work** runs on the one writer thread, `DbWorker.call(fn, *args)` (ui/db_worker.py):
  `fn(registry, *args)`, one job at a time, in order. Nothing else runs there: a job that waits
  for the network belongs on the pool, and its database steps go back to the writer.
- **network work** (and other slow work that touches no database) runs on a `Tasks` pool:
  `tasks.run(fn, *args, kind=...)`. With a `kind`, only the latest request of that kind is
  answered; an older answer (a list page the operator has already left) is dropped.
- **long work with progress and cancel** is a `LongRun`: `fn(*args, progress=..., cancel=...)` on
  the writer (database work, given a worker) or on a thread of its own lane (a sync or the demo,
  which open their own connection: WAL lets them write beside the writer).

Jobs take values and never widgets: what a job needs from the window is read on the main thread
before it starts. `check_job` refuses a widget among the arguments, a widget's bound method and
a widget caught in a lambda's closure. Every answer comes back on the main thread through a
queued signal (`to_main`), so callbacks may touch widgets.
"""

from __future__ import annotations

import inspect
import itertools
import logging
import threading
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThreadPool, Signal, Slot
from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)

LONG_THREADS = 2  # a sync and a card batch may run side by side; more would fight for 2 cores


# --- values, never widgets -------------------------------------------------------------------


def check_job(fn: Callable, args: tuple = ()) -> None:
    """TypeError when a job would reach a widget from another thread."""
    owner = getattr(fn, "__self__", None)
    captured = [cell.cell_contents for cell in (getattr(fn, "__closure__", None) or ())
                if _filled(cell)]
    for value in (owner, *args, *captured):
        if isinstance(value, QWidget):
            raise TypeError(f"a background job must not take a widget ({type(value).__name__}): "
                            "read its value on the main thread and pass that")


def _filled(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell (a name not bound yet) raises
    except ValueError:
        return False
    return True


# --- back to the main thread -----------------------------------------------------------------


class _Main(QObject):
    """Lives on the main thread; `call` emitted from any thread runs there, queued."""

    call = Signal(object, object)  # fn, args

    def __init__(self):
        super().__init__()
        self.call.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @Slot(object, object)
    def _run(self, fn: Callable, args: tuple) -> None:
        owner = getattr(fn, "__self__", None)
        if isinstance(owner, QObject) and not shiboken6.isValid(owner):
            return  # its window has closed meanwhile: nobody is left to answer
        fn(*args)


_main: _Main | None = None
_main_lock = threading.Lock()


def _relay() -> _Main:
    global _main
    with _main_lock:
        if _main is None:
            _main = _Main()
            app = QCoreApplication.instance()
            if app is not None and _main.thread() is not app.thread():
                _main.moveToThread(app.thread())
        return _main


def to_main(fn: Callable, *args: Any) -> None:
    """Run `fn(*args)` on the main thread, later (never inside the caller), from any thread."""
    _relay().call.emit(fn, args)


# --- the network lane ------------------------------------------------------------------------


class Tasks(QObject):
    """A pool for work that touches no database (HTTP, files, rendering). `run` returns a job
    number; `on_result(result)` or `on_error(exc)` (else `on_error` given here) runs on the main
    thread. With `kind`, a newer request of the same kind makes older answers be dropped."""

    def __init__(self, parent: QObject | None = None, *, threads: int = 2,
                 on_error: Callable[[BaseException], None] | None = None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self.on_error = on_error
        self._numbers = itertools.count(1)
        self._latest: dict[str, int] = {}
        self._open = 0  # started and not yet answered on the main thread

    def run(self, fn: Callable, *args: Any, kind: str | None = None,
            on_result: Callable[[Any], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None) -> int:
        check_job(fn, args)
        number = next(self._numbers)
        if kind is not None:
            self._latest[kind] = number
        self._open += 1
        handlers = (on_result, on_error or self.on_error)

        def body() -> None:
            try:
                result = fn(*args)
            except Exception as exc:  # noqa: BLE001 - handed to the main thread, never lost
                to_main(self._answer, number, kind, handlers[1], exc)
            else:
                to_main(self._answer, number, kind, handlers[0], result)

        self.pool.start(body)  # PySide wraps the callable in a QRunnable of its own
        return number

    def _answer(self, number: int, kind: str | None, handler: Callable | None,
                value: Any) -> None:
        self._open -= 1
        if kind is not None and self._latest.get(kind) != number:
            return  # a newer request of this kind was made: this answer is stale
        if handler is not None:
            handler(value)
        elif isinstance(value, BaseException):
            log.warning("background job failed: %s", type(value).__name__)

    def via_network(self, worker: Any, plan: Callable, ask: Callable, keep: Callable,
                    *args: Any, kind: str | None = None, changes: bool = True,
                    on_result: Callable[[Any], None] | None = None,
                    on_error: Callable[[BaseException], None] | None = None) -> None:
        """Database, network, database, so the writer never waits on the network:
        `plan(registry, *args)` on the writer, `ask(planned)` on this pool,
        `keep(registry, planned, answer)` on the writer (`changes`: a write the views show).
        The first failure ends it."""
        failed = on_error or self.on_error

        def kept(planned: Any, answer: Any) -> None:
            worker.call(keep, planned, answer, on_result=on_result, on_error=failed,
                        changes=changes)

        def planned(value: Any) -> None:
            self.run(ask, value, kind=kind, on_result=lambda answer: kept(value, answer),
                     on_error=failed)

        worker.call(plan, *args, on_result=planned, on_error=failed)

    def forget(self, kind: str) -> None:
        """Drop the answer of the running request of `kind` (the panel moved on)."""
        self._latest[kind] = next(self._numbers)

    def busy(self) -> bool:
        """A job runs, or its answer has not reached the main thread yet."""
        return self._open > 0

    def wait(self, msecs: int = 30_000) -> bool:
        """Let running jobs end (their answers still come through the event loop)."""
        return self.pool.waitForDone(msecs)


# --- long work -------------------------------------------------------------------------------


class TaskCancelled(Exception):
    """Raised inside a long job by its progress callback once the operator has cancelled."""


_long_pool: QThreadPool | None = None


def _long_lane() -> QThreadPool:
    global _long_pool
    if _long_pool is None:
        _long_pool = QThreadPool()
        _long_pool.setMaxThreadCount(LONG_THREADS)
    return _long_pool


class LongRun(QObject):
    """One long job: `fn(*args, progress=..., cancel=...)` (`cancel` only when `fn` takes it).

    Given a `worker`, the job is database work and runs on the writer as
    `fn(registry, *args, ...)`, with `changes=True`; else on the long lane's own thread.
    `progress(done, total, phase="")` may be called from the job's thread. A job that takes
    `cancel` checks it itself; for one that does not, `progress` raises TaskCancelled once
    cancelled, and the run finishes with None. `finished(result)` or `failed(exc)` on the
    main thread; `wait()` for the end."""

    progress = Signal(int, int, str)  # done, total, phase ("" unless the job names one)
    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, fn: Callable[..., Any], *args: Any, worker: Any = None,
                 parent: QObject | None = None, start: bool = True):
        super().__init__(parent)
        check_job(fn, args)
        self.fn, self.args, self.worker = fn, args, worker
        self.cancel_event = threading.Event()
        self._ended = threading.Event()
        self.done = False
        if start:
            self.start()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def cancel(self) -> None:
        self.cancel_event.set()

    def start(self) -> None:
        if self.worker is not None:
            self.worker.call(self._job, *self.args, on_result=self._finish,
                             on_error=self._fail, changes=True)
        else:
            _long_lane().start(self._body)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job's body has returned (its signal may still be queued)."""
        return self._ended.wait(timeout)

    def _report(self, done: int, total: int, phase: str = "") -> None:
        to_main(self._progressed, int(done), int(total), str(phase))
        if self.cancel_event.is_set() and not self._checks_cancel:
            raise TaskCancelled

    def _job(self, *args: Any) -> Any:
        self._checks_cancel = _takes_cancel(self.fn)
        extra = {"cancel": self.cancel_event} if self._checks_cancel else {}
        try:
            return self.fn(*args, progress=self._report, **extra)
        except TaskCancelled:
            return None
        finally:
            self._ended.set()

    def _body(self) -> None:
        try:
            result = self._job(*self.args)
        except Exception as exc:  # noqa: BLE001 - handed to the main thread, never lost
            to_main(self._fail, exc)
        else:
            to_main(self._finish, result)

    def _progressed(self, done: int, total: int, phase: str) -> None:
        if not self.done:
            self.progress.emit(done, total, phase)

    def _finish(self, result: Any) -> None:
        self.done = True
        self.finished.emit(result)

    def _fail(self, exc: BaseException) -> None:
        self.done = True
        self.failed.emit(exc)


def _takes_cancel(fn: Callable) -> bool:
    try:
        return "cancel" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
