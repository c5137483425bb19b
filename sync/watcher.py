"""Reachability watcher: a thread that checks the server's health with backoff and calls back when
the server becomes reachable (DESIGN.md §5: sync starts by itself when the network returns).

Qt-free: the window wraps the callback in a signal and runs the watching loop on its task pool
(ui/tasks.py); without a runner, `start()` gives it a thread of its own."""

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
    stays up (None: only on changes). Checks every `interval` seconds while the server is up;
    while it is down, waits grow from `min_wait` to `max_wait` (with jitter) so a laptop without
    network does not spin its radio.

    `nudge()` says new work waits to go up (a save): `debounce` seconds after the last nudge,
    and never more than `max_delay` after the first of a burst, the server is checked and, when
    it answers, `on_reachable()` is called: an enumerator's saves go up in one batch a few
    seconds after typing stops, not minutes later. Offline, a nudge waits for the server's
    return like everything else."""

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
        debounce: float = 15.0,
        max_delay: float = 60.0,
    ):
        self._factory = client_factory
        self._on_reachable = on_reachable
        self._on_change = on_change or (lambda up: None)
        self.interval = interval
        self.min_wait = min_wait
        self.max_wait = max_wait
        self.repeat = repeat
        self.debounce = debounce
        self.max_delay = max_delay
        self.reachable: bool | None = None
        self._last_call = 0.0
        self._lock = threading.Lock()
        self._burst: tuple[float, float] | None = None  # (first, last) nudge not yet served
        self._probe_now = True
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._started = False
        self._ended = threading.Event()
        self._rng = random.Random()

    def start(self, runner: Callable[[Callable[[], None]], object] | None = None) -> None:
        """Start watching: `runner(loop)` puts the loop on a thread of the caller's choice (the
        window's task pool); without one, on a daemon thread of its own."""
        self._started = True
        if runner is None:
            threading.Thread(target=self.run, name="sync-watcher", daemon=True).start()
        else:
            runner(self.run)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._started:
            self._ended.wait(timeout)

    def check_now(self) -> None:
        """Skip the current wait (e.g. the server address was just changed)."""
        self._probe_now = True
        self._wake.set()

    def nudge(self) -> None:
        """New work waits to go up: call back soon (debounced) if the server answers."""
        now = time.monotonic()
        with self._lock:
            first = self._burst[0] if self._burst else now
            self._burst = (first, now)
        self._wake.set()

    def _nudge_due(self) -> float | None:
        """When the pending nudges are to be served (monotonic time), or None."""
        with self._lock:
            if self._burst is None:
                return None
            first, last = self._burst
        return min(last + self.debounce, first + self.max_delay)

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

    def run(self) -> None:
        """The watching loop, until `stop()`."""
        try:
            self._watch()
        finally:
            self._ended.set()

    def _watch(self) -> None:
        wait = self.min_wait
        next_probe = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            due = self._nudge_due()
            nudged = due is not None and now >= due
            if nudged or self._probe_now or now >= next_probe:
                self._probe_now = False
                if nudged:
                    with self._lock:
                        self._burst = None  # served now, or by the server's return
                up = self.probe()
                if up != self.reachable:
                    self.reachable = up
                    self._notify(up)
                elif up and (nudged or self.repeat is not None and (
                        time.monotonic() - self._last_call >= self.repeat)):
                    self._notify(up, changed=False)
                if up:
                    wait = self.min_wait
                    next_probe = time.monotonic() + self.interval
                else:
                    next_probe = time.monotonic() + self._rng.uniform(wait / 2, wait)
                    wait = min(self.max_wait, wait * 2)
            delay = next_probe - time.monotonic()
            due = self._nudge_due()
            if due is not None:
                delay = min(delay, due - time.monotonic())
            self._wake.wait(max(delay, 0.0))
            self._wake.clear()
