"""The command line: `main.py` without a subcommand opens the window; every subcommand is
declared here and runs the same Qt-free code as the window (`ops/`, then the domain packages).

One module per family of subcommands: `device.py` (demo-data, import, operators), `cards.py`
(cards …), `sync.py` (sync, enrol), `server.py` (server …). Each has `register(sub)`; the
handlers import what they need when they run, so that starting one command loads only its own
packages."""

from __future__ import annotations

import argparse


def build_parser() -> argparse.ArgumentParser:
    """main.py's parser: the global `--data-dir` and every subcommand."""
    from cli import cards, device, server, sync

    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Pendaftaran pekerja rentan untuk BPJS Ketenagakerjaan (Kota Jambi).",
    )
    parser.add_argument(
        "--data-dir",
        help="folder data aplikasi (bawaan: folder data platform)",
    )
    sub = parser.add_subparsers(dest="command", metavar="PERINTAH")
    for module in (device, cards, sync, server):
        module.register(sub)
    return parser
