"""Run every benchmark module and record the tables in docs/BENCHMARKS.md.

Each `bench/bench_*.py` module has `run(quick: bool) -> str`, returning a Markdown section (a
`## title` line and a table). Every section compares against a baseline measured in the same run,
because these machines are noisy. `python -m bench --quick` runs small sizes for a smoke test;
`python -m bench NAME` runs only the modules whose name contains NAME.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def discover(only: list[str]) -> list[str]:
    names = sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py"))
    return [n for n in names if not only or any(o in n for o in only)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("only", nargs="*", help="run only modules whose name contains this")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--out", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    args = parser.parse_args(argv)

    sections = []
    for name in discover(args.only):
        started = time.perf_counter()
        print(f"… {name}", file=sys.stderr, flush=True)
        section = importlib.import_module(f"bench.{name}").run(quick=args.quick)
        print(section, flush=True)
        sections.append(section)
        print(f"  ({time.perf_counter() - started:.1f} s)", file=sys.stderr, flush=True)

    if not args.quick and not args.only:
        header = (
            "# Benchmarks\n\n"
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
            f"Python {platform.python_version()}, by `make bench`. Each table compares against a "
            "baseline measured in the same run.\n\n"
        )
        Path(args.out).write_text(header + "\n\n".join(sections) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
