"""The real central server, run in the background on this computer for trying the whole system
on one machine (the app's demo mode).

It listens on the loopback address only (127.0.0.1, never reachable from the network), keeps its
own data directory (by default `server-lokal/` inside the app's data directory) and runs in a
child process, so its SQLite writes and request handling never slow the window. The child stops
when `stop()` is called, when this process exits normally, and by itself when its parent dies.

    python -m server.local --data-dir DIR --port 8765     # what the child runs
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

HOST = "127.0.0.1"
SERVER_DIR_NAME = "server-lokal"
LOG_NAME = "server.log"
ROOT = Path(__file__).resolve().parent.parent


class LocalServerError(Exception):
    """The local server could not start; the message is Indonesian, for the operator."""


def server_dir(app_data_dir: Path | str) -> Path:
    """Where the demo server keeps its data, inside the app's data directory."""
    return Path(app_data_dir) / SERVER_DIR_NAME


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        if os.name != "nt":
            # As uvicorn binds: a port whose old connections linger in TIME_WAIT is usable.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def make_enrol_code(data_dir: Path | str, role: str, note: str = "") -> str:
    """A one-time enrolment code, made in the server's database as the admin command does
    (the server's store is safe to write from a second process while the server runs)."""
    from server.auth import create_enrol_code
    from server.store import Store

    store = Store(data_dir)
    try:
        return create_enrol_code(store, role, note)
    finally:
        store.close()


class LocalServer:
    """One background server process. `start()` returns its URL once it answers /health."""

    def __init__(self, data_dir: Path | str, port: int | None = None):
        self.data_dir = Path(data_dir)
        # Keep the port asked for (the device was enrolled with that URL) when it is still free.
        self.port = port if port and port_is_free(port) else free_port()
        self.proc: subprocess.Popen | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 30.0) -> str:
        if self.running:
            return self.url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.data_dir / LOG_NAME, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.local", "--data-dir", str(self.data_dir),
             "--port", str(self.port), "--parent-pid", str(os.getpid())],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        atexit.register(self.stop)
        try:
            self._wait_until_up(timeout)
        except LocalServerError:
            self.stop()
            raise
        return self.url

    def _wait_until_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise LocalServerError(
                    "Server lokal berhenti saat dinyalakan. Lihat catatan di "
                    f"{self.data_dir / LOG_NAME}."
                )
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/api/v1/health", timeout=1).ok:
                    return
            time.sleep(0.1)
        raise LocalServerError("Server lokal tidak menjawab dalam waktu yang wajar.")

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to finish (SIGTERM lets uvicorn close cleanly); kill it if it hangs."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if self._log is not None:
            self._log.close()
            self._log = None
        atexit.unregister(self.stop)

    def enrol_code(self, role: str = "admin", note: str = "demo satu komputer") -> str:
        return make_enrol_code(self.data_dir, role, note)

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


# --- the child process -----------------------------------------------------------------------


def _watch_parent(parent_pid: int, server) -> None:
    """Stop when the app that started us is gone (a crash must not leave a server behind)."""
    while not server.should_exit:
        if os.getppid() != parent_pid:
            server.should_exit = True
            return
        time.sleep(1.0)


def serve(data_dir: Path, port: int, parent_pid: int = 0) -> None:
    import uvicorn

    from server.app import create_app

    config = uvicorn.Config(create_app(data_dir), host=HOST, port=port, log_level="warning",
                            access_log=False)
    server = uvicorn.Server(config)
    if parent_pid:
        threading.Thread(target=_watch_parent, args=(parent_pid, server), daemon=True).start()
    server.run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.local")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parent-pid", type=int, default=0)
    args = parser.parse_args(argv)
    serve(Path(args.data_dir), args.port, args.parent_pid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
