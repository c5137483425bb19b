"""Unlocking the device database for a command-line command: `--operator NAME` with the password
from the JAMSOS_PASSWORD environment variable (scripts, tests), else a prompt (getpass), else
one line of stdin; or `--recovery-key` (the key from JAMSOS_RECOVERY_KEY or a prompt).

Commands that decide, print, hand over, reprint or manage operators also name the roles that may
run them. A wrong password, key or role ends the command with one Indonesian line on stderr and
exit status 2, before anything is changed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime

PASSWORD_ENV = "JAMSOS_PASSWORD"
RECOVERY_ENV = "JAMSOS_RECOVERY_KEY"
REFUSED = 2


class Refused(Exception):
    """A command that may not run; str() is the one line the operator reads."""


def add_unlock_arguments(parser: argparse.ArgumentParser, *, recovery: bool = False,
                         required: bool = True) -> None:
    # Not required by argparse: a missing --operator is said in one Indonesian line by unlock().
    parser.add_argument(
        "--operator", metavar="NAMA_PENGGUNA", default=None,
        help=f"akun petugas yang membuka basis data (kata sandi dari {PASSWORD_ENV} atau "
             "ditanyakan)" + ("" if required else "; tidak wajib untuk perintah ini"))
    if recovery:
        parser.add_argument("--recovery-key", action="store_true",
                            help=f"buka dengan kunci pemulihan (dari {RECOVERY_ENV} atau "
                                 "ditanyakan) bila semua kata sandi terlupa")


def read_secret(prompt: str, env: str, stream=None) -> str:
    value = os.environ.get(env)
    if value:
        return value
    stream = sys.stdin if stream is None else stream
    if stream.isatty():
        import getpass

        return getpass.getpass(prompt)
    return stream.readline().rstrip("\r\n")


def role_names(roles: tuple[str, ...]) -> str:
    from storage.operators import ROLE_LABELS

    return ", ".join(ROLE_LABELS.get(r, r) for r in roles)


def unlock(args: argparse.Namespace, *, roles: tuple[str, ...] | None = None,
           readonly: bool = False):
    """The storage.unlock.Opened for the command's operator; Refused for a refusal."""
    from storage.db import StorageError
    from storage.paths import data_dir
    from storage.unlock import UnlockError, open_with_password, open_with_recovery
    from storage.vault import VaultError

    folder = data_dir(getattr(args, "data_dir", None))
    try:
        if getattr(args, "recovery_key", False):
            return open_with_recovery(folder, read_secret("Kunci pemulihan: ", RECOVERY_ENV))
        if not getattr(args, "operator", None):
            raise Refused("Sebutkan akun petugas dengan --operator NAMA_PENGGUNA.")
        password = read_secret(f"Kata sandi {args.operator}: ", PASSWORD_ENV)
        opened = open_with_password(folder, args.operator, password, datetime.now(UTC),
                                    readonly=readonly)
    except (UnlockError, VaultError, StorageError) as exc:
        raise Refused(str(exc)) from exc
    if roles and opened.operator.role not in roles:
        opened.registry.close()
        raise Refused(f"Peran {opened.operator.role_label} tidak berwenang untuk perintah ini "
                      f"(perlu: {role_names(roles)}).")
    if opened.recovery_key:
        print_recovery_key(opened.recovery_key)
    return opened


def print_recovery_key(text: str) -> None:
    print("KUNCI PEMULIHAN (ditampilkan sekali ini saja; salin ke kertas dan simpan di tempat "
          "aman):", file=sys.stderr)
    print(f"    {text}", file=sys.stderr)


def run_unlocked(args: argparse.Namespace, work: Callable, *,
                 roles: tuple[str, ...] | None = None, readonly: bool = False) -> int:
    """`work(opened)` with the unlocked registry, closed afterwards; a refusal is one line."""
    try:
        opened = unlock(args, roles=roles, readonly=readonly)
    except Refused as exc:
        print(f"Gagal: {exc}", file=sys.stderr)
        return REFUSED
    try:
        return work(opened)
    finally:
        opened.registry.close()


def actor(opened) -> str:
    """Who the audit names for a command's change."""
    return opened.operator.username if opened.operator is not None else "cli:pemulihan"


def operator_name(opened) -> str:
    """The name recorded on what the command does (as the window records the display name)."""
    return opened.operator.display_name if opened.operator is not None else "cli"
