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

    imp = sub.add_parser(
        "import-csv",
        help="impor pendaftaran dari berkas CSV",
        description="Mendaftarkan pekerja dari berkas CSV (kolom: lihat README, Impor CSV). "
        "Setiap baris diperiksa dengan aturan yang sama seperti formulir; baris yang ditolak "
        "dilaporkan beserta alasannya.",
    )
    imp.add_argument("file", help="berkas CSV (pemisah ; atau ,)")
    imp.add_argument("--operator", default="", help="nama petugas yang mengimpor (bawaan: "
                     "pengaturan operator_name, atau nama pengguna sistem)")
    imp.add_argument("--event", default="", help="nama kegiatan; dibuat bila belum ada")
    imp.add_argument("--accept-warnings", action="store_true",
                     help="simpan juga baris yang hanya berisi peringatan (mis. nama mirip)")
    imp.add_argument("--report", default="", help="tulis baris yang ditolak ke berkas CSV ini")
    imp.set_defaults(handler=run_import_csv)


def _id(number: int) -> str:
    """12.345: Indonesian thousands separator."""
    return f"{number:,}".replace(",", ".")


def _progress_line(started: float, label: str = "Data contoh"):
    def report(done: int, total: int) -> None:
        rate = done / max(time.perf_counter() - started, 1e-9)
        end = "\n" if done >= total else ""
        print(f"\r{label}: {_id(done)} / {_id(total)} ({done * 100 // max(total, 1)}%, "
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


def run_import_csv(args: argparse.Namespace) -> int:
    import getpass

    from storage.csv_import import ImportFileError, import_csv, write_skipped
    from storage.db import StorageError
    from storage.paths import database_path
    from storage.registry import Registry

    try:
        registry = Registry.open(database_path(args.data_dir))
        try:
            operator = (args.operator or registry.get_setting("operator_name")
                        or getpass.getuser())
            event_id = _event_id(registry, args.event, operator) if args.event else None
            started = time.perf_counter()
            report = import_csv(registry, args.file, operator=operator, event_id=event_id,
                                accept_warnings=args.accept_warnings,
                                progress=_progress_line(started, "Impor"))
        finally:
            registry.close()
    except (StorageError, ImportFileError) as exc:
        print(f"Gagal: {exc}", file=sys.stderr)
        return 1
    print(f"{_id(report.imported)} dari {_id(report.total)} baris didaftarkan"
          + (f" ({_id(report.with_warnings)} dengan peringatan yang diterima)"
             if report.with_warnings else "") + ".")
    for row in report.skipped[:20]:
        print(f"  baris {row.line} ({row.nik_masked} {row.full_name}): {row.reasons[0]}")
    if len(report.skipped) > 20:
        print(f"  … dan {_id(len(report.skipped) - 20)} baris lain ditolak.")
    if args.report and report.skipped:
        write_skipped(report, args.report)
        print(f"Baris yang ditolak ditulis ke {args.report}.")
    return 0 if not report.skipped else 3


def _event_id(registry, name: str, operator: str) -> str:
    """The kegiatan with this name; created (held today) when there is none yet."""
    from datetime import date

    for event in registry.events():
        if event.name == " ".join(name.split()):
            return event.id
    return registry.add_event(name, date.today(), operator=operator).id
