"""Entry point. `python main.py` opens the window; a subcommand runs the same code without one.

Where a feature starts (each names the Qt-free code it runs, in `ops/` or a domain package):
- the window: `ui/app.py` (log-in, the window, the one-machine demo of `ui/demo_mode.py`);
  every tab and menu is built in `ui/main_window.py`, which names the module of each
  (`ui/card_desk.py`, `ui/sync_panel.py`, `ui/csv_import.py`, `ui/operators_dialog.py`, ...);
- the command line: `cli/__init__.py` declares every subcommand, one module per family:
  `cli/device.py` (demo-data, import, operators), `cli/cards.py` (cards ...), `cli/sync.py`
  (sync, enrol), `cli/server.py` (server ...).
"""

from __future__ import annotations

import sys

from cli import build_parser

__all__ = ["build_parser", "main"]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from ui.app import run_app

        return run_app(args)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
