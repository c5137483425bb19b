"""The real central server on a free 127.0.0.1 port, for tests and benchmarks.

`LiveServer(data_dir)` runs uvicorn in a thread on port 0 of 127.0.0.1 (a free port chosen by
the kernel) and stops it on `stop()`. `enrol(role)` makes an
enrolment code through the server's own code path and spends it over HTTP, returning a
`DeviceClient`: a requests session that carries the device's token.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import requests
import uvicorn

from server.app import create_app
from server.auth import create_enrol_code
from storage.demo import generate_workers
from storage.ids import new_id
from storage.models import Registration


class LiveServer:
    def __init__(self, data_dir: Path | str):
        self.app = create_app(data_dir)
        self.store = self.app.state.store
        # Port 0: the kernel picks a free port, so parallel runs never collide.
        config = uvicorn.Config(self.app, host="127.0.0.1", port=0, log_level="warning",
                                lifespan="off", timeout_keep_alive=30)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.url}/api/v1"

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.store.close()

    def enrol(self, role: str = "enumerator", name: str = "") -> DeviceClient:
        code = create_enrol_code(self.store, role, note="test")
        answer = requests.post(
            f"{self.api}/devices/enrol",
            json={"code": code, "device_name": name or f"Perangkat uji {role}"}, timeout=10,
        )
        answer.raise_for_status()
        return DeviceClient(self.api, answer.json())


@dataclass
class DeviceClient:
    api: str
    enrolment: dict

    def __post_init__(self):
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self.enrolment['token']}"

    @property
    def device_id(self) -> str:
        return self.enrolment["device_id"]

    def get(self, path: str, **kw) -> requests.Response:
        return self.session.get(self.api + path, timeout=30, **kw)

    def post(self, path: str, body: dict, *, gzip_body: bool = False) -> requests.Response:
        raw = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if gzip_body:
            raw, headers["Content-Encoding"] = gzip.compress(raw), "gzip"
        return self.session.post(self.api + path, data=raw, headers=headers, timeout=60)

    def push(self, records: list[dict], batch_id: str | None = None, **kw) -> requests.Response:
        body = {"batch_id": batch_id or new_id(), "device_id": self.device_id,
                "records": records}
        return self.post("/sync/push", body, **kw)

    def pull_all(self, cursor: int = 0, limit: int = 2000) -> tuple[list[dict], int]:
        changes = []
        while True:
            page = self.get("/sync/pull", params={"cursor": cursor, "limit": limit})
            page.raise_for_status()
            body = page.json()
            changes += body["changes"]
            cursor = body["next_cursor"]
            if not body["has_more"]:
                return changes, cursor

    def registration(self, record_id: str) -> dict:
        answer = self.get(f"/registrations/{record_id}")
        answer.raise_for_status()
        return answer.json()["registration"]


def database_args(data_dir: Path | str) -> list[str]:
    """The `--database URL` a `main.py server` subprocess on `data_dir` needs to reach the
    database this process would open for that folder: the test's PostgreSQL database when the
    test runs on PostgreSQL (tests/conftest.py replaces `server.store.default_database_url`,
    which a child process cannot see); nothing on SQLite, where the command's own default is the
    one under test."""
    from server import store

    url = store.default_database_url(data_dir)
    return [] if url.startswith("sqlite") else ["--database", url]


def workers(count: int, seed: int = 0, as_of: date | None = None) -> list[Registration]:
    """Valid fictitious registrations with ids, version 1 (as a device would push them)."""
    regs = list(generate_workers(count, seed=seed, as_of=as_of or date.today()))
    for reg in regs:
        reg.id, reg.version = new_id(), 1
    return regs


def record(reg: Registration, device_id: str, base_version: int | None = None) -> dict:
    """One push record for `reg`, written by `device_id`."""
    reg.device_id = device_id
    item = {"record_id": reg.id, "version": reg.version, "data": reg.to_dict()}
    if base_version is not None:
        item["base_version"] = base_version
    return item


def outcomes(answer: requests.Response) -> list[str]:
    """The per-record outcomes of a push answer, which must have succeeded."""
    assert answer.status_code == 200, answer.text
    return [r["outcome"] for r in answer.json()["results"]]
