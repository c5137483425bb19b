"""`main.py cards …` (registered by cli/__init__.py):
`cards public-key`, `cards verify`, `cards revocations`, `cards print`, `cards handover`,
`cards reprint`."""

from __future__ import annotations

import argparse
import base64
import sys
import time

from storage.cli_auth import Refused, add_unlock_arguments, operator_name, unlock

DESK = ("loket_kartu", "admin")  # roles that may print, hand over and reprint cards


def register(sub: argparse._SubParsersAction) -> None:
    """Add these subcommands to main.py's parser."""
    cards = sub.add_parser("cards", help="kartu peserta: cetak, periksa, kunci publik")
    csub = cards.add_subparsers(dest="cards_command", metavar="PERINTAH", required=True)

    keys = csub.add_parser("public-key", help="tampilkan kunci publik yang dipercaya")
    keys.set_defaults(handler=run_public_key)

    verify = csub.add_parser("verify", help="periksa teks QR atau gambar kartu")
    # Scanner text is never taken for a file name (a damaged text may end in ".PNG"): an image
    # is checked only when named with --image.
    verify.add_argument("value", metavar="TEKS", nargs="?", default=None,
                        help="teks QR hasil pindai (selalu dibaca sebagai teks)")
    verify.add_argument("--image", default=None, metavar="GAMBAR",
                        help="periksa foto atau pindaian kartu (PNG, JPEG, ...)")
    verify.add_argument("--revocations", default=None, metavar="BERKAS.json",
                        help="daftar pencabutan dari perangkat yang bersinkronisasi "
                             "(main.py cards revocations)")
    add_unlock_arguments(verify, required=False)
    verify.set_defaults(handler=run_verify)

    revs = csub.add_parser("revocations", help="simpan daftar pencabutan kartu ke berkas JSON")
    revs.add_argument("--out", required=True, metavar="BERKAS.json")
    add_unlock_arguments(revs)
    revs.set_defaults(handler=run_revocations)

    prt = csub.add_parser("print", help="cetak kartu semua peserta yang siap cetak ke PDF")
    prt.add_argument("--layout", choices=("a4", "cr80"), default="a4")
    prt.add_argument("--out", required=True, metavar="BERKAS.pdf")
    prt.add_argument("--kecamatan", default="", help="kode Kemendagri, mis. 15.71.01")
    prt.add_argument("--kelurahan", default="", help="kode Kemendagri, mis. 15.71.01.1001")
    prt.add_argument("--cohort", default="", choices=("", "pekerja_rentan", "petugas_keagamaan"))
    prt.add_argument("--event", default="", help="id kegiatan")
    prt.add_argument("--limit", type=int, default=0, help="paling banyak sekian kartu")
    add_unlock_arguments(prt)
    prt.add_argument("--card-config", default=None, metavar="card.json",
                     help="teks program dan logo kota lain (bawaan: resources/card/card.json)")
    prt.set_defaults(handler=run_print)

    hand = csub.add_parser("handover", help="catat kartu sudah diserahkan")
    hand.add_argument("registration_id")
    hand.add_argument("--to", required=True, help="nama penerima")
    add_unlock_arguments(hand)
    hand.set_defaults(handler=run_handover)

    again = csub.add_parser("reprint", help="cetak ulang: versi baru, versi lama dicabut")
    again.add_argument("registration_id")
    again.add_argument("--reason", required=True,
                       choices=("lost", "damaged", "data_corrected", "other"))
    add_unlock_arguments(again)
    again.set_defaults(handler=run_reprint)


def _data_dir(args):
    from storage.paths import data_dir

    return data_dir(args.data_dir)


def _open_registry(args, readonly: bool = False, roles: tuple[str, ...] | None = DESK):
    """The unlocked device database (storage/cli_auth.py); Refused when it may not open.
    `verify` without --operator reads no database (trusted keys only, no revocation list)."""
    if readonly and not args.operator:
        return None
    opened = unlock(args, roles=roles, readonly=readonly)
    args.operator_name = operator_name(opened)
    return opened.registry


def _refused(exc: Refused) -> int:
    print(f"Gagal: {exc}", file=sys.stderr)
    return 2


