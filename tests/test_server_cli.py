"""The admin's commands (`python main.py server ...`) and the server started by its own command."""

from __future__ import annotations

import csv
import io
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from server_util import DeviceClient, LiveServer, database_args, record, workers

import main

ROOT = Path(__file__).resolve().parent.parent


def run(capsys, *argv) -> tuple[int, str]:
    code = main.main(list(argv))
    return code, capsys.readouterr().out


def test_enrol_code_devices_revoke(tmp_path, capsys):
    data = str(tmp_path / "server")
    code, out = run(capsys, "server", "enrol-code", "--data-dir", data, "--role", "verifier",
                    "--name", "Bu Rina")
    assert code == 0 and "verifier" in out
    enrol_code = out.strip().splitlines()[-1]
    live = LiveServer(data).start()
    try:
        answer = requests.post(f"{live.api}/devices/enrol",
                               json={"code": enrol_code, "device_name": "PC Verifikasi"},
                               timeout=5)
        assert answer.status_code == 200 and answer.json()["role"] == "verifier"
        device = DeviceClient(live.api, answer.json())
        code, out = run(capsys, "server", "devices", "--data-dir", data)
        assert device.device_id in out and "aktif" in out
        code, out = run(capsys, "server", "revoke-device", "--data-dir", data, device.device_id)
        assert code == 0
        assert device.get("/registrations").status_code == 401
        assert run(capsys, "server", "revoke-device", "--data-dir", data, "nope")[0] == 1
    finally:
        live.stop()


def test_device_records_for_a_breach_notice(tmp_path, capsys):
    data = tmp_path / "server"
    live = LiveServer(data).start()
    try:
        lost = live.enrol("enumerator", "Laptop hilang")
        other = live.enrol("enumerator")
        mine = workers(3, seed=60)
        theirs = workers(2, seed=61)
        lost.push([record(r, lost.device_id) for r in mine])
        other.push([record(r, other.device_id) for r in theirs])
    finally:
        live.stop()
    out_file = tmp_path / "held.csv"
    code, _ = run(capsys, "server", "device-records", "--data-dir", str(data), lost.device_id,
                  "--out", str(out_file))
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out_file.read_text(encoding="utf-8"))))
    assert {r["record_id"] for r in rows} == {r.id for r in mine}
    by_id = {r["record_id"]: r for r in rows}
    text = out_file.read_text(encoding="utf-8")
    for reg in mine:
        assert reg.nik not in text  # masked only
        assert by_id[reg.id]["nik_masked"] == reg.nik[:6] + "******" + reg.nik[12:]
        assert by_id[reg.id]["how"] == "pushed" and by_id[reg.id]["full_name"] == reg.full_name


def test_quota_set_ahead_and_show(tmp_path, capsys):
    data = str(tmp_path / "server")
    code, _ = run(capsys, "server", "quota", "set", "--data-dir", data, "--year", "2030",
                  "--cohort", "pekerja_rentan", "--places", "5000")
    assert code == 0
    code, out = run(capsys, "server", "quota", "show", "--data-dir", data, "--year", "2030")
    assert "2030" in out and "5000" in out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_server_command_serves_the_api(tmp_path):
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "main.py", "server", "--data-dir", str(tmp_path / "srv"),
         "--host", "127.0.0.1", "--port", str(port), *database_args(tmp_path / "srv")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        assert answer.json()["status"] == "ok"
        spec = requests.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=5).json()
        assert "/api/v1/sync/push" in spec["paths"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
