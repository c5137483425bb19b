"""Entry point. `python main.py` opens the window; subcommands run the same code without one."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    from cards import cli as cards_cli
    from server import cli as server_cli
    from storage import cli as storage_cli
    from sync import cli as sync_cli

    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Pendaftaran pekerja rentan untuk BPJS Ketenagakerjaan (Kota Jambi).",
    )
    parser.add_argument(
        "--data-dir",
        help="folder data aplikasi (bawaan: folder data platform)",
    )
    sub = parser.add_subparsers(dest="command", metavar="PERINTAH")
    for module in (storage_cli, cards_cli, sync_cli, server_cli):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from ui.app import run_app

        return run_app(args)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
