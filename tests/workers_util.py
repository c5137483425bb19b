"""`main.py server --workers N` as a subprocess on a loopback port, for the tests of several
server processes on one database (tests/test_server_workers.py, tests/test_database_lost.py).

The server's output goes to files, so a test can read what it logged. `workers()` names the
worker processes and `connections_per_worker()` says how many of the test's open HTTP
connections each one holds: proof that concurrent requests landed on different processes.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from server_util import DeviceClient, database_args
from sync_util import ROOT, free_port, wait_until_up

from server.auth import create_enrol_code


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as files in `folder`."""
    import datetime

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class ServerProcesses:
    """The server in `workers` processes; over HTTPS with `tls` = (certificate, key) files
    (the certificate, self-signed, is what the test's requests trust)."""

    def __init__(self, data_dir: Path, workers: int, log_dir: Path,
                 tls: tuple[Path, Path] | None = None):
        self.data_dir, self.workers_count, self.tls = data_dir, workers, tls
        self.port = free_port()
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.api = f"{self.url}/api/v1"
        self.verify: str | bool = str(tls[0]) if tls else True
        self.out, self.err = log_dir / "server.out", log_dir / "server.err"
        self.proc: subprocess.Popen | None = None

    def start(self) -> ServerProcesses:
        tls = ["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])] if self.tls else []
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "main.py", "server", "--data-dir", str(self.data_dir),
                 "--port", str(self.port), "--workers", str(self.workers_count), *tls,
                 *database_args(self.data_dir)],
                cwd=ROOT, stdout=out, stderr=err, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        # Each worker is a fresh interpreter importing the app: slow on a busy machine.
        self._wait_until_up(90)
        self._wait_for_workers(90)
        return self

    def _wait_until_up(self, timeout: float) -> None:
        if not self.tls:
            wait_until_up(self.url, timeout=timeout)
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.api + "/health", timeout=1, verify=self.verify).ok:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"server at {self.url} did not come up")

    def _wait_for_workers(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        if self.workers_count == 1:
            return
        while len(self.workers()) < self.workers_count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.workers_count} workers did not start")
            time.sleep(0.1)
        # A worker answers only once its app is made: wait until every one has answered.
        seen: set[int] = set()
        while len(seen) < self.workers_count and time.monotonic() < deadline:
            sessions = [requests.Session() for _ in range(self.workers_count * 4)]
            for s in sessions:
                s.get(self.api + "/health", timeout=30, verify=self.verify)
            seen |= {pid for pid, n in connections_per_worker(self).items() if n}
            for s in sessions:
                s.close()

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            for pid in self.workers():
                os.kill(pid, signal.SIGKILL)
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def workers(self) -> list[int]:
        """The processes that serve requests: the parent itself with one worker, else its
        children other than multiprocessing's resource tracker."""
        assert self.proc is not None
        if self.workers_count == 1:
            return [self.proc.pid]
        pids = []
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            children = (task / "children").read_text().split()
            pids += [int(p) for p in children]
        return [p for p in pids if "resource_tracker" not in _cmdline(p)]

    def log(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def enrol(self, store, role: str = "enumerator", name: str = "") -> DeviceClient:
        code = create_enrol_code(store, role, note="test")
        answer = requests.post(f"{self.api}/devices/enrol",
                               json={"code": code, "device_name": name or f"Uji {role}"},
                               timeout=30, verify=self.verify)
        answer.raise_for_status()
        client = DeviceClient(self.api, answer.json())
        client.session.verify = self.verify
        return client


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
    except OSError:
        return ""


def _established_inodes(port: int) -> set[str]:
    """Socket inodes of established TCP connections whose local port is `port` (the server's
    side of each client connection)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as rows:
            next(rows)
            for row in rows:
                fields = row.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                    inodes.add(inode)
    return inodes


def connections_per_worker(server: ServerProcesses) -> dict[int, int]:
    """How many open client connections each worker process holds right now."""
    inodes = _established_inodes(server.port)
    held = {}
    for pid in server.workers():
        count = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                count += 1
        held[pid] = count
    return held
