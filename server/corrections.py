"""Corrections of decided registrations (docs/SYNC_API.md §4 rule 8, §6 "Corrections").

A new version of a verified, funded or carded registration from its owner is kept aside
(`pending_*` columns) and waits for a verifier: cards, lists, exports and pull's credentials keep
using the current version. Approving makes the correction current (and flags the card for a
reprint when what it prints changed); rejecting keeps the current version and tells the owner
why. Each decision names the pending version it is about, so a decision on a correction that was
replaced meanwhile is refused as stale.
"""

from __future__ import annotations

import json

from server import registrations as regs
from server.auth import Device
from server.decisions import add_event, decide
from server.errors import ApiError
from server.store import Store
from storage.models import Registration, Status
from storage.vocabulary import field_names, rejection_reason

CARD_STATUSES = {Status.FUNDED.value, Status.CARD_PRINTED.value, Status.CARD_HANDED_OVER.value}
COHORT_OF_MEMBER = (
    "Koreksi ini memindahkan peserta yang sudah didanai ke kelompok lain (pekerja rentan / "
    "petugas keagamaan). Nomor anggotanya dan kuota yang dipakainya mengikuti kelompok lama, "
    "jadi koreksi ini tidak dapat disetujui. Tolak koreksinya; bila kelompoknya memang salah, "
    "serahkan perubahan kelompok kepada kantor program.")


def pending(row: dict) -> dict | None:
    """The correction waiting on a registration, with the fields it changes, or None."""
    if row["pending_version"] is None:
        return None
    current, proposed = json.loads(row["data"]), json.loads(row["pending_data"])
    return {
        "version": row["pending_version"], "device_id": row["pending_device_id"],
        "received_at": row["pending_at"], "data": proposed,
        "changed": regs.changed_fields(current, proposed),
    }


def _waiting(row: dict, version: int) -> dict:
    correction = pending(row)
    if correction is None:
        raise ApiError(409, "decision.not_allowed",
                       "Tidak ada koreksi data yang menunggu verifikasi pada pendaftaran ini.")
    if correction["version"] != version:
        raise ApiError(
            409, "decision.stale_revision",
            f"Koreksi versi {version} sudah digantikan oleh koreksi versi "
            f"{correction['version']}. Muat ulang lalu periksa lagi.",
        )
    return correction


def _clear() -> dict:
    return {"pending_version": None, "pending_data": None, "pending_device_id": None,
            "pending_at": None}


def approve(store: Store, device: Device, record_id: str, revision: int, version: int,
            operator: dict, note: str = "") -> None:
    """The pending version becomes current; the status, member number and card stay. When what
    the card prints changed, the card is flagged for a reprint (`card_outdated`)."""

    def apply(db, row, now):
        correction = _waiting(row, version)
        reg = Registration.from_dict(correction["data"])
        if row["member_number"] and reg.cohort != row["cohort"]:
            # The member number (PR/PK) and the quota place were taken for the old cohort.
            raise ApiError(409, "correction.cohort_of_member", COHORT_OF_MEMBER)
        changes = {**regs.data_columns(store, reg, row["pending_data"]), **_clear()}
        card_changed = any(f in correction["changed"] for f in regs.CARD_FIELDS)
        if card_changed and row["status"] in CARD_STATUSES:
            changes["card_outdated"] = 1
        regs.touch(db, record_id, now, **changes)
        reason = f"Diubah: {field_names(correction['changed']) or 'tidak ada'}"
        if changes.get("card_outdated"):
            reason += "; kartu perlu dicetak ulang (data diperbaiki)"
        if note.strip():
            reason += f". {note.strip()}"
        add_event(db, record_id, "correction_approved", device, operator, now, reason=reason,
                  version=version)
        regs.refresh_group(db, row["nik"], now)
        if changes["nik"] != row["nik"]:
            regs.refresh_group(db, changes["nik"], now)

    decide(store, record_id, revision, apply)


def reject(store: Store, device: Device, record_id: str, revision: int, version: int,
           reason_code: str, reason_text: str, operator: dict) -> None:
    """The current version stays; the owner's device learns why from the event."""

    def apply(db, row, now):
        _waiting(row, version)
        regs.touch(db, record_id, now, **_clear())
        reason = rejection_reason(reason_code, reason_text)
        add_event(db, record_id, "correction_rejected", device, operator, now, reason_code,
                  reason, version=version)

    decide(store, record_id, revision, apply)
