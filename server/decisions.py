"""The verifier's and the card desk's decisions (docs/SYNC_API.md §6–§7).

Each decision runs in one write transaction (`BEGIN IMMEDIATE`): it checks the revision the person
saw, applies the change, and writes the event (who, server time, why) that every device pulls.
Funding counts the quota inside the same transaction, so concurrent verifiers cannot overfill it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date

from cards.credential import CardData, CredentialError
from cards.validity import card_validity
from server import registrations as regs
from server import rules
from server.auth import Device
from server.errors import ApiError
from server.office import refuse_if_dead  # a member recorded as dead: never funded or carded
from server.signing import Signer
from server.store import Store
from storage.config import ALL_COHORTS, load_program_config
from storage.models import COHORT_LABELS, Registration, Status, mask_nik
from storage.vocabulary import (
    MEMBER_COHORT_CODES,
    REPRINT_REASONS,
    member_number,
    rejection_reason,
    utc_now_iso,
)

CARD_STATUSES = {Status.FUNDED.value, Status.CARD_PRINTED.value, Status.CARD_HANDED_OVER.value}


def _refuse(code: str, message: str, status: int = 409) -> ApiError:
    return ApiError(status, code, message)


def add_event(db, record_id: str, event: str, device: Device | None, operator: dict,
              now: str, reason_code: str = "", reason: str = "", *,
              version: int | None = None) -> None:
    """One decision or card step, with who did it: the operator (`{"username",
    "display_name"}`, as logged in on the device) and the device (None: the server's own admin
    command line). Every device pulls it."""
    (seq,) = Store.next_seqs(db, "event", [record_id])
    who = " ".join(str(operator.get("display_name") or "").split())
    username = str(operator.get("username") or "").strip()
    place = device.name if device is not None else "server"
    by = f"{who} @ {place}" if who else place
    db.execute(
        "INSERT INTO events (seq, record_id, event, at, device_id, operator, \"by\", reason_code, "
        "reason, operator_username, version) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        [seq, record_id, event, now, device.id if device is not None else "", who, by,
         reason_code, reason, username, version],
    )


def decide(store: Store, record_id: str, revision: int | None,
           apply: Callable[[object, dict, str], None],
           replayed: Callable[[object], bool] | None = None) -> bool:
    """Run `apply(db, row, now)` on a registration, refusing if it changed since `revision`.
    `replayed(db)`, asked first (inside the same transaction), says the request was already
    applied: then nothing is checked or applied, and True is returned."""
    with store.write() as db:
        Store.lock(db, [f"record:{record_id}"])  # against a push or decision on it meanwhile
        row = regs.fetch_row(db, record_id)
        if row is None:
            raise _refuse("not_found", "Pendaftaran ini tidak ada di server.", 404)
        if replayed is not None and replayed(db):
            return True
        if revision is not None and row["revision"] != revision:
            raise _refuse(
                "decision.stale_revision",
                "Data pendaftaran ini sudah berubah sejak Anda membukanya. Muat ulang lalu "
                "periksa lagi.",
            )
        apply(db, row, utc_now_iso(precise=True))
    return False


def _require_status(row: dict, allowed: set[str], action: str) -> None:
    if row["status"] not in allowed:
        raise _refuse(
            "decision.not_allowed",
            f"Pendaftaran berstatus '{row['status']}' tidak dapat {action}.",
        )


def _no_correction_waiting(row: dict) -> None:
    """A decision on the registration itself waits until its pending correction is decided."""
    if row["pending_version"] is not None:
        raise _refuse(
            "decision.not_allowed",
            "Ada koreksi data yang menunggu verifikasi. Setujui atau tolak koreksinya dulu.",
        )


# --- verify, reject ---------------------------------------------------------------------------


def verify(store: Store, device: Device, record_id: str, revision: int, operator: dict,
           note: str) -> None:
    def apply(db, row, now):
        _require_status(row, {Status.RECEIVED.value}, "diverifikasi")
        _no_correction_waiting(row)
        if row["possible_duplicate"] or row["conflict"]:
            raise _refuse(
                "decision.not_allowed",
                "Selesaikan dulu duplikat atau konflik data pendaftaran ini sebelum verifikasi.",
            )
        regs.touch(db, record_id, now, status=Status.VERIFIED.value)
        add_event(db, record_id, "verified", device, operator, now, reason=note)

    decide(store, record_id, revision, apply)


def reject(store: Store, device: Device, record_id: str, revision: int, reason_code: str,
           reason_text: str, operator: dict) -> None:
    def apply(db, row, now):
        _require_status(row, {Status.RECEIVED.value, Status.VERIFIED.value}, "ditolak")
        _no_correction_waiting(row)
        reason = rejection_reason(reason_code, reason_text)
        regs.touch(db, record_id, now, status=Status.REJECTED.value, reason_code=reason_code,
                   status_reason=reason)
        add_event(db, record_id, "rejected", device, operator, now, reason_code, reason)
        regs.refresh_group(db, row["nik"], now)

    decide(store, record_id, revision, apply)


# --- funding within the quota -----------------------------------------------------------------


def quota_places(db, year: int, cohort: str) -> tuple[int | None, bool]:
    """(places, shared): the server's setting first, else the programme configuration.
    `shared` means one total for every cohort of the year."""
    for wanted in (cohort, ALL_COHORTS):
        row = db.execute(
            "SELECT places FROM quotas WHERE programme_year = ? AND cohort = ?", [year, wanted]
        ).fetchone()
        if row is not None:
            return row[0], wanted == ALL_COHORTS
    config = load_program_config()
    for version in reversed(config.versions):
        quota = version.quota(year, cohort)
        if quota is not None:
            return quota.places, quota.cohort == ALL_COHORTS
    return None, False


def funded_count(db, year: int, cohort: str | None) -> int:
    sql = "SELECT COUNT(*) FROM registrations WHERE programme_year = ? AND member_number != ''"
    args: list = [year]
    if cohort is not None:
        sql += " AND cohort = ?"
        args.append(cohort)
    return db.execute(sql, args).fetchone()[0]


def quota_status(store: Store, year: int) -> dict:
    db = store.reader()
    cohorts = load_program_config().latest.cohorts
    items = []
    for cohort in cohorts:
        places, shared = quota_places(db, year, cohort)
        places = places or 0
        funded = funded_count(db, year, None if shared else cohort)
        items.append({
            "cohort": cohort, "label": COHORT_LABELS.get(cohort, cohort), "places": places,
            "funded": funded_count(db, year, cohort), "left": max(0, places - funded),
            "shared": shared,
        })
    return {"programme_year": year, "cohorts": items}


def set_quota(store: Store, year: int, cohort: str, places: int) -> None:
    with store.write() as db:
        db.execute(
            "INSERT INTO quotas (programme_year, cohort, places, updated_at) VALUES (?,?,?,?) "
            "ON CONFLICT(programme_year, cohort) DO UPDATE SET places = excluded.places, "
            "updated_at = excluded.updated_at",
            [year, cohort, places, utc_now_iso(precise=True)],
        )


def _check_quota(db, year: int, cohort: str) -> None:
    # Funds of one year wait for each other (PostgreSQL's parallel writers), so the count
    # below is the count the place is taken from.
    Store.lock(db, [f"quota:{year}"])
    places, shared = quota_places(db, year, cohort)
    label = COHORT_LABELS.get(cohort, cohort)
    if places is None:
        raise _refuse(
            "quota.not_set", f"Kuota {label} untuk tahun program {year} belum ditetapkan."
        )
    if funded_count(db, year, None if shared else cohort) >= places:
        raise _refuse(
            "quota.full",
            f"Kuota {label} tahun {year} sudah penuh ({places} peserta). Pendaftaran ini tidak "
            "dapat didanai sekarang.",
        )


def programme_period(year: int, today: date) -> tuple[date, date]:
    return max(today, date(year, 1, 1)), date(year, 12, 31)


def fund(store: Store, signer: Signer, device: Device, record_id: str, revision: int,
         year: int | None, operator: dict) -> None:
    today = rules.server_today()
    year = year or today.year

    def apply(db, row, now):
        refuse_if_dead(db, record_id, "didanai")
        _require_status(row, {Status.VERIFIED.value}, "didanai (harus terverifikasi dulu)")
        _no_correction_waiting(row)
        if year < today.year:
            raise _refuse("decision.not_allowed", f"Tahun program {year} sudah lewat.")
        cohort = row["cohort"]
        if cohort not in MEMBER_COHORT_CODES:
            raise _refuse("decision.not_allowed", f"Kelompok peserta tidak dikenal: {cohort}")
        _check_quota(db, year, cohort)
        number = Store.bump_counter(db, f"member:{year}:{cohort}")
        member = member_number(year, cohort, number)
        start, end = programme_period(year, today)
        row = regs.touch(
            db, record_id, now, status=Status.FUNDED.value, member_number=member,
            programme_year=year, programme_start=start.isoformat(),
            programme_end=end.isoformat(),
        )
        add_event(db, record_id, "funded", device, operator, now, reason=member)
        issue_card(db, signer, row, now)

    decide(store, record_id, revision, apply)


# --- cards ------------------------------------------------------------------------------------


def current_card(db, record_id: str) -> dict | None:
    row = db.execute(
        "SELECT serial, card_version, qr, valid_from, valid_until, printed_at, handed_over_at "
        "FROM cards WHERE record_id = ? AND revoked_at IS NULL "
        "ORDER BY card_version DESC LIMIT 1", [record_id],
    ).fetchone()
    keys = ("serial", "card_version", "qr", "valid_from", "valid_until", "printed_at",
            "handed_over_at")
    return dict(zip(keys, row, strict=True)) if row else None


def issue_card(db, signer: Signer, row: dict, now: str, serial: int | None = None,
               version: int = 1) -> None:
    serial = serial or Store.bump_counter(db, "card_serial")
    # The card outlives the funded year (cards/validity.py): not reprinted every January.
    funded_on = date.fromisoformat(row["programme_start"])
    start, until = card_validity(funded_on, int(row["programme_year"]),
                                 rules.card_validity_rule(funded_on))
    card = CardData(
        member_number=row["member_number"], name=row["full_name"], cohort=row["cohort"],
        valid_from=start, valid_until=until, serial=serial, version=version,
    )
    try:
        qr = signer.issue(card)
    except CredentialError as exc:
        raise _refuse("card.cannot_issue", f"Kartu tidak dapat dibuat: {exc}") from exc
    (seq,) = Store.next_seqs(db, "credential", [row["id"]])
    db.execute(
        "INSERT INTO cards (serial, card_version, record_id, member_number, name, cohort, "
        "valid_from, valid_until, key_id, qr, issued_at, seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [serial, version, row["id"], card.member_number, card.name, card.cohort,
         card.valid_from.isoformat(), card.valid_until.isoformat(), signer.key_id, qr, now, seq],
    )


def _card_of(db, row: dict, card_version: int) -> dict:
    refuse_if_dead(db, row["id"], "diberi kartu")
    _require_status(row, CARD_STATUSES, "dicatat kartunya")
    card = current_card(db, row["id"])
    if card is None or card["card_version"] != card_version:
        raise _refuse(
            "card.not_current",
            "Versi kartu ini bukan kartu yang berlaku (sudah dicetak ulang). Muat ulang data.",
        )
    return card


def card_printed(store: Store, device: Device, record_id: str, card_version: int,
                 operator: dict) -> None:
    def apply(db, row, now):
        card = _card_of(db, row, card_version)
        db.execute("UPDATE cards SET printed_at = ? WHERE serial = ? AND card_version = ?",
                   [now, card["serial"], card_version])
        if row["status"] == Status.FUNDED.value:
            regs.touch(db, record_id, now, status=Status.CARD_PRINTED.value)
        add_event(db, record_id, "card_printed", device, operator, now,
                  reason=f"seri {card['serial']} versi {card_version}")

    decide(store, record_id, None, apply)


def card_handed_over(store: Store, device: Device, record_id: str, card_version: int,
                     received_by: str, operator: dict) -> None:
    def apply(db, row, now):
        card = _card_of(db, row, card_version)
        if not card["printed_at"]:
            raise _refuse("card.not_printed", "Kartu ini belum dicatat tercetak.")
        db.execute(
            "UPDATE cards SET handed_over_at = ?, received_by = ? "
            "WHERE serial = ? AND card_version = ?",
            [now, received_by, card["serial"], card_version],
        )
        regs.touch(db, record_id, now, status=Status.CARD_HANDED_OVER.value)
        add_event(db, record_id, "card_handed_over", device, operator, now,
                  reason=f"diterima oleh {received_by}")

    decide(store, record_id, None, apply)


def reprint(store: Store, signer: Signer, device: Device, record_id: str, revision: int | None,
            reason_code: str, reason_text: str, operator: dict,
            card_version: int | None = None, request_id: str | None = None) -> bool:
    """A new card version; every earlier one is revoked. The request names what the person saw:
    the registration's `revision` (the verifier) or the `card_version` being replaced (a card
    desk, which holds cards, not registrations); a repeated request is never applied twice.

    With a `request_id` (made by the client once per reprint asked, sent again on retries), a
    repeat of a request this device already had applied is answered as done (returns True)
    instead of being refused as stale; the same id with another request gets 409
    `request.id_reused`. Without one, a repeat is refused (`card.not_current`)."""
    body_hash = _reprint_hash(record_id, revision, card_version, reason_code, reason_text,
                              operator)

    def replayed(db) -> bool:
        if request_id is None:
            return False
        found = db.execute(
            "SELECT record_id, body_hash FROM reprint_requests "
            "WHERE device_id = ? AND request_id = ?", [device.id, request_id],
        ).fetchone()
        if found is None:
            return False
        if tuple(found) != (record_id, body_hash):
            raise _refuse(
                "request.id_reused",
                "Nomor permintaan (request_id) ini sudah dipakai untuk permintaan cetak ulang "
                "lain dari perangkat ini. Buat permintaan baru dengan nomor baru.",
            )
        return True

    def apply(db, row, now):
        refuse_if_dead(db, record_id, "diberi kartu atau dicetak ulang kartunya")
        _require_status(row, CARD_STATUSES, "dicetak ulang")
        card = current_card(db, record_id)
        if card is None:
            raise _refuse("card.not_current", "Belum ada kartu untuk pendaftaran ini.")
        if card_version is not None and card["card_version"] != card_version:
            raise _refuse(
                "card.not_current",
                f"Kartu versi {card_version} bukan lagi kartu yang berlaku (sekarang versi "
                f"{card['card_version']}); kartu ini sudah dicetak ulang. Sinkronkan dulu, lalu "
                "periksa lagi sebelum mencetak ulang.",
            )
        if card["card_version"] >= 255:
            raise _refuse("card.not_allowed", "Batas jumlah cetak ulang kartu sudah tercapai.")
        db.execute("UPDATE cards SET revoked_at = ? WHERE record_id = ? AND revoked_at IS NULL",
                   [now, record_id])
        (seq,) = Store.next_seqs(db, "revocation", [record_id])
        db.execute(
            "INSERT INTO revocations (seq, record_id, serial, card_version, at) VALUES (?,?,?,?,?)",
            [seq, record_id, card["serial"], card["card_version"], now],
        )
        row = regs.touch(db, record_id, now, status=Status.FUNDED.value, card_outdated=0)
        made = card["card_version"] + 1
        issue_card(db, signer, row, now, serial=card["serial"], version=made)
        reason = reason_text.strip() or REPRINT_REASONS[reason_code]
        add_event(db, record_id, "card_reprinted", device, operator, now, reason_code, reason)
        if request_id is not None:
            db.execute(
                "INSERT INTO reprint_requests (device_id, request_id, record_id, body_hash, "
                "serial, card_version, at) VALUES (?,?,?,?,?,?,?)",
                [device.id, request_id, record_id, body_hash, card["serial"], made, now],
            )

    return decide(store, record_id, revision, apply, replayed)


def _reprint_hash(record_id: str, revision: int | None, card_version: int | None,
                  reason_code: str, reason_text: str, operator: dict) -> str:
    """What makes two reprint requests the same request (canonical JSON, SHA-256)."""
    request = {"record_id": record_id, "revision": revision, "card_version": card_version,
               "reason_code": reason_code, "reason_text": reason_text, "operator": operator}
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- resolving duplicates and conflicts -------------------------------------------------------


def resolve_duplicate(store: Store, device: Device, record_id: str, revision: int, keep_id: str,
                      operator: dict, note: str) -> None:
    def apply(db, row, now):
        if not row["possible_duplicate"]:
            raise _refuse("decision.not_allowed", "Pendaftaran ini tidak ditandai duplikat.")
        group = [r[0] for r in db.execute(
            "SELECT id FROM registrations WHERE nik = ? AND possible_duplicate = 1", [row["nik"]]
        ).fetchall()]
        if keep_id not in group:
            raise _refuse("decision.not_allowed",
                          "Pendaftaran yang dipertahankan harus salah satu dari kelompok duplikat.")
        others = [regs.fetch_row(db, rid) for rid in group if rid != keep_id]
        if any(o["status"] not in {Status.RECEIVED.value, Status.VERIFIED.value} for o in others):
            raise _refuse("decision.not_allowed",
                          "Pendaftaran lain dalam kelompok ini sudah didanai; pertahankan yang itu.")
        kept = regs.fetch_row(db, keep_id)
        # The registration kept, as a person recognises it (never a bare id, never a full NIK).
        kept_name = f"{kept['full_name']} (NIK {mask_nik(kept['nik'] or '')})"
        for other in others:
            reason = f"Duplikat dari pendaftaran {kept_name}" + (f": {note}" if note else "")
            regs.touch(db, other["id"], now, status=Status.REJECTED.value,
                       reason_code="duplicate", status_reason=reason)
            add_event(db, other["id"], "duplicate_resolved", device, operator, now,
                      "duplicate", reason)
        add_event(db, keep_id, "duplicate_resolved", device, operator, now, "",
                  note or "Dipertahankan")
        regs.refresh_group(db, row["nik"], now)

    decide(store, record_id, revision, apply)


def resolve_conflict(store: Store, device: Device, record_id: str, revision: int,
                     keep_version: int, keep_device_id: str, operator: dict) -> None:
    def apply(db, row, now):
        if not row["conflict"]:
            raise _refuse("decision.not_allowed", "Pendaftaran ini tidak sedang berkonflik.")
        changes: dict = {"conflict": 0}
        current = keep_version == row["version"] and keep_device_id in ("", row["device_id"])
        if not current:
            chosen = db.execute(
                "SELECT data FROM versions WHERE record_id = ? AND version = ? "
                "AND outcome = 'conflict' AND (? = '' OR device_id = ?) "
                "ORDER BY received_at DESC LIMIT 1",
                [record_id, keep_version, keep_device_id, keep_device_id],
            ).fetchone()
            if chosen is None:
                raise _refuse("decision.not_allowed", "Versi yang dipilih tidak ditemukan.")
            reg = Registration.from_dict(json.loads(chosen[0]))
            changes.update(regs.data_columns(store, reg))
        regs.touch(db, record_id, now, **changes)
        add_event(db, record_id, "conflict_resolved", device, operator, now,
                  reason=f"versi {keep_version} dipertahankan")
        regs.refresh_group(db, row["nik"], now)
        if "nik" in changes:
            regs.refresh_group(db, changes["nik"], now)

    decide(store, record_id, revision, apply)
