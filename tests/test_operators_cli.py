"""`main.py operators add|list|passwd|unlock|deactivate`, and what every command that opens the
device database asks: `--operator` with its password (JAMSOS_PASSWORD here) and, for some, a
role. A wrong password or role exits non-zero with one line and changes nothing."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

import main
from storage.unlock import open_with_password
from storage.vault import Vault

PASSWORD = "rahasia-jambi"


def run(monkeypatch, capsys, *argv, stdin="", password=PASSWORD):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    monkeypatch.setenv("JAMSOS_PASSWORD", password)
    code = main.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def data(tmp_path, monkeypatch, capsys):
    code, out, err = run(monkeypatch, capsys, "--data-dir", str(tmp_path), "operators", "add",
                         "Admin", "--name", "Ibu Admin", "--role", "admin",
                         stdin=PASSWORD + "\n")
    assert code == 0 and "admin" in out
    assert "KUNCI PEMULIHAN" in err  # shown once, for paper
    return tmp_path


def test_add_list_and_the_first_must_be_an_admin(tmp_path, monkeypatch, capsys):
    code, _, err = run(monkeypatch, capsys, "operators", "add", "budi", "--name", "Budi",
                       "--role", "petugas", "--data-dir", str(tmp_path), stdin=PASSWORD + "\n")
    assert code == 1 and "pertama harus admin" in err
    code, _, _ = run(monkeypatch, capsys, "operators", "add", "admin", "--name", "Ibu Admin",
                     "--role", "admin", "--data-dir", str(tmp_path), stdin=PASSWORD + "\n")
    assert code == 0
    code, _, err = run(monkeypatch, capsys, "--data-dir", str(tmp_path), "operators", "add",
                       "budi", "--name", "Budi", "--role", "petugas", "--operator", "admin",
                       stdin="pendek\n")
    assert code == 1 and "paling sedikit 8" in err
    code, out, _ = run(monkeypatch, capsys, "--data-dir", str(tmp_path), "operators", "list",
                       "--operator", "admin")
    assert code == 0 and "Ibu Admin" in out and "budi" not in out
    assert PASSWORD not in out


def test_passwords_come_from_getpass_on_a_terminal(data, monkeypatch, capsys):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    typed = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setenv("JAMSOS_PASSWORD", PASSWORD)
    assert main.main(["--data-dir", str(data), "operators", "add", "budi", "--name", "Budi",
                      "--role", "petugas", "--operator", "admin"]) == 0
    typed = iter(["sandi-baru-1", "sandi-lain-2"])
    assert main.main(["--data-dir", str(data), "operators", "passwd", "budi",
                      "--operator", "admin"]) == 1
    assert "tidak sama" in capsys.readouterr().err
    # Without the environment variable, the unlock password is asked on the terminal too.
    monkeypatch.delenv("JAMSOS_PASSWORD")
    typed = iter([PASSWORD])
    assert main.main(["--data-dir", str(data), "operators", "list", "--operator", "admin"]) == 0


def test_passwd_unlock_and_deactivate(data, monkeypatch, capsys):
    run(monkeypatch, capsys, "--data-dir", str(data), "operators", "add", "budi", "--name",
        "Budi", "--role", "petugas", "--operator", "admin", stdin=PASSWORD + "\n")
    vault = Vault(data)
    for _ in range(5):
        vault.unlock("budi", "salah-salah", datetime.now(UTC))
    code, out, _ = run(monkeypatch, capsys, "--data-dir", str(data), "operators", "list",
                       "--operator", "admin")
    assert "terkunci sampai" in out
    assert run(monkeypatch, capsys, "--data-dir", str(data), "operators", "unlock",
               "BUDI", "--operator", "admin")[0] == 0
    assert run(monkeypatch, capsys, "--data-dir", str(data), "operators", "passwd", "budi",
               "--operator", "admin", stdin="sandi-baru-1\n")[0] == 0
    code, _, err = run(monkeypatch, capsys, "--data-dir", str(data), "operators", "passwd",
                       "siapa", "--operator", "admin", stdin="sandi-baru-1\n")
    assert code == 1 and "tidak ditemukan" in err
    assert run(monkeypatch, capsys, "--data-dir", str(data), "operators", "deactivate",
               "budi", "--operator", "admin")[0] == 0
    code, _, err = run(monkeypatch, capsys, "--data-dir", str(data), "operators",
                       "deactivate", "admin", "--operator", "admin")
    assert code == 1 and "Admin aktif terakhir" in err

    now = datetime.now(UTC)
    assert vault.unlock("budi", "sandi-baru-1", now).code == "bad_credentials"  # wrap removed
    opened = open_with_password(data, "admin", PASSWORD, now)
    registry = opened.registry
    try:
        actions = [r[0] for r in registry.db_for_tests.execute(
            "SELECT action FROM audit_log WHERE entity = 'operator' ORDER BY seq")]
        assert {"operator.unlock", "operator.password_reset", "operator.deactivate"} <= set(
            actions)
        actors = {r[0] for r in registry.db_for_tests.execute(
            "SELECT operator FROM audit_log WHERE action = 'operator.deactivate'")}
        assert actors == {"admin"}
        assert registry.audit_chain_ok()
    finally:
        registry.close()


def test_a_wrong_password_or_role_exits_non_zero_and_changes_nothing(data, monkeypatch, capsys):
    run(monkeypatch, capsys, "--data-dir", str(data), "operators", "add", "budi", "--name",
        "Budi", "--role", "petugas", "--operator", "admin", stdin=PASSWORD + "\n")
    base = ["--data-dir", str(data)]
    before_db = (data / "registry.sqlite3").read_bytes()
    refusals = [
        # wrong password
        (["operators", "add", "sari", "--name", "Sari", "--role", "petugas",
          "--operator", "admin"], "salah-sandi", "kata sandi salah"),
        (["demo-data", "--count", "3", "--operator", "admin"], "salah-sandi",
         "kata sandi salah"),
        # right password, wrong role
        (["operators", "add", "sari", "--name", "Sari", "--role", "petugas",
          "--operator", "budi"], PASSWORD, "tidak berwenang"),
        (["operators", "deactivate", "admin", "--operator", "budi"], PASSWORD,
         "tidak berwenang"),
        (["demo-data", "--count", "3", "--operator", "budi"], PASSWORD, "tidak berwenang"),
        (["cards", "print", "--out", str(data.parent / "k.pdf"), "--operator", "budi"],
         PASSWORD, "tidak berwenang"),
        (["cards", "handover", "x", "--to", "Siti", "--operator", "budi"], PASSWORD,
         "tidak berwenang"),
        (["enrol", "--server", "http://127.0.0.1:9", "--code", "AAAA", "--operator", "budi"],
         PASSWORD, "tidak berwenang"),
        # no operator named
        (["sync", "--quiet"], PASSWORD, "--operator"),
    ]
    for argv, password, says in refusals:
        code, out, err = run(monkeypatch, capsys, *base, *argv, stdin="sandi-sari-1\n",
                             password=password)
        assert code != 0, argv
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("Gagal:"), err
        assert says in lines[0].lower(), err
        if password != PASSWORD:
            # Refused before the database opened: only the key file's failure count moved.
            assert Vault(data).lockout("admin", datetime.now(UTC)).failures == 1
            db_file = data / "registry.sqlite3"
            assert db_file.read_bytes() == before_db
            admin = open_with_password(data, "admin", PASSWORD, datetime.now(UTC))
            admin.registry.close()
        before_db = (data / "registry.sqlite3").read_bytes()
    opened = open_with_password(data, "admin", PASSWORD, datetime.now(UTC))
    try:
        assert opened.registry.operators.get("sari") is None
        assert opened.registry.count() == 0  # no demo data
        assert [o.username for o in opened.registry.operators.list(include_inactive=False)] \
            == ["admin", "budi"]
    finally:
        opened.registry.close()


def test_the_recovery_key_resets_a_forgotten_password(tmp_path, monkeypatch, capsys):
    code, _, err = run(monkeypatch, capsys, "--data-dir", str(tmp_path), "operators", "add",
                       "admin", "--name", "Ibu Admin", "--role", "admin", stdin=PASSWORD + "\n")
    recovery = err.split("aman):")[1].split()[0]
    monkeypatch.setenv("JAMSOS_RECOVERY_KEY", "salah-" + recovery[6:])
    code, _, err = run(monkeypatch, capsys, "--data-dir", str(tmp_path), "operators", "passwd",
                       "admin", "--recovery-key", stdin="sandi-baru-9\n")
    assert code == 2 and "Kunci pemulihan salah" in err
    monkeypatch.setenv("JAMSOS_RECOVERY_KEY", recovery.lower().replace("-", " "))
    code, out, err = run(monkeypatch, capsys, "--data-dir", str(tmp_path), "operators",
                         "passwd", "admin", "--recovery-key", stdin="sandi-baru-9\n")
    assert code == 0, err
    opened = open_with_password(tmp_path, "admin", "sandi-baru-9", datetime.now(UTC))
    opened.registry.close()
    assert Vault(tmp_path).unlock("admin", PASSWORD, datetime.now(UTC)).code == \
        "bad_credentials"
