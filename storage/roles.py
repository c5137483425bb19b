"""What each role may do on a device (DESIGN.md §7, issue "Trust boundaries").

Two roles limit an operator at once: the operator's own role (`petugas`, `verifikator`,
`loket_kartu`, `admin`, storage/operators.py) and the role the central server gave this device at
enrolment (`enumerator`, `verifier`, `card_desk`, `admin`, kept in sync state as `device_role`).
An operator may do what both allow. A device that was never enrolled works on its own (a field
laptop before its first sync): only the operator's role limits it then.

Plain data and functions, no Qt: the window shows and enables what `capabilities()` allows, and
each panel checks again before it acts, so a hidden button that is reached anyway does nothing.
"""

from __future__ import annotations

REGISTER = "register"  # Pendaftaran, CSV import, corrections of a registration
LIST = "list"  # Daftar Peserta (read only without REGISTER)
VERIFY = "verify"  # Verifikasi: decide, fund, approve or reject corrections
CARDS = "cards"  # Kartu: print, hand over, reprint
CHECK_CARDS = "check_cards"  # Periksa kartu
SYNC = "sync"  # Sinkronisasi
MANAGE_OPERATORS = "manage_operators"  # Kelola petugas
DEMO_DATA = "demo_data"  # Berkas → Data contoh

ALL = frozenset({REGISTER, LIST, VERIFY, CARDS, CHECK_CARDS, SYNC, MANAGE_OPERATORS, DEMO_DATA})
_EVERYONE = frozenset({LIST, CHECK_CARDS, SYNC})

OPERATOR_ROLES: dict[str, frozenset[str]] = {
    "petugas": _EVERYONE | {REGISTER},
    "verifikator": _EVERYONE | {VERIFY},
    "loket_kartu": _EVERYONE | {CARDS},
    "admin": ALL,
}

# What the server lets a device of each role do; the rest (local operator accounts, checking a
# card, the list) never involves the server's authority, so the device role does not limit it.
_SERVER_BOUND = frozenset({REGISTER, VERIFY, CARDS, DEMO_DATA})
DEVICE_ROLES: dict[str, frozenset[str]] = {
    "enumerator": frozenset({REGISTER, DEMO_DATA}),
    "verifier": frozenset({VERIFY}),
    "card_desk": frozenset({CARDS}),
    "admin": _SERVER_BOUND,
}


def capabilities(operator_role: str | None, device_role: str = "") -> frozenset[str]:
    """What an operator of `operator_role` may do on a device enrolled as `device_role`
    ("" when never enrolled). An unknown role may do nothing that either role limits."""
    allowed = OPERATOR_ROLES.get(operator_role or "", frozenset())
    if device_role:
        device = DEVICE_ROLES.get(device_role, frozenset())
        allowed = frozenset(c for c in allowed if c not in _SERVER_BOUND or c in device)
    return allowed


def may(operator_role: str | None, capability: str, device_role: str = "") -> bool:
    return capability in capabilities(operator_role, device_role)
