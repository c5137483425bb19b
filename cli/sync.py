"""`main.py sync` and `main.py enrol` (registered by cli/__init__.py).

`python main.py --data-dir D enrol --server URL --code CODE` enrols the device once;
`python main.py --data-dir D sync` runs one sync without a window and prints a summary."""

from __future__ import annotations

import argparse
import sys

from storage.cli_auth import Refused, add_unlock_arguments, unlock

ENROLS = ("admin",)  # enrolment binds the device to a server: an admin's act


def register(sub: argparse._SubParsersAction) -> None:
    """Add these subcommands to main.py's parser."""
    p = sub.add_parser("sync", help="sinkronkan dengan server pusat sekali, tanpa jendela")
    p.add_argument("--quiet", action="store_true", help="tanpa tampilan kemajuan")
    add_unlock_arguments(p)
    p.set_defaults(handler=run_sync_command)

    p = sub.add_parser("enrol", help="daftarkan perangkat ini ke server dengan kode sekali pakai")
    p.add_argument("--server", required=True,
                   help="alamat server, mis. https://jamsos.jambikota.go.id atau "
                        "http://127.0.0.1:8765 (http hanya untuk komputer ini)")
    p.add_argument("--code", required=True, help="kode pendaftaran perangkat dari admin")
    p.add_argument("--name", default="", help="nama perangkat (bawaan: nama komputer)")
    p.add_argument("--ca-file", default=None, metavar="BERKAS",
                   help="sertifikat CA kota (PEM) untuk memeriksa sertifikat server https; "
                        "disimpan bersama pendaftaran perangkat")
    p.add_argument("--allow-insecure-http", action="store_true",
                   help="izinkan http tanpa enkripsi ke komputer lain (hanya jaringan tertutup)")
    add_unlock_arguments(p)
    p.set_defaults(handler=run_enrol_command)


def _open_registry(args, roles: tuple[str, ...] | None = None):
    """The unlocked device database (storage/cli_auth.py); Refused when it may not open."""
    return unlock(args, roles=roles).registry


def run_sync_command(args) -> int:
    from storage.db import StorageError
    from sync.client import SyncError
    from sync.engine import run_sync
    from sync.enrol import client_for

    try:
        registry = _open_registry(args)
    except Refused as exc:
        print(f"Gagal: {exc}", file=sys.stderr)
        return 2
    client = client_for(registry)

    def progress(done: int, total: int, phase: str) -> None:
        if not args.quiet:
            label = "Mengirim" if phase == "push" else "Menerima"
            print(f"\r{label}: {done}/{total}   ", end="", file=sys.stderr, flush=True)

    try:
        report = run_sync(registry, client, progress=progress)
    except (SyncError, StorageError) as exc:
        print(f"\nGagal: {exc.message}", file=sys.stderr)
        return 2
    finally:
        client.close()
        registry.close()
    print("", file=sys.stderr)
    print(report.summary())
    return 0 if report.remaining == 0 else 1


def run_enrol_command(args) -> int:
    from ops.enrolment import enrol_device, read_ca_file
    from storage.db import StorageError
    from sync.client import SyncError

    registry = None
    try:
        # The CA file first: a wrong path is reported before the operator's password is asked.
        ca_pem = read_ca_file(args.ca_file) if args.ca_file else ""
        registry = _open_registry(args, ENROLS)
        result = enrol_device(registry, args.server, args.code, args.name, ca_pem=ca_pem,
                              allow_insecure_http=args.allow_insecure_http)
    except Refused as exc:
        print(f"Gagal: {exc}", file=sys.stderr)
        return 2
    except (SyncError, StorageError) as exc:
        print(f"Gagal: {exc.message}", file=sys.stderr)
        return 2
    finally:
        if registry is not None:
            registry.close()
    print(f"Perangkat terdaftar sebagai {result.device_name or result.device_id} "
          f"(peran: {result.role}).")
    return 0
