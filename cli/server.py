"""`main.py server …` (registered by cli/__init__.py).

`python main.py server --data-dir DIR [--host 127.0.0.1] [--port 8765]` runs the central server;
the other `server` subcommands are the admin's tools on the same data directory. Imports are made
inside the handlers, so that main.py's other commands do not load the server to start.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from server.schemas import ROLES

DATABASE_ENV = "JAMSOS_SERVER_DATABASE"  # for a service unit: keeps the password off the ps list


def register(sub: argparse._SubParsersAction) -> None:
    """Add these subcommands to main.py's parser."""
    parser = sub.add_parser("server", help="server pusat: jalankan atau kelola")
    parser.add_argument("--data-dir", dest="server_data_dir", default=None,
                        help="folder data server (berisi server.db dan kunci kartu)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="alamat yang didengarkan (bawaan: hanya komputer ini)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="jumlah proses server (lebih dari 1 hanya dengan PostgreSQL)")
    _database_option(parser, "server_database")
    _tls_options(parser)
    parser.set_defaults(handler=_run)
    admin = parser.add_subparsers(dest="server_command", metavar="PERINTAH_ADMIN")
    _admin_commands(admin)
    _dashboard_commands(admin)
    _office_commands(admin)
    _migrate_command(admin)


def _with_data_dir(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    # Its own dest: a nested parser's default would otherwise hide the value given before it.
    parser.add_argument("--data-dir", dest="admin_data_dir", default=None,
                        help="folder data server")
    _database_option(parser, "admin_database")
    return parser


def _database_option(parser: argparse.ArgumentParser, dest: str) -> None:
    parser.add_argument(
        "--database", dest=dest, default=None, metavar="URL",
        help="basis data server: postgresql://pengguna@host/nama atau sqlite:///jalur/server.db "
             f"(bawaan: ${DATABASE_ENV}, atau server.db di folder data)")


def _admin_commands(admin: argparse._SubParsersAction) -> None:
    def command(name: str, help_text: str, handler) -> argparse.ArgumentParser:
        parser = _with_data_dir(admin.add_parser(name, help=help_text))
        parser.set_defaults(handler=handler)
        return parser

    code = command("enrol-code", "buat kode sekali pakai untuk mendaftarkan perangkat",
                   _enrol_code)
    code.add_argument("--role", choices=ROLES, default="enumerator")
    code.add_argument("--name", default="", help="catatan: untuk siapa kode ini")
    command("devices", "daftar perangkat", _devices)
    command("revoke-device", "cabut akses perangkat", _revoke).add_argument("device_id")
    moved = command("transfer-records",
                    "pindahkan semua pendaftaran milik satu perangkat ke perangkat penggantinya",
                    _transfer)
    moved.add_argument("--from", dest="from_device", required=True, metavar="PERANGKAT",
                       help="nomor perangkat lama (boleh yang sudah dicabut)")
    moved.add_argument("--to", dest="to_device", required=True, metavar="PERANGKAT",
                       help="nomor perangkat baru (aktif)")
    held = command("device-records",
                   "data yang pernah dipegang perangkat (pemberitahuan kebocoran data)",
                   _device_records)
    held.add_argument("device_id")
    held.add_argument("--out", help="berkas CSV (bawaan: layar)")

    quota = admin.add_parser("quota", help="kuota per kelompok dan tahun program")
    quota_sub = quota.add_subparsers(dest="quota_command", metavar="show|set", required=True)
    show = _with_data_dir(quota_sub.add_parser("show", help="tampilkan sisa kuota"))
    show.add_argument("--year", type=int, default=None)
    show.set_defaults(handler=_quota_show)
    put = _with_data_dir(quota_sub.add_parser("set", help="tetapkan kuota (boleh tahun depan)"))
    put.add_argument("--year", type=int, required=True)
    put.add_argument("--cohort", required=True,
                     help="pekerja_rentan, petugas_keagamaan, atau '' untuk total semua")
    put.add_argument("--places", type=int, required=True)
    put.set_defaults(handler=_quota_set)


def _data_dir(args) -> Path:
    chosen = (getattr(args, "admin_data_dir", None) or args.server_data_dir
              or getattr(args, "data_dir", None))
    if chosen:
        return Path(chosen)
    from storage.paths import data_dir

    return Path(data_dir()) / "server"


def _database_url(args) -> str | None:
    import os

    return (getattr(args, "admin_database", None) or getattr(args, "server_database", None)
            or os.environ.get(DATABASE_ENV) or None)


def _store(args):
    from server.database import DatabaseUrlError
    from server.store import Store

    try:
        return Store(_data_dir(args), _database_url(args))
    except DatabaseUrlError as exc:
        print(f"Gagal: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _tls_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tls-cert", default=None, metavar="BERKAS",
                        help="sertifikat TLS server (PEM, dengan rantai perantara): layani HTTPS")
    parser.add_argument("--tls-key", default=None, metavar="BERKAS",
                        help="kunci privat sertifikat TLS (PEM, tanpa kata sandi)")
    parser.add_argument("--behind-proxy", action="store_true",
                        help="TLS diakhiri di reverse proxy HTTPS (tanpa peringatan http)")
    parser.add_argument("--forwarded-allow-ips", default="127.0.0.1", metavar="ALAMAT",
                        help="alamat proxy yang dipercaya untuk X-Forwarded-Proto/-For "
                             "(dipisah koma; bawaan 127.0.0.1)")


def _run(args) -> int:
    from server.app import create_app
    from server.serve import ServeOptions, serve

    options = ServeOptions(args.host, args.port, args.tls_cert, args.tls_key,
                           args.behind_proxy, args.forwarded_allow_ips, args.workers)
    return serve(lambda: create_app(_data_dir(args), _database_url(args)), options,
                 _data_dir(args), _database_url(args))


def _enrol_code(args) -> int:
    from server.auth import create_enrol_code

    code = create_enrol_code(_store(args), args.role, args.name)
    print(f"Kode pendaftaran perangkat ({args.role}), berlaku 7 hari, sekali pakai:")
    print(code)
    return 0


def _devices(args) -> int:
    from server.auth import list_devices

    for d in list_devices(_store(args)):
        state = f"dicabut {d['revoked_at']}" if d["revoked_at"] else "aktif"
        print(f"{d['id']}  {d['role']:<10}  {state:<40}  {d['name']}")
    return 0


def _revoke(args) -> int:
    from server.auth import revoke_device

    if revoke_device(_store(args), args.device_id):
        print(f"Akses perangkat {args.device_id} telah dicabut.")
        return 0
    print(f"Perangkat {args.device_id} tidak ditemukan atau sudah dicabut.", file=sys.stderr)
    return 1


def _transfer(args) -> int:
    import getpass

    from server.errors import ApiError
    from server.transfers import transfer_records

    # The admin at the server's console: the system account is who did it.
    user = getpass.getuser() or "admin"
    operator = {"username": user[:64], "display_name": f"Admin server ({user})"[:100]}
    try:
        done = transfer_records(_store(args), args.from_device, args.to_device, operator)
    except ApiError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(f"{done['records']} pendaftaran dipindahkan dari perangkat {done['from_device_id']} "
          f"ke {done['to_device_id']} (pemindahan {done['transfer_id']}).")
    return 0


def _device_records(args) -> int:
    from server.holdings import device_records

    rows = device_records(_store(args), args.device_id)
    out = open(args.out, "w", newline="", encoding="utf-8") if args.out else sys.stdout
    try:
        writer = csv.writer(out)
        writer.writerow(["record_id", "nik_masked", "full_name", "kelurahan_code", "how",
                         "first_at"])
        for row in rows:
            writer.writerow([row[k] for k in ("record_id", "nik_masked", "full_name",
                                              "kelurahan_code", "how", "first_at")])
    finally:
        if args.out:
            out.close()
    print(f"{len(rows)} pendaftaran pernah dipegang perangkat {args.device_id}.", file=sys.stderr)
    return 0


def _quota_show(args) -> int:
    from server.decisions import quota_status
    from server.rules import server_today

    status = quota_status(_store(args), args.year or server_today().year)
    print(f"Tahun program {status['programme_year']}")
    for c in status["cohorts"]:
        shared = " (total bersama)" if c["shared"] else ""
        print(f"  {c['label']:<20} kuota {c['places']:>6}{shared}  didanai {c['funded']:>6}  "
              f"sisa {c['left']:>6}")
    return 0


def _quota_set(args) -> int:
    from server.decisions import set_quota

    if args.places < 0:
        print("Kuota tidak boleh negatif.", file=sys.stderr)
        return 2
    set_quota(_store(args), args.year, args.cohort, args.places)
    print(f"Kuota {args.cohort or 'semua kelompok'} tahun {args.year}: {args.places}.")
    return 0


# --- dashboard (server/dashboard/) ---


def _dashboard_commands(admin: argparse._SubParsersAction) -> None:
    users = admin.add_parser("dashboard-user", help="akun dasbor pejabat (bukan perangkat)")
    sub = users.add_subparsers(dest="dashboard_command", metavar="add|passwd|disable|list",
                               required=True)
    add = _with_data_dir(sub.add_parser("add", help="buat akun dasbor"))
    add.add_argument("username")
    add.add_argument("--name", required=True, help="nama lengkap pejabat")
    add.add_argument("--role", required=True, choices=("pimpinan", "disnaker"),
                     help="pimpinan: angka agregat saja; disnaker: juga daftar orang")
    add.add_argument("--password-stdin", action="store_true",
                     help="baca kata sandi dari masukan standar (untuk skrip)")
    add.set_defaults(handler=_dashboard_add)
    passwd = _with_data_dir(sub.add_parser("passwd", help="ganti kata sandi, buka kunci"))
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true",
                        help="baca kata sandi dari masukan standar (untuk skrip)")
    passwd.set_defaults(handler=_dashboard_passwd)
    disable = _with_data_dir(sub.add_parser("disable", help="nonaktifkan akun dasbor"))
    disable.add_argument("username")
    disable.set_defaults(handler=_dashboard_disable)
    _with_data_dir(sub.add_parser("list", help="daftar akun dasbor")).set_defaults(
        handler=_dashboard_list)
    report = _with_data_dir(admin.add_parser("report", help="laporan bulanan dasbor (PDF)"))
    report.add_argument("--month", required=True, help="bulan laporan, mis. 2026-11")
    report.add_argument("--out", required=True, help="berkas PDF yang dibuat")
    report.set_defaults(handler=_report)


