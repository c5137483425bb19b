"""The reachability watcher calls back when the server comes up, and backs off while it is down."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sync.client import SyncClient
from sync.watcher import ReachabilityWatcher


class _Health(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        raw = json.dumps({"status": "ok", "api_version": 1}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_callback_when_server_becomes_reachable_then_again_after_an_outage():
    port = _free_port()
    reachable = threading.Event()
    changes: list[bool] = []
    watcher = ReachabilityWatcher(
        lambda: SyncClient(f"http://127.0.0.1:{port}"),
        reachable.set,
        interval=0.05, min_wait=0.02, max_wait=0.1,
        on_change=changes.append,
    )
    watcher.start()
    try:
        assert not reachable.wait(0.3)  # nothing listens yet
        assert changes == [False]
        server = ThreadingHTTPServer(("127.0.0.1", port), _Health)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        assert reachable.wait(5)
        reachable.clear()
        server.shutdown()
        server.server_close()
        deadline = time.monotonic() + 5
        while watcher.reachable and time.monotonic() < deadline:
            time.sleep(0.02)
        assert watcher.reachable is False  # the outage was seen
        server = ThreadingHTTPServer(("127.0.0.1", port), _Health)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        assert reachable.wait(5)  # down then up again: a second sync would start
        assert changes[:2] == [False, True] and changes.count(True) == 2
        server.shutdown()
        server.server_close()
    finally:
        watcher.stop()


def test_not_configured_is_never_reachable_and_stops_promptly():
    calls = []
    watcher = ReachabilityWatcher(lambda: None, lambda: calls.append(1), min_wait=0.01)
    watcher.start()
    watcher.stop(timeout=2)
    assert calls == []
    assert watcher.reachable in (False, None)


def test_repeats_while_the_server_stays_up():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    calls: list[float] = []
    watcher = ReachabilityWatcher(
        lambda: SyncClient(f"http://127.0.0.1:{server.server_address[1]}"),
        lambda: calls.append(time.monotonic()),
        interval=0.02, repeat=0.1,
    )
    watcher.start()
    try:
        deadline = time.monotonic() + 5
        while len(calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(calls) >= 3
        assert all(b - a >= 0.09 for a, b in zip(calls, calls[1:], strict=False))
    finally:
        watcher.stop()
        server.shutdown()
        server.server_close()


def _health_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_saves_go_up_soon_after_the_last_one_in_one_call():
    server = _health_server()
    calls: list[float] = []
    watcher = ReachabilityWatcher(
        lambda: SyncClient(f"http://127.0.0.1:{server.server_address[1]}"),
        lambda: calls.append(time.monotonic()),
        interval=60.0, repeat=None, debounce=0.3, max_delay=5.0,
    )
    watcher.start()
    try:
        assert _wait_for(lambda: len(calls) == 1)  # reachable at start
        first = time.monotonic()
        for _ in range(3):  # three saves in a row: one sync after the last
            last = time.monotonic()
            watcher.nudge()
            time.sleep(0.1)
        assert _wait_for(lambda: len(calls) == 2)
        assert calls[1] - last >= 0.25  # waited for typing to stop
        assert calls[1] - first < 3.0  # and not for the minute-long check interval
        time.sleep(0.5)
        assert len(calls) == 2  # the burst was served once
    finally:
        watcher.stop()
        server.shutdown()
        server.server_close()


def test_a_stream_of_saves_still_goes_up_by_the_longest_delay():
    server = _health_server()
    calls: list[float] = []
    watcher = ReachabilityWatcher(
        lambda: SyncClient(f"http://127.0.0.1:{server.server_address[1]}"),
        lambda: calls.append(time.monotonic()),
        interval=60.0, debounce=0.3, max_delay=0.6,
    )
    watcher.start()
    try:
        assert _wait_for(lambda: len(calls) == 1)
        start = time.monotonic()
        while time.monotonic() - start < 1.5 and len(calls) < 2:
            watcher.nudge()  # never a pause as long as the debounce
            time.sleep(0.05)
        assert len(calls) == 2
        assert calls[1] - start < 1.2
    finally:
        watcher.stop()
        server.shutdown()
        server.server_close()


def test_a_save_while_offline_waits_for_the_server():
    port = _free_port()
    calls: list[float] = []
    watcher = ReachabilityWatcher(
        lambda: SyncClient(f"http://127.0.0.1:{port}"), lambda: calls.append(1),
        interval=60.0, min_wait=5.0, max_wait=5.0, debounce=0.05,
    )
    watcher.start()
    try:
        assert _wait_for(lambda: watcher.reachable is False)
        watcher.nudge()
        time.sleep(0.4)
        assert calls == [] and watcher.reachable is False  # checked, nobody answered
    finally:
        watcher.stop()


def test_a_runner_places_the_loop_and_stop_waits_for_its_end():
    threads, names = [], []

    def runner(loop):  # as the window's task pool does: the loop on a thread it chose
        def body():
            names.append(threading.current_thread().name)
            loop()
        threads.append(threading.Thread(target=body, name="chosen"))
        threads[0].start()

    watcher = ReachabilityWatcher(lambda: None, lambda: None, min_wait=0.01)
    watcher.start(runner=runner)
    watcher.stop(timeout=2)
    threads[0].join(1)
    assert names == ["chosen"] and not threads[0].is_alive()  # the loop ran there, and ended
