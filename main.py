"""Entry point. `python main.py` opens the window (`ui/app.py`); subcommands (`cli/`) run the
same code without one."""

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
