"""The server process killed (SIGKILL) while a batch is being stored: after a restart the batch
is there whole or not at all, and sending it again stores every record exactly once."""

from __future__ import annotations

import gzip
import json
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from server_util import database_args, record, workers

from server.auth import create_enrol_code
from server.store import Store

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(data_dir: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "main.py", "server", "--data-dir", str(data_dir), "--port", str(port),
         *database_args(data_dir)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).ok:
                return proc
        except requests.ConnectionError:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)


def _count(data_dir: Path) -> tuple[int, int]:
    # Through the store: the database of the engine the test runs on (tests/conftest.py).
    store = Store(data_dir)
    try:
        db = store.reader()
        regs = db.execute("SELECT COUNT(*) FROM registrations").fetchone()[0]
        versions = db.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
    finally:
        store.close()
    return regs, versions


def test_killed_mid_batch_then_resent_stores_each_record_once(tmp_path):
    data_dir, port = tmp_path / "server", _free_port()
    proc = _start(data_dir, port)
    api = f"http://127.0.0.1:{port}/api/v1"
    store = Store(data_dir)
    code = create_enrol_code(store, "enumerator")
    store.close()
    device = requests.post(f"{api}/devices/enrol", json={"code": code, "device_name": "L1"},
                           timeout=10).json()
    headers = {"Authorization": f"Bearer {device['token']}", "Content-Type": "application/json",
               "Content-Encoding": "gzip"}
    records = [record(r, device["device_id"]) for r in workers(500, seed=70)]
    body = gzip.compress(json.dumps({"batch_id": "big", "device_id": device["device_id"],
                                     "records": records}).encode())
    rng = random.Random(7)
    try:
        for _ in range(3):
            thread_post = _post_later(f"{api}/sync/push", body, headers)
            time.sleep(rng.uniform(0.05, 0.6))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            thread_post.join(timeout=30)
            regs, versions = _count(data_dir)
            assert (regs, versions) in {(0, 0), (500, 500)}  # whole, or not at all
            proc = _start(data_dir, port)
            if regs:
                break
        answer = requests.post(f"{api}/sync/push", data=body, headers=headers, timeout=60)
        assert answer.status_code == 200
        assert {r["outcome"] for r in answer.json()["results"]} == {"accepted"}
        assert _count(data_dir) == (500, 500)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _post_later(url: str, body: bytes, headers: dict) -> threading.Thread:
    def post():
        try:
            requests.post(url, data=body, headers=headers, timeout=30)
        except requests.RequestException:
            pass  # the server was killed: no answer is expected

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    return thread
