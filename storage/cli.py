"""Command-line subcommands of the storage package (registered into main.py's parser)."""

from __future__ import annotations

import argparse
import sys
import time


def register(sub: argparse._SubParsersAction) -> None:
    """Add this package's subcommands to main.py."""
    demo = sub.add_parser(
        "demo-data",
        help="isi basis data dengan pekerja contoh (fiktif)",
        description="Mengisi basis data dengan pekerja contoh yang sah tetapi fiktif "
        "(ditandai DATA CONTOH), untuk mencoba aplikasi dan untuk benchmark.",
    )
    demo.add_argument("--count", type=int, default=1000, help="jumlah pekerja (bawaan: 1000)")
    demo.add_argument("--seed", type=int, default=0, help="benih acak (bawaan: 0)")
    demo.set_defaults(handler=run_demo_data)


def _id(number: int) -> str:
    """12.345: Indonesian thousands separator."""
    return f"{number:,}".replace(",", ".")


def _progress_line(started: float):
    def report(done: int, total: int) -> None:
        rate = done / max(time.perf_counter() - started, 1e-9)
        end = "\n" if done >= total else ""
        print(f"\rData contoh: {_id(done)} / {_id(total)} ({done * 100 // max(total, 1)}%, "
              f"{_id(round(rate))} per detik)", end=end, file=sys.stderr, flush=True)

    return report


def run_demo_data(args: argparse.Namespace) -> int:
    from storage.db import StorageError
    from storage.demo import fill_demo_data
    from storage.paths import database_path
    from storage.registry import Registry

    if args.count < 1:
        print("Jumlah pekerja harus paling sedikit 1.", file=sys.stderr)
        return 2
    path = database_path(args.data_dir)
    try:
        registry = Registry.open(path)
        try:
            done = fill_demo_data(registry, args.count, seed=args.seed,
                                  progress=_progress_line(time.perf_counter()))
            from cards.demo import fund_demo_members  # lazy: only this command needs cards

            funded = fund_demo_members(registry, path.parent, seed=args.seed)
        finally:
            registry.close()
    except StorageError as exc:
        print(f"Gagal: {exc}", file=sys.stderr)
        return 1
    print(f"{done} pekerja contoh ditambahkan ke {path}.")
    print(f"{funded} di antaranya didanai dengan kartu contoh (kunci demo perangkat ini).")
    return 0
