"""`main.py demo-data`, `import` (and `import-csv`) and `operators`: the device database's
commands (registered by cli/__init__.py)."""

from __future__ import annotations

import argparse
import sys
import time

from storage.cli_auth import (
    Refused,
    actor,
    add_unlock_arguments,
    operator_name,
    print_recovery_key,
    unlock,
)

ADMIN = ("admin",)
REGISTERS = ("petugas", "admin")


def register(sub: argparse._SubParsersAction) -> None:
    """Add these subcommands to main.py's parser."""
    demo = sub.add_parser(
        "demo-data",
        help="isi basis data dengan pekerja contoh (fiktif)",
        description="Mengisi basis data dengan pekerja contoh yang sah tetapi fiktif "
        "(ditandai DATA CONTOH), untuk mencoba aplikasi dan untuk benchmark.",
    )
    demo.add_argument("--count", type=int, default=1000, help="jumlah pekerja (bawaan: 1000)")
    demo.add_argument("--seed", type=int, default=0, help="benih acak (bawaan: 0)")
    add_unlock_arguments(demo)
    demo.set_defaults(handler=run_demo_data)

    register_import(sub)
    register_operators(sub)


def register_import(sub: argparse._SubParsersAction) -> None:
    """`main.py import FILE` (CSV or XLSX) and `import-csv`, its older name."""
    for name, help_text in (("import", "impor pendaftaran dari daftar CSV atau XLSX"),
                            ("import-csv", "sama dengan 'import' (nama lama)")):
        imp = sub.add_parser(
            name, help=help_text,
            description="Mendaftarkan pekerja dari daftar CSV atau XLSX (kolom: lihat README, "
            "Impor daftar). Setiap baris diperiksa dengan aturan yang sama seperti formulir; "
            "baris yang tidak didaftarkan dilaporkan beserta alasannya. Dengan --dry-run "
            "tidak ada yang disimpan.",
        )
        imp.add_argument("file", help="berkas CSV (pemisah ; atau ,) atau XLSX")
        add_unlock_arguments(imp)
        imp.add_argument("--event", default="", help="nama kegiatan; dibuat bila belum ada")
        imp.add_argument("--accept-warnings", action="store_true",
                         help="simpan juga baris yang hanya berisi peringatan (mis. nama mirip)")
        imp.add_argument("--report", default="",
                         help="tulis baris yang tidak didaftarkan ke berkas CSV ini")
        imp.add_argument("--dry-run", action="store_true",
                         help="uji coba: hitung baris baru, sudah terdaftar, mungkin duplikat, "
                         "ditolak dan menunggu peringatan, tanpa menyimpan apa pun")
        imp.add_argument("--map", default="", metavar='"JUDUL=kolom,..."',
                         help="kolom mana yang mana bila judul kolom bukan yang di panduan, "
                         "mis. \"No KTP=nik,Nama=nama_lengkap\"; '-' melewatkan kolom")
        imp.add_argument("--map-file", default="",
                         help="berkas pemetaan kolom: satu JUDUL=kolom per baris")
        imp.add_argument("--sheet", default="", help="nama lembar XLSX yang diimpor (bawaan: "
                         "lembar terlihat pertama yang berjudul kolom)")
        imp.add_argument("--group-size", type=int, default=0,
                         help="baris per transaksi (bawaan: 500)")
        imp.set_defaults(handler=run_import_csv)


def register_operators(sub: argparse._SubParsersAction) -> None:
    """`main.py operators add|list|passwd|unlock|deactivate`: the device's operator accounts."""
    from storage.operators import ROLES

    ops = sub.add_parser(
        "operators",
        help="kelola akun petugas perangkat ini",
        description="Mengelola akun petugas yang boleh masuk ke aplikasi di perangkat ini. "
        "Kata sandi dibaca tanpa ditampilkan (getpass), atau satu baris dari stdin bila "
        "stdin bukan terminal. Setiap aksi dijalankan oleh admin (--operator); akun pertama "
        "perangkat dibuat tanpa --operator.",
    )
    actions = ops.add_subparsers(dest="operators_command", metavar="AKSI", required=True)

    def action(name: str, help_text: str, handler, *, username: bool = True):
        p = actions.add_parser(name, help=help_text, description=help_text)
        # Also accepted after the subcommand; SUPPRESS keeps the one given before it.
        p.add_argument("--data-dir", default=argparse.SUPPRESS,
                       help="folder data aplikasi (bawaan: folder data platform)")
        if username:
            p.add_argument("username", metavar="NAMA_PENGGUNA", help="nama pengguna petugas")
        add_unlock_arguments(p, recovery=name == "passwd", required=False)
        p.set_defaults(handler=handler)
        return p

    add = action("add", "tambah akun petugas (akun pertama harus admin)", run_operators_add)
    add.add_argument("--name", required=True, help="nama lengkap yang dicatat pada data")
    add.add_argument("--role", required=True, choices=ROLES, help="peran petugas")
    action("list", "daftar akun petugas", run_operators_list, username=False)
    action("passwd", "ganti kata sandi petugas (juga membuka kunci)", run_operators_passwd)
    action("unlock", "buka kunci akun yang terkunci karena salah masuk", run_operators_unlock)
    action("deactivate", "nonaktifkan akun petugas", run_operators_deactivate)


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


