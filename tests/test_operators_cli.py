"""`main.py operators add|list|passwd|unlock|deactivate`."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

import main
from storage.paths import database_path
from storage.registry import Registry

PASSWORD = "rahasia-jambi"


def run(monkeypatch, capsys, *argv, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def data(tmp_path, monkeypatch, capsys):
    code, out, _ = run(monkeypatch, capsys, "--data-dir", str(tmp_path), "operators", "add",
                       "Admin", "--name", "Ibu Admin", "--role", "admin", stdin=PASSWORD + "\n")
    assert code == 0 and "admin" in out
    return tmp_path


def test_add_list_and_the_first_must_be_an_admin(tmp_path, monkeypatch, capsys):
    code, _, err = run(monkeypatch, capsys, "operators", "add", "budi", "--name", "Budi",
                       "--role", "petugas", "--data-dir", str(tmp_path), stdin=PASSWORD + "\n")
    assert code == 1 and "pertama harus admin" in err
    code, _, _ = run(monkeypatch, capsys, "operators", "add", "admin", "--name", "Ibu Admin",
                     "--role", "admin", "--data-dir", str(tmp_path), stdin=PASSWORD + "\n")
    assert code == 0
    code, _, err = run(monkeypatch, capsys, "--data-dir", str(tmp_path), "operators", "add",
                       "budi", "--name", "Budi", "--role", "petugas", stdin="pendek\n")
    assert code == 1 and "paling sedikit 8" in err
    code, out, _ = run(monkeypatch, capsys, "--data-dir", str(tmp_path), "operators", "list")
    assert code == 0 and "Ibu Admin" in out and "budi" not in out
    assert PASSWORD not in out


def test_passwords_come_from_getpass_on_a_terminal(data, monkeypatch, capsys):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    typed = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    monkeypatch.setattr("sys.stdin", Terminal())
    assert main.main(["--data-dir", str(data), "operators", "add", "budi", "--name", "Budi",
                      "--role", "petugas"]) == 0
    typed = iter(["sandi-baru-1", "sandi-lain-2"])
    assert main.main(["--data-dir", str(data), "operators", "passwd", "budi"]) == 1
    assert "tidak sama" in capsys.readouterr().err


def test_passwd_unlock_and_deactivate(data, monkeypatch, capsys):
    run(monkeypatch, capsys, "--data-dir", str(data), "operators", "add", "budi", "--name",
        "Budi", "--role", "petugas", stdin=PASSWORD + "\n")
    registry = Registry.open(database_path(data))
    try:
        for _ in range(5):
            registry.operators.log_in("budi", "salah-salah", datetime.now(UTC))
    finally:
        registry.close()
    code, out, _ = run(monkeypatch, capsys, "--data-dir", str(data), "operators", "list")
    assert "terkunci sampai" in out
    assert run(monkeypatch, capsys, "--data-dir", str(data), "operators", "unlock",
               "BUDI")[0] == 0
    assert run(monkeypatch, capsys, "--data-dir", str(data), "operators", "passwd", "budi",
               stdin="sandi-baru-1\n")[0] == 0
    code, _, err = run(monkeypatch, capsys, "--data-dir", str(data), "operators", "passwd",
                       "siapa", stdin="sandi-baru-1\n")
    assert code == 1 and "tidak ditemukan" in err
    assert run(monkeypatch, capsys, "--data-dir", str(data), "operators", "deactivate",
               "budi")[0] == 0
    code, _, err = run(monkeypatch, capsys, "--data-dir", str(data), "operators",
                       "deactivate", "admin")
    assert code == 1 and "Admin aktif terakhir" in err

    registry = Registry.open(database_path(data))
    try:
        now = datetime.now(UTC)
        assert registry.operators.log_in("budi", "sandi-baru-1", now).code == "bad_credentials"
        actions = [r[0] for r in registry.db.execute(
            "SELECT action FROM audit_log WHERE entity = 'operator' ORDER BY seq")]
        assert {"operator.unlock", "operator.password_reset", "operator.deactivate"} <= set(
            actions)
        actors = {r[0] for r in registry.db.execute(
            "SELECT operator FROM audit_log WHERE action = 'operator.deactivate'")}
        assert all(a.startswith("cli") for a in actors)
        assert registry.audit_chain_ok()
    finally:
        registry.close()
