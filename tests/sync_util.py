"""Test helpers for device-side sync: the real server on a loopback port (in a thread or as a
subprocess), enrolment codes, and enrolled device registries."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import requests
import uvicorn

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if requests.get(url + "/api/v1/health", timeout=1).ok:
                return
        time.sleep(0.05)
    raise TimeoutError(f"server at {url} did not come up")


@contextlib.contextmanager
def server_in_thread(data_dir: Path, port: int | None = None) -> Iterator[str]:
    """The real FastAPI app under uvicorn on 127.0.0.1, in this process. Yields its URL."""
    from server.app import create_app

    port = port or free_port()
    config = uvicorn.Config(create_app(data_dir), host="127.0.0.1", port=port,
                            log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url)
        yield url
    finally:
        server.should_exit = True
        thread.join(10)


class ServerProcess:
    """`python main.py server` as a subprocess, so a test can kill it hard and start it again."""

    def __init__(self, data_dir: Path, port: int | None = None):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        from server_util import database_args

        self.proc = subprocess.Popen(
            [sys.executable, "main.py", "server", "--data-dir", str(self.data_dir),
             "--host", "127.0.0.1", "--port", str(self.port), *database_args(self.data_dir)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        wait_until_up(self.url)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None


def enrol_code(server_dir: Path, role: str = "enumerator") -> str:
    """A one-time enrolment code, made as the admin's command would make it."""
    from server.auth import create_enrol_code
    from server.store import Store

    store = Store(server_dir)
    try:
        return create_enrol_code(store, role)
    finally:
        store.close()


def enrolled_device(path: Path, url: str, server_dir: Path, role: str = "enumerator", *,
                    encrypted: bool = False):
    """A fresh device registry at `path`, enrolled with the server at `url`; with `encrypted`,
    the app's encrypted database in `path`'s folder (tests/unlock_util.py), so that `main.py`
    commands can unlock it with `--operator`."""
    from storage.registry import Registry
    from sync.enrol import enrol

    if encrypted:
        from unlock_util import encrypted_registry

        registry = encrypted_registry(path.parent)
    else:
        registry = Registry.open(path)
    enrol(registry, url, enrol_code(server_dir, role), path.stem)
    return registry


def server_counts(server_dir: Path) -> tuple[int, int]:
    """(registrations, distinct record ids among stored versions) on the server."""
    from server.store import Store

    store = Store(server_dir)
    try:
        db = store.reader()
        regs = db.execute("SELECT count(*) FROM registrations").fetchone()[0]
        distinct = db.execute("SELECT count(DISTINCT id) FROM registrations").fetchone()[0]
        return regs, distinct
    finally:
        store.close()


def sync_once(registry):
    """One sync of an enrolled device (push, card steps, pull), as `main.py sync` runs it."""
    from sync.engine import run_sync
    from sync.enrol import client_for

    client = client_for(registry)
    try:
        return run_sync(registry, client)
    finally:
        client.close()


def verifier_client(url: str, server_dir: Path, name: str = "Meja verifikasi"):
    """A client enrolled with the verifier role."""
    from sync.client import SyncClient

    answer = SyncClient(url).enrol(enrol_code(server_dir, "verifier"), name)
    return SyncClient(url, answer["token"])


def verify_and_fund(client, reg_id: str) -> dict:
    """Verify, then fund, a registration the server received; returns the funded registration."""
    from sync import verifier as v

    row = v.registration_detail(client, reg_id)["registration"]
    row = v.verify(client, reg_id, row["revision"], operator=VERIFIER)["registration"]
    return v.fund(client, reg_id, row["revision"], operator=VERIFIER)["registration"]


# The operator logged in at the verifier's desk in these tests.
VERIFIER = {"username": "verifikator.uji", "display_name": "Verifikator Uji"}


def role_client(url: str, server_dir: Path, role: str):
    """A SyncClient enrolled with `role` ("Meja <role>"), retrying quickly so refusals show at
    once."""
    from sync.client import SyncClient

    answer = SyncClient(url).enrol(enrol_code(server_dir, role), f"Meja {role}")
    client = SyncClient(url, answer["token"])
    client.retry.base = 0.01
    return client


def record_ids(registry) -> list[str]:
    """The device's record ids in the order they were made."""
    return [r[0] for r in registry.db_for_tests.execute("SELECT id FROM workers ORDER BY seq")]


def save_confirmed(registry, reg, operator: str = "Petugas") -> None:
    """Save `reg`, confirming the demo record's soft warnings as an operator would."""
    result = registry.save(reg, operator=operator)
    if not result.saved:
        result = registry.save(reg, operator=operator,
                               confirmed_warnings=[w.code for w in result.validation.warnings])
    assert result.saved, result.validation


def edit_record(registry, reg_id: str, *, operator: str = "Petugas", **changes) -> None:
    """Change fields of a stored record and save it (warnings confirmed)."""
    reg = registry.get(reg_id)
    for name, value in changes.items():
        setattr(reg, name, value)
    save_confirmed(registry, reg, operator)


def expect_refused(code: str, call, *args, **kw):
    """`call(*args, **kw)` raises DecisionRefused with `code`; returns the refusal."""
    import pytest

    from sync import verifier as v

    with pytest.raises(v.DecisionRefused) as caught:
        call(*args, **kw)
    assert caught.value.code == code, caught.value.message
    return caught.value
