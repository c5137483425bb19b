"""`main.py enrol` and `main.py sync` run the same code as the window, without one."""

from __future__ import annotations

from sync_util import enrol_code, server_counts, server_in_thread
from unlock_util import cli_args, encrypted_registry

import main
from storage.demo import fill_demo_data


def test_enrol_then_sync_from_the_command_line(tmp_path, capsys, monkeypatch):
    server_dir, data_dir = tmp_path / "server", tmp_path / "device"
    with server_in_thread(server_dir) as url:
        code = enrol_code(server_dir)
        admin = cli_args(monkeypatch, data_dir)
        assert main.main(["--data-dir", str(data_dir), "enrol", "--server", url,
                          "--code", code, "--name", "Laptop 1", *admin]) == 0
        assert "Perangkat terdaftar" in capsys.readouterr().out
        registry = encrypted_registry(data_dir)
        fill_demo_data(registry, 12, seed=8)
        registry.close()
        assert main.main(["--data-dir", str(data_dir), "sync", "--quiet",
                          *cli_args(monkeypatch, data_dir, "petugas")]) == 0
        out = capsys.readouterr().out
        assert "Terkirim 12 data: 12 diterima" in out
        assert server_counts(server_dir) == (12, 12)
        # The same code a second time is refused, clearly.
        other = tmp_path / "other"
        assert main.main(["--data-dir", str(other), "enrol", "--server", url,
                          "--code", code, *cli_args(monkeypatch, other)]) == 2
        assert "Gagal: Server menolak" in capsys.readouterr().err


def test_sync_before_enrolment_says_what_to_do(tmp_path, capsys, monkeypatch):
    assert main.main(["--data-dir", str(tmp_path), "sync", "--quiet",
                      *cli_args(monkeypatch, tmp_path)]) == 2
    assert "belum didaftarkan" in capsys.readouterr().err


def test_enrol_with_an_address_without_scheme_is_explained(tmp_path, capsys, monkeypatch):
    assert main.main(["--data-dir", str(tmp_path), "enrol", "--server", "192.168.1.10:8765",
                      "--code", "ABCD-EFGH-JKLM", *cli_args(monkeypatch, tmp_path)]) == 2
    assert "harus diawali http://" in capsys.readouterr().err
