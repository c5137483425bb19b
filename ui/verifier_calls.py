"""Requests to the server off the main thread, for the verifier's and the *Klaim & PDP* tabs.

Each panel has its own QThreadPool; a job runs `fn(client, *args)` there and reports through a
relay that lives on the main thread (a queued signal). Only the latest request of each kind is
answered: an older answer (a list page the verifier has already left) is dropped.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Relay(QObject):
    """Lives on the main thread; pool jobs emit through it (queued to the main thread)."""

    done = Signal(str, int, object)  # kind, request number, result
    failed = Signal(str, int, object)  # kind, request number, exception


class _Job(QRunnable):
    def __init__(self, relay: _Relay, kind: str, number: int, fn: Callable, args: tuple):
        super().__init__()
        self.relay, self.kind, self.number, self.fn, self.args = relay, kind, number, fn, args

    def run(self) -> None:
        try:
            result = self.fn(*self.args)
        except Exception as exc:  # noqa: BLE001 - handed to the window, never lost on a thread
            self.relay.failed.emit(self.kind, self.number, exc)
        else:
            self.relay.done.emit(self.kind, self.number, result)


class ServerCalls(QObject):
    """`run(kind, fn, args, on_done=..., on_error=...)`: `fn(*args)` on the pool; the answer
    goes to `on_done`, a failure to `on_error` (else to `show_error`), on the main thread."""

    def __init__(self, parent: QObject, show_error: Callable[[BaseException], None]):
        super().__init__(parent)
        self.show_error = show_error
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self._numbers = itertools.count(1)
        self._latest: dict[str, int] = {}
        self._handlers: dict[str, tuple[Callable, Callable | None]] = {}
        self.relay = _Relay(self)
        self.relay.done.connect(self._job_done)
        self.relay.failed.connect(self._job_failed)

    def run(self, kind: str, fn: Callable, args: tuple, *, on_done: Callable,
            on_error: Callable | None = None) -> None:
        number = next(self._numbers)
        self._latest[kind] = number
        self._handlers[kind] = (on_done, on_error)
        self.pool.start(_Job(self.relay, kind, number, fn, args))

    def _job_done(self, kind: str, number: int, result: Any) -> None:
        if self._latest.get(kind) == number:
            self._handlers[kind][0](result)

    def _job_failed(self, kind: str, number: int, exc: BaseException) -> None:
        if self._latest.get(kind) == number:
            (self._handlers[kind][1] or self.show_error)(exc)

    def busy(self) -> bool:
        return self.pool.activeThreadCount() > 0

    def wait(self, msecs: int = 10_000) -> None:
        self.pool.waitForDone(msecs)