def _with_operators(args: argparse.Namespace, work, *, own: bool = False) -> int:
    """`work(operators, now, by)` as an admin (`--operator`), or as the operator named in the
    command when `own` (a password change of one's own), or with the recovery key."""
    from datetime import UTC, datetime

    from storage.db import StorageError
    from storage.operators import OperatorError

    try:
        opened = unlock(args)
    except Refused as exc:
        print(f"Gagal: {exc}", file=sys.stderr)
        return 2
    try:
        operator = opened.operator
        mine = own and operator is not None and \
            operator.username == args.username.strip().casefold()
        if operator is not None and not operator.is_admin and not mine:
            print(f"Gagal: Peran {operator.role_label} tidak berwenang untuk perintah ini "
                  "(perlu: Admin).", file=sys.stderr)
            return 2
        return work(opened.registry.operators, datetime.now(UTC), actor(opened))
    except (OperatorError, ValueError) as exc:
        print(f"Gagal: {exc}", file=sys.stderr)
        return 1
    except StorageError as exc:
        print(f"Gagal: {exc}", file=sys.stderr)
        return 2
    finally:
        opened.registry.close()


def _first_admin(args: argparse.Namespace) -> int | None:
    """`operators add` on a device without accounts: the first admin, no --operator needed
    (the database is created encrypted, or a plain one upgraded). None when it has accounts."""
    from datetime import UTC, datetime

    from storage.db import StorageError
    from storage.operators import OperatorError
    from storage.paths import data_dir
    from storage.unlock import accounts, set_up
    from storage.vault import VaultError

    folder = data_dir(getattr(args, "data_dir", None))
    try:
        if accounts(folder):
            return None
        if args.role != "admin":
            raise OperatorError("first_must_be_admin")
        opened = set_up(folder, args.username, args.name, read_new_password(),
                        datetime.now(UTC))
    except (OperatorError, ValueError) as exc:
        print(f"Gagal: {exc}", file=sys.stderr)
        return 1
    except (StorageError, VaultError) as exc:
        print(f"Gagal: {exc}", file=sys.stderr)
        return 2
    opened.registry.close()
    op = opened.operator
    print(f"Akun {op.username} ({op.display_name}, {op.role_label}) dibuat.")
    print_recovery_key(opened.recovery_key)
    return 0


def run_operators_add(args: argparse.Namespace) -> int:
    first = _first_admin(args)
    if first is not None:
        return first

    def work(operators, now, by) -> int:
        password = read_new_password()
        created = operators.add(args.username, args.name, args.role, password, now=now, by=by)
        print(f"Akun {created.username} ({created.display_name}, {created.role_label}) dibuat.")
        return 0

    return _with_operators(args, work)


def run_operators_list(args: argparse.Namespace) -> int:
    from storage.vocabulary import show_clock

    def work(operators, now, by) -> int:
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
                state = f"terkunci sampai {show_clock(op.locked_until)}"
            elif op.failed_attempts:
                state = f"aktif, {op.failed_attempts} kali salah"
            else:
                state = "aktif"
            print(f"{op.username:<20} {op.role_label:<20} {state:<26} {op.display_name}")
        return 0

    return _with_operators(args, work)


def run_operators_passwd(args: argparse.Namespace) -> int:
    def work(operators, now, by) -> int:
        if operators.get(args.username) is None:
            from storage.operators import OperatorError

            raise OperatorError("not_found")
        operators.change_password(args.username, read_new_password(), now=now, by=by)
        print(f"Kata sandi {args.username.strip().casefold()} diganti.")
        return 0

    return _with_operators(args, work, own=True)


def _account_step(method: str, done: str):
    """The handler of `operators unlock|deactivate`: the step as an admin, then `done` naming
    the account."""
    def handler(args: argparse.Namespace) -> int:
        def work(operators, now, by) -> int:
            getattr(operators, method)(args.username, now=now, by=by)
            print(done.format(args.username.strip().casefold()))
            return 0

        return _with_operators(args, work)

    return handler


run_operators_unlock = _account_step("unlock", "Kunci akun {} dibuka.")
run_operators_deactivate = _account_step("deactivate", "Akun {} dinonaktifkan.")


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