def _new_password(args) -> str:
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Kata sandi baru: ")
    if getpass.getpass("Ulangi kata sandi: ") != first:
        raise ValueError("Kedua kata sandi tidak sama.")
    return first


def _dashboard_account(args, action) -> int:
    from server.dashboard.accounts import AccountError

    try:
        message = action()
    except (AccountError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    print(message)
    return 0


def _dashboard_add(args) -> int:
    from server.dashboard.accounts import add_user

    return _dashboard_account(args, lambda: (
        add_user(_store(args), args.username, args.name, args.role, _new_password(args))
        and f"Akun dasbor {args.username} ({args.role}) dibuat."))


def _dashboard_passwd(args) -> int:
    from server.dashboard.accounts import set_password

    def action():
        set_password(_store(args), args.username, _new_password(args))
        return f"Kata sandi {args.username} diganti; kunci dibuka, sesi lama diakhiri."

    return _dashboard_account(args, action)


def _dashboard_disable(args) -> int:
    from server.dashboard.accounts import disable_user

    def action():
        disable_user(_store(args), args.username)
        return f"Akun dasbor {args.username} dinonaktifkan; sesinya diakhiri."

    return _dashboard_account(args, action)


def _dashboard_list(args) -> int:
    from server.dashboard.accounts import list_users

    for u in list_users(_store(args)):
        state = ("nonaktif" if u["disabled_at"] else
                 f"terkunci s.d. {u['locked_until'][:16]}" if u["locked_until"] else "aktif")
        print(f"{u['username']:<20} {u['role']:<9} {state:<28} {u['display_name']}")
    return 0


def _report(args) -> int:
    from server.dashboard.filters import Filters
    from server.dashboard.report import monthly_report, parse_month
    from server.rules import server_today

    try:
        first = parse_month(args.month)
    except ValueError:
        print(f"Bulan tidak sah: {args.month!r} (contoh: 2026-11).", file=sys.stderr)
        return 2
    today = server_today()
    body = monthly_report(_store(args), first, Filters(year=first.year), today)
    Path(args.out).write_bytes(body)
    print(f"Laporan bulan {first:%Y-%m} ditulis ke {args.out} ({len(body) // 1024} KiB).")
    return 0


# --- the programme office (server/bpjs_export.py, server/kpj.py) ---


def _office_commands(admin: argparse._SubParsersAction) -> None:
    export = _with_data_dir(admin.add_parser(
        "bpjs-export", help="berkas pendaftaran kolektif BPJS Ketenagakerjaan (XLSX)"))
    export.add_argument("--out", required=True, help="berkas XLSX yang dibuat")
    export.add_argument("--since-last", action="store_true",
                        help="hanya perubahan sejak ekspor terakhir (baru, dikoreksi, berhenti)")
    export.set_defaults(handler=_bpjs_export)
    answer = _with_data_dir(admin.add_parser(
        "kpj-import", help="impor jawaban BPJS: nomor KPJ per NIK atau nomor anggota kota"))
    answer.add_argument("file", help="berkas XLSX atau CSV dari BPJS")
    answer.set_defaults(handler=_kpj_import)


def _console_operator() -> dict:
    import getpass

    # The admin at the server's console: the system account is who did it.
    user = getpass.getuser() or "admin"
    return {"username": user[:64], "display_name": f"Admin server ({user})"[:100]}


def _bpjs_export(args) -> int:
    from server.bpjs_export import DELTA, FULL, export
    from server.errors import ApiError

    try:
        body, info = export(_store(args), DELTA if args.since_last else FULL, None,
                            _console_operator())
    except ApiError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    Path(args.out).write_bytes(body)
    counts = ", ".join(f"{n} {label}" for label, n in (
        ("baru", info["counts"]["new"]), ("koreksi", info["counts"]["corrected"]),
        ("berhenti", info["counts"]["ended"])) if n)
    kind = "perubahan sejak ekspor terakhir" if args.since_last else "lengkap"
    print(f"Berkas BPJS ({kind}) ditulis ke {args.out}: {info['rows']} baris"
          f"{' (' + counts + ')' if counts else ''}. SHA-256 {info['sha256']} tercatat di "
          "audit.")
    return 0


def _kpj_import(args) -> int:
    from server.errors import ApiError
    from server.kpj import import_kpj

    path = Path(args.file)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        print(f"Berkas {path} tidak dapat dibaca: {exc.strerror}.", file=sys.stderr)
        return 1
    try:
        done = import_kpj(_store(args), raw, path.name, None, _console_operator())
    except ApiError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(f"{done['rows']} baris dibaca: {done['taken']} nomor KPJ dicatat, "
          f"{done['unchanged']} sudah sama, {len(done['refused'])} ditolak.")
    for item in done["refused"]:
        who = item["nik_masked"] or item["member_number"] or "-"
        print(f"  baris {item['line']}: {who} KPJ {item['kpj'] or '-'}: {item['message']}")
    return 0 if not done["refused"] else 3


# --- moving the database (server/migrate_db.py) ---


def _migrate_command(admin: argparse._SubParsersAction) -> None:
    move = admin.add_parser("migrate-db", help="salin seluruh basis data server ke basis data "
                                               "lain (SQLite ke PostgreSQL), lalu periksa")
    move.add_argument("--data-dir", dest="admin_data_dir", default=None,
                      help="folder data server (kunci kartu tetap di sini)")
    move.add_argument("--from", dest="from_url", default=None, metavar="URL",
                      help="basis data sumber (bawaan: server.db di folder data)")
    move.add_argument("--to", dest="to_url", required=True, metavar="URL",
                      help="basis data tujuan, baru dan kosong: postgresql://pengguna@host/nama")
    move.set_defaults(handler=_migrate_db)


def _migrate_db(args) -> int:
    from server.database import DatabaseUrlError
    from server.migrate_db import MigrationRefused, migrate_database
    from server.store import default_database_url

    source = args.from_url or default_database_url(_data_dir(args))
    try:
        result = migrate_database(_data_dir(args), source, args.to_url,
                                  say=lambda line: print(line, flush=True))
    except (DatabaseUrlError, MigrationRefused) as exc:
        print(f"Gagal: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Dihentikan. Jalankan lagi perintah yang sama untuk melanjutkan.", file=sys.stderr)
        return 130
    except Exception as exc:  # a lost connection mid-copy: what is committed stays
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"Terhenti: {first}. Jalankan lagi perintah yang sama untuk melanjutkan.",
              file=sys.stderr)
        return 1
    print(f"Selesai dan diperiksa: {result.rows:,} baris dalam {len(result.tables)} tabel, "
          f"{result.seconds:.1f} detik (salin {result.copy_seconds:.1f}, periksa "
          f"{result.verify_seconds:.1f}).")
    for name in ("registrations", "versions"):
        print(f"  SHA-256 {name}: {result.digests[name]}")
    return 0
