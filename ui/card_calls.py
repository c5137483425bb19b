"""The card desk's requests to the server (a reprint asked of the server) off the main
thread: one at a time on the desk's own pool, never touching the database; the answer comes
back to the main thread through a relay (a queued signal)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Relay(QObject):
    """Lives on the main thread; server calls on the pool report through it (queued)."""

    done = Signal(int, object)  # call number, result
    failed = Signal(int, object)  # call number, exception


class _ServerCall(QRunnable):
    """One HTTP request off the main thread; never touches the database."""

    def __init__(self, relay: _Relay, number: int, fn: Callable[[], Any]):
        super().__init__()
        self.relay, self.number, self.fn = relay, number, fn

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # noqa: BLE001 - handed to the main thread, which shows it
            self.relay.failed.emit(self.number, exc)
        else:
            self.relay.done.emit(self.number, result)


class CardCalls(QObject):
    """`start(fn, on_done, on_error)`: `fn()` on the pool, its answer or failure to the
    callbacks on the main thread; every call is answered."""

    def __init__(self, parent: QObject):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.done.connect(self._done)
        self._relay.failed.connect(self._failed)
        self._calls: dict[int, tuple[Callable, Callable]] = {}
        self._numbers = 0

    def start(self, fn: Callable[[], Any], on_done: Callable, on_error: Callable) -> None:
        self._numbers += 1
        self._calls[self._numbers] = (on_done, on_error)
        self.pool.start(_ServerCall(self._relay, self._numbers, fn))

    def _done(self, number: int, result: Any) -> None:
        self._calls.pop(number)[0](result)

    def _failed(self, number: int, exc: BaseException) -> None:
        self._calls.pop(number)[1](exc)

    def busy(self) -> bool:
        return self.pool.activeThreadCount() > 0

    def wait(self, msecs: int = 30_000) -> None:
        self.pool.waitForDone(msecs)