def _on_device(args: argparse.Namespace, roles: tuple[str, ...], work, errors) -> int:
    """`work(opened)` on the unlocked device database, closed after; 2 when it may not be opened
    (storage/cli_auth.py), 1 with the Indonesian message for one of `errors`."""
    try:
        opened = unlock(args, roles=roles)
    except Refused as exc:
        print(f"Gagal: {exc}", file=sys.stderr)
        return 2
    try:
        try:
            return work(opened)
        finally:
            opened.registry.close()
    except errors as exc:
        print(f"Gagal: {exc}", file=sys.stderr)
        return 1


def run_demo_data(args: argparse.Namespace) -> int:
    from ops.demo import fill_and_fund
    from storage.db import StorageError
    from storage.paths import database_path

    if args.count < 1:
        print("Jumlah pekerja harus paling sedikit 1.", file=sys.stderr)
        return 2
    path = database_path(args.data_dir)

    def work(opened) -> int:
        done, funded = fill_and_fund(opened.registry, args.count, seed=args.seed,
                                     data_dir=path.parent,
                                     progress=_progress_line(time.perf_counter()))
        print(f"{done} pekerja contoh ditambahkan ke {path}.")
        print(f"{funded} di antaranya didanai dengan kartu contoh (kunci demo perangkat ini).")
        return 0

    return _on_device(args, ADMIN, work, StorageError)


def run_import_csv(args: argparse.Namespace) -> int:
    """`import` / `import-csv`: read the list, settle the mapping, import or dry-run, report."""
    from storage.csv_import import ImportFileError
    from storage.db import StorageError
    from storage.import_mapping import MappingError

    def work(opened) -> int:
        report = _import_list(args, opened.registry, operator_name(opened))
        _print_import_report(report)
        if args.report and report.skipped:
            from storage.csv_import import write_skipped

            write_skipped(report, args.report)
            print(f"Baris yang tidak didaftarkan ditulis ke {args.report}.")
        return 0 if not report.skipped else 3

    return _on_device(args, REGISTERS, work, (StorageError, ImportFileError, MappingError))


def _import_list(args: argparse.Namespace, registry, operator: str):
    """ops/imports.py's steps, as the window runs them, with the mapping from --map/--map-file."""
    from ops.imports import event_named, import_list, open_list
    from storage import import_mapping as mapping_rules
    from storage.import_run import GROUP_SIZE

    table, mapping, kept = open_list(registry, args.file, sheet=args.sheet or None)
    for notice in table.notices:
        print(notice, file=sys.stderr)
    pairs = []
    if args.map_file:
        pairs += mapping_rules.read_map_file(args.map_file)
    if args.map:
        pairs += mapping_rules.parse_pairs(args.map)
    mapping = mapping_rules.apply_pairs(table.headers, pairs, mapping)
    try:
        mapping_rules.check(mapping)
    except mapping_rules.MappingError as exc:
        columns = ", ".join(f"'{h}'" for h in table.headers if h)
        raise mapping_rules.MappingError(
            f"{exc} Kolom di berkas: {columns}. Pilih dengan --map \"JUDUL=kolom,...\" "
            "(nama kolom: README, Impor daftar).") from None
    described = mapping_rules.describe(table.headers, mapping)
    if described:
        print(("Pemetaan kolom (tersimpan dari impor sebelumnya): " if kept and not pairs
               else "Pemetaan kolom: ") + "; ".join(described), file=sys.stderr)
    event_id = (event_named(registry, args.event, operator)
                if args.event and not args.dry_run else None)
    return import_list(registry, table, mapping, operator=operator, event_id=event_id,
                       accept_warnings=args.accept_warnings, dry_run=args.dry_run,
                       group_size=args.group_size or GROUP_SIZE,
                       progress=_progress_line(time.perf_counter(),
                                               "Uji coba" if args.dry_run else "Impor"))


def _print_import_report(report) -> None:
    counts = report.counts
    if report.dry_run:
        print(f"Uji coba, tidak ada yang disimpan: {_id(report.imported)} dari "
              f"{_id(report.total)} baris akan didaftarkan.")
    else:
        print(f"{_id(report.imported)} dari {_id(report.total)} baris didaftarkan"
              + (f" ({_id(report.with_warnings)} dengan peringatan yang diterima)"
                 if report.with_warnings else "") + ".")
    print(f"  baru: {_id(counts['new'])}, sudah terdaftar (NIK sama): {_id(counts['already'])}, "
          f"mungkin duplikat (nama mirip, tanggal lahir sama): {_id(counts['similar'])}, "
          f"menunggu peringatan diterima: {_id(counts['warnings'])}, "
          f"ditolak: {_id(counts['refused'])}.")
    if report.cancelled:
        print("Dibatalkan; kelompok baris yang sudah selesai tetap tersimpan.")
    for row in report.skipped[:20]:
        print(f"  baris {row.line} ({row.nik_masked} {row.full_name}): {row.reasons[0]}")
    if len(report.skipped) > 20:
        print(f"  … dan {_id(len(report.skipped) - 20)} baris lain tidak didaftarkan.")
