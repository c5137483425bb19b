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
    register_operators(sub)


def register_operators(sub: argparse._SubParsersAction) -> None:
    """`main.py operators add|list|passwd|unlock|deactivate`: the device's operator accounts."""
    from storage.operators import ROLES

    ops = sub.add_parser(
        "operators",
        help="kelola akun petugas perangkat ini",
        description="Mengelola akun petugas yang boleh masuk ke aplikasi di perangkat ini. "
        "Kata sandi dibaca tanpa ditampilkan (getpass), atau satu baris dari stdin bila "
        "stdin bukan terminal.",
    )
    actions = ops.add_subparsers(dest="operators_command", metavar="AKSI", required=True)

    def action(name: str, help_text: str, handler, *, username: bool = True):
        p = actions.add_parser(name, help=help_text, description=help_text)
        # Also accepted after the subcommand; SUPPRESS keeps the one given before it.
        p.add_argument("--data-dir", default=argparse.SUPPRESS,
                       help="folder data aplikasi (bawaan: folder data platform)")
        if username:
            p.add_argument("username", metavar="NAMA_PENGGUNA", help="nama pengguna petugas")
        p.set_defaults(handler=handler)
        return p

    add = action("add", "tambah akun petugas (akun pertama harus admin)", run_operators_add)
    add.add_argument("--name", required=True, help="nama lengkap yang dicatat pada data")
    add.add_argument("--role", required=True, choices=ROLES, help="peran petugas")
    action("list", "daftar akun petugas", run_operators_list, username=False)
    action("passwd", "ganti kata sandi petugas (juga membuka kunci)", run_operators_passwd)
    action("unlock", "buka kunci akun yang terkunci karena salah masuk", run_operators_unlock)
    action("deactivate", "nonaktifkan akun petugas", run_operators_deactivate)


def _cli_actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no user name on this system
        return "cli"


def read_new_password(stream=None) -> str:
    """Twice with getpass on a terminal; one line from stdin otherwise. ValueError (Indonesian)
    when the two differ or the password breaks the rules."""
    import getpass

    from storage.operators import OperatorError, check_password

    stream = sys.stdin if stream is None else stream
    if stream.isatty():
        password = getpass.getpass("Kata sandi baru: ")
        repeated = getpass.getpass("Ulangi kata sandi: ")
    else:
        password = stream.readline().rstrip("\r\n")
        repeated = None
    try:
        check_password(password, repeated)
    except OperatorError as exc:
        raise ValueError(str(exc)) from None
    return password


def _with_operators(args: argparse.Namespace, work) -> int:
    from datetime import UTC, datetime

    from storage.db import StorageError
    from storage.operators import OperatorError
    from storage.paths import database_path
    from storage.registry import Registry

    try:
        registry = Registry.open(database_path(getattr(args, "data_dir", None)))
    except StorageError as exc:
        print(f"Gagal: {exc}", file=sys.stderr)
        return 2
    try:
        return work(registry.operators, datetime.now(UTC))
    except (OperatorError, ValueError) as exc:
        print(f"Gagal: {exc}", file=sys.stderr)
        return 1
    except StorageError as exc:
        print(f"Gagal: {exc}", file=sys.stderr)
        return 2
    finally:
        registry.close()


def run_operators_add(args: argparse.Namespace) -> int:
    def work(operators, now) -> int:
        password = read_new_password()
        created = operators.add(args.username, args.name, args.role, password, now=now,
                                by=_cli_actor())
        print(f"Akun {created.username} ({created.display_name}, {created.role_label}) dibuat.")
        return 0

    return _with_operators(args, work)


def run_operators_list(args: argparse.Namespace) -> int:
    from storage.operators import format_clock

    def work(operators, now) -> int:
        rows = operators.list()
        if not rows:
            print("Belum ada akun petugas. Tambahkan admin pertama dengan "
                  "'main.py operators add NAMA --name \"Nama Lengkap\" --role admin'.")
            return 0
        print(f"{'NAMA PENGGUNA':<20} {'PERAN':<20} {'KEADAAN':<26} NAMA")
        for op in rows:
            if not op.active:
                state = "nonaktif"
            elif op.locked_at(now):
                state = f"terkunci sampai {format_clock(op.locked_until)}"
            elif op.failed_attempts:
                state = f"aktif, {op.failed_attempts} kali salah"
            else:
                state = "aktif"
            print(f"{op.username:<20} {op.role_label:<20} {state:<26} {op.display_name}")
        return 0

    return _with_operators(args, work)


def run_operators_passwd(args: argparse.Namespace) -> int:
    def work(operators, now) -> int:
        if operators.get(args.username) is None:
            from storage.operators import OperatorError

            raise OperatorError("not_found")
        operators.change_password(args.username, read_new_password(), now=now, by=_cli_actor())
        print(f"Kata sandi {args.username.strip().casefold()} diganti.")
        return 0

    return _with_operators(args, work)


def run_operators_unlock(args: argparse.Namespace) -> int:
    def work(operators, now) -> int:
        operators.unlock(args.username, now=now, by=_cli_actor())
        print(f"Kunci akun {args.username.strip().casefold()} dibuka.")
        return 0

    return _with_operators(args, work)


def run_operators_deactivate(args: argparse.Namespace) -> int:
    def work(operators, now) -> int:
        operators.deactivate(args.username, now=now, by=_cli_actor())
        print(f"Akun {args.username.strip().casefold()} dinonaktifkan.")
        return 0

    return _with_operators(args, work)


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