def run_public_key(args: argparse.Namespace) -> int:
    from cards.keys import public_pem, raw_public, trusted_keys

    keys = trusted_keys(_data_dir(args))
    if not keys:
        print("Belum ada kunci publik yang dipercaya.", file=sys.stderr)
        return 1
    for kid, same_id in sorted(keys.items()):
        for key in same_id:
            print(f"ID kunci: {kid}")
            print(f"Ed25519 (32 bita, base64): {base64.b64encode(raw_public(key)).decode()}")
            print(public_pem(key))
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from cards.credential import display_name
    from cards.verify import load_context, verify_image, verify_text
    from storage.db import StorageError

    if (args.value is None) == (args.image is None):
        print("Berikan teks QR hasil pindai, atau --image BERKAS untuk gambar kartu (salah satu).",
              file=sys.stderr)
        return 2
    try:
        registry = _open_registry(args, readonly=True, roles=None)
    except Refused as exc:
        return _refused(exc)
    except StorageError:
        registry = None
    try:
        context = load_context(_data_dir(args), registry, args.revocations)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    finally:
        if registry is not None:
            registry.close()
    if args.image is not None:
        verdict = verify_image(args.image, context)
    else:
        verdict = verify_text(args.value, context)
    print(f"{verdict.status.value.upper()}: {verdict.message}")
    if verdict.card is not None:
        card = verdict.card
        print(f"Nama: {display_name(card)}")
        print(f"Nomor peserta: {card.member_number}")
        print(f"Berlaku: {card.valid_from:%d-%m-%Y} s.d. {card.valid_until:%d-%m-%Y}")
        print(f"Seri/versi: {card.serial}/{card.version}")
    if verdict.valid and not context.revocations_known:
        print("Catatan: daftar pencabutan tidak diperiksa (tanpa --operator atau --revocations); "
              "kartu yang sudah diganti tidak dapat dikenali.")
    return 0 if verdict.valid else 1


def run_revocations(args: argparse.Namespace) -> int:
    """The device's revocation list as a file, for a verifier that does not sync
    (CARD_QR_FORMAT.md §6.1)."""
    import json
    from pathlib import Path

    from cards.desk import revocation_list
    from cards.verify import revocation_document
    from storage.vocabulary import utc_now_iso

    try:
        registry = _open_registry(args, readonly=True, roles=None)
    except Refused as exc:
        return _refused(exc)
    try:
        document = revocation_document(revocation_list(registry), utc_now_iso())
    finally:
        registry.close()
    Path(args.out).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"{len(document['revocations'])} pencabutan disimpan: {args.out}")
    return 0


def run_print(args: argparse.Namespace) -> int:
    from cards import desk
    from cards.layout import load_config
    from cards.pdf import BatchCancelled

    config = load_config(args.card_config) if args.card_config else None
    try:
        registry = _open_registry(args)
    except Refused as exc:
        return _refused(exc)
    try:
        flt = desk.CardFilter(kecamatan_code=args.kecamatan, kelurahan_code=args.kelurahan,
                              cohort=args.cohort, event_id=args.event)
        rows = desk.members_ready_to_print(registry, flt, limit=args.limit or 10_000_000)
        if not rows:
            print("Tidak ada kartu yang siap dicetak.", file=sys.stderr)
            return 1
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            print(f"\rKartu: {done} / {total}", end="\n" if done >= total else "",
                  file=sys.stderr, flush=True)

        try:
            pages = desk.print_to_pdf(registry, [r.registration_id for r in rows], args.out,
                                      layout=args.layout, operator=args.operator_name,
                                      progress=progress, config=config)
        except (BatchCancelled, KeyboardInterrupt):
            print("\nDibatalkan; tidak ada kartu yang dicatat sebagai dicetak.", file=sys.stderr)
            return 130
        print(f"{len(rows)} kartu, {pages} halaman, {time.perf_counter() - started:.1f} detik: "
              f"{args.out}")
        return 0
    finally:
        registry.close()


def run_handover(args: argparse.Namespace) -> int:
    from cards.desk import CardDeskError
    from ops.cards import hand_over

    try:
        registry = _open_registry(args)
    except Refused as exc:
        return _refused(exc)
    try:
        hand_over(registry, args.registration_id, received_by=args.to,
                  operator=args.operator_name)
    except CardDeskError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        registry.close()
    print("Penyerahan kartu dicatat.")
    return 0


def run_reprint(args: argparse.Namespace) -> int:
    """An enrolled card desk asks the server (whose key every device trusts); a device without
    a server (the demo) signs with its own demo key, as before (ops/cards.py)."""
    from cards.desk import CardDeskError
    from ops.cards import reprint
    from sync.client import SyncError

    try:
        registry = _open_registry(args)
    except Refused as exc:
        return _refused(exc)
    try:
        serial, version = reprint(registry, args.registration_id, args.reason,
                                  operator=args.operator_name, data_dir=_data_dir(args))
    except (CardDeskError, SyncError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        registry.close()
    print(f"Kartu seri {serial} versi {version} siap dicetak; versi sebelumnya dicabut.")
    return 0
