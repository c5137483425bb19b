"""Reachability watcher: a thread that checks the server's health with backoff and calls back when
the server becomes reachable (DESIGN.md §5: sync starts by itself when the network returns).

Qt-free: the window wraps the callback in a signal; the command line does not need it."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

from sync.client import SyncClient, SyncError

log = logging.getLogger(__name__)


class ReachabilityWatcher:
    """Calls `on_reachable()` (from the watcher's thread) on each change from unreachable to
    reachable, once at start if the server is up, and again every `repeat` seconds while it
    stays up (so work saved while online goes up too; None: only on changes). Checks every
    `interval` seconds while the server is up; while it is down, waits grow from `min_wait` to
    `max_wait` (with jitter) so a laptop without network does not spin its radio."""

    def __init__(
        self,
        client_factory: Callable[[], SyncClient | None],
        on_reachable: Callable[[], None],
        *,
        interval: float = 60.0,
        min_wait: float = 2.0,
        max_wait: float = 120.0,
        on_change: Callable[[bool], None] | None = None,
        repeat: float | None = None,
    ):
        self._factory = client_factory
        self._on_reachable = on_reachable
        self._on_change = on_change or (lambda up: None)
        self.interval = interval
        self.min_wait = min_wait
        self.max_wait = max_wait
        self.repeat = repeat
        self.reachable: bool | None = None
        self._last_call = 0.0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sync-watcher", daemon=True)
        self._rng = random.Random()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def check_now(self) -> None:
        """Skip the current wait (e.g. the server address was just changed)."""
        self._wake.set()

    def probe(self) -> bool:
        client = self._factory()
        if client is None:  # not configured yet
            return False
        try:
            client.health()
            return True
        except SyncError:
            return False
        finally:
            client.close()

    def _notify(self, up: bool, changed: bool = True) -> None:
        # A failing callback must not end the watching: log it and keep going.
        try:
            if changed:
                self._on_change(up)
            if up:
                self._last_call = time.monotonic()
                self._on_reachable()
        except Exception:
            log.exception("sync watcher callback failed")

    def _run(self) -> None:
        wait = self.min_wait
        while not self._stop.is_set():
            up = self.probe()
            if up != self.reachable:
                self.reachable = up
                self._notify(up)
            elif up and self.repeat is not None and (
                time.monotonic() - self._last_call >= self.repeat
            ):
                self._notify(up, changed=False)
            if up:
                wait = self.min_wait
                delay = self.interval
            else:
                delay = self._rng.uniform(wait / 2, wait)
                wait = min(self.max_wait, wait * 2)
            self._wake.wait(delay)
            self._wake.clear()
