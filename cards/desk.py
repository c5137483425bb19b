"""Card records at the card desk: what is ready to print, printing, hand-over, reprints and the
revocation list. Used by the window (through its database worker), the command line and sync.

A card is recorded as printed only by `record_printed`, which callers run after the PDF or the
print job was produced: a failing printer or a cancelled batch leaves the records as they were.

The lists and the card faces read the holder's details from the card side (`card_holders`), not
from the device's own registrations: the card desk at city hall never registered the workers
whose cards it prints. ReportLab (cards.pdf) is imported only when printing, so that the window
starts without it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cards import base45
from cards.credential import (
    PREFIX,
    SIGNATURE_BYTES,
    CardData,
    CredentialError,
    decode_payload,
    display_name,
    issue_credential,
)
from storage.db import storage_errors
from storage.models import COHORT_LABELS, Cohort, Status, mask_nik

if TYPE_CHECKING:
    from cards.pdf import PrintCard

REPRINT_REASONS = {
    "lost": "Hilang",
    "damaged": "Rusak",
    "data_corrected": "Data diperbaiki",
    "other": "Lainnya",
}
# Worker statuses from which a current, unprinted card may be printed (a reprint after hand-over
# leaves the local status at card_handed_over until the server says otherwise).
PRINTABLE_STATUSES = (Status.FUNDED.value, Status.CARD_PRINTED.value,
                      Status.CARD_HANDED_OVER.value)


class CardDeskError(Exception):
    """A card-desk step that cannot be done; the message is Indonesian, for the operator."""


@dataclass(frozen=True)
class CardFilter:
    kecamatan_code: str = ""
    kelurahan_code: str = ""
    cohort: str = ""
    event_id: str = ""
    text: str = ""  # name words or a member number prefix


@dataclass(frozen=True)
class CardRow:
    """One member on the card desk's lists. Never the full NIK."""

    registration_id: str
    nik_masked: str
    full_name: str
    member_number: str
    cohort: str
    kelurahan_code: str
    event_id: str
    serial: int
    version: int
    valid_until: str
    printed_at: str
    handed_over_at: str
    kecamatan_code: str = ""
    occupation_code: str = ""
    event_name: str = ""  # "" when this device does not know the kegiatan


# What a card desk keeps about each card's holder (storage/migrations.py 0007_card_holders).
HOLDER_FIELDS = ("full_name", "nik_masked", "cohort", "occupation_code", "kecamatan_code",
                 "kelurahan_code", "event_id")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _decode(credential: str) -> tuple[str, CardData]:
    text = credential.strip()
    if not text.startswith(PREFIX):
        raise CredentialError("Teks kredensial kartu tidak sah.")
    try:
        raw = base45.decode(text[len(PREFIX) :])
        kid, card = decode_payload(raw[:-SIGNATURE_BYTES])
    except ValueError as exc:
        raise CredentialError("Teks kredensial kartu rusak.") from exc
    return kid.hex(), card


def _who(operator) -> tuple[str, str]:
    """(username, display name) of the operator a step is recorded for: the logged-in operator
    (an object or dict with both), or a name alone (then both)."""
    if isinstance(operator, str):
        return operator, operator
    if isinstance(operator, dict):
        return str(operator.get("username") or ""), str(operator.get("display_name") or "")
    return str(getattr(operator, "username", "")), str(getattr(operator, "display_name", ""))


def _audit(registry, operator: str, action: str, entity_id: str, detail: dict, at: str) -> None:
    registry.append_audit(operator, action, "card", entity_id, detail, at)


def _event(registry, registration_id, kind, version, operator, at, detail=None) -> None:
    registry.db.execute(
        "INSERT INTO card_events (registration_id, kind, card_version, operator, at, detail) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [registration_id, kind, version, operator, at, json.dumps(detail or {})],
    )


# --- credentials and revocations (also called by sync) -----------------------------------


def store_credential(
    registry,
    registration_id: str,
    credential_text: str,
    *,
    source: str = "server",
    issued_at: str | None = None,
    reprint_reason: str = "",
    holder: dict | None = None,
) -> tuple[int, int]:
    """Keep a signed credential for a registration; returns (serial, version). Storing the same
    version again replaces its text but keeps its printing and hand-over records.

    `holder` is the card holder's details as the server sent them (HOLDER_FIELDS; a raw `nik`
    is masked, never kept). A registration this device holds itself fills them from its own
    record instead. Without either, the name and cohort signed into the credential are used."""
    kid, card = _decode(credential_text)
    details = _holder_details(registry, registration_id, card, holder or {})
    with storage_errors(), registry.db.atomic():
        registry.db.execute(
            "INSERT INTO cards (serial, version, registration_id, member_number, key_id, "
            "valid_from, valid_until, credential, source, issued_at, reprint_reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (serial, version) DO UPDATE SET "
            "credential = excluded.credential, key_id = excluded.key_id, "
            "registration_id = excluded.registration_id",
            [card.serial, card.version, registration_id, card.member_number, kid,
             card.valid_from.isoformat(), card.valid_until.isoformat(), credential_text.strip(),
             source, issued_at or now_iso(), reprint_reason],
        )
        _save_holder(registry, registration_id, details)
    return card.serial, card.version


def _holder_details(registry, registration_id: str, card: CardData, holder: dict) -> dict:
    local = registry.db.execute(
        "SELECT full_name, nik, cohort, occupation_code, kecamatan_code, kelurahan_code, "
        "coalesce(event_id, '') FROM workers WHERE id = ?", [registration_id],
    ).fetchone()
    if local is not None:
        return dict(zip(HOLDER_FIELDS, (local[0], mask_nik(local[1]), *local[2:]), strict=True))
    details = {name: " ".join(str(holder.get(name) or "").split()) for name in HOLDER_FIELDS}
    if details["nik_masked"].isdigit():  # a raw NIK is never kept on the card side
        details["nik_masked"] = mask_nik(details["nik_masked"])
    details["full_name"] = details["full_name"] or display_name(card)
    details["cohort"] = details["cohort"] or card.cohort
    return details


def _save_holder(registry, registration_id: str, details: dict) -> None:
    columns = ", ".join(HOLDER_FIELDS)
    updates = ", ".join(f"{name} = excluded.{name}" for name in HOLDER_FIELDS)
    registry.db.execute(
        f"INSERT INTO card_holders (registration_id, {columns}) VALUES (?{', ?' * 7}) "
        f"ON CONFLICT (registration_id) DO UPDATE SET {updates}",
        [registration_id, *(details[name] for name in HOLDER_FIELDS)],
    )


def card_events(registry) -> list[tuple[str, str]]:
    """(event id, name) of every kegiatan the current cards belong to, for the desk's filter;
    the name is "" when the kegiatan was made on another device."""
    rows = registry.db.execute(
        "SELECT DISTINCT h.event_id, coalesce(e.name, '') FROM card_holders h "
        "LEFT JOIN events e ON e.id = h.event_id WHERE h.event_id != '' "
        "ORDER BY coalesce(e.name, '') = '', e.name, h.event_id"
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def apply_revocations(registry, entries: Iterable) -> int:
    """Add revocations from the server: dicts with serial and card_version (or version), and
    optional revoked_at and reason, or (serial, version) pairs. Returns how many were new."""
    rows = []
    for entry in entries:
        if isinstance(entry, dict):
            version = entry.get("card_version", entry.get("version"))
            rows.append((int(entry["serial"]), int(version),
                         entry.get("revoked_at") or entry.get("at") or now_iso(),
                         entry.get("reason", "")))
        else:
            serial, version = entry
            rows.append((int(serial), int(version), now_iso(), ""))
    with storage_errors(), registry.db.atomic():
        before = registry.db.execute("SELECT count(*) FROM card_revocations").fetchone()[0]
        registry.db.conn.executemany(
            "INSERT OR IGNORE INTO card_revocations (serial, version, revoked_at, reason) "
            "VALUES (?, ?, ?, ?)", rows,
        )
        after = registry.db.execute("SELECT count(*) FROM card_revocations").fetchone()[0]
    return after - before


def revoked_set(registry) -> set[tuple[int, int]]:
    return {(s, v) for s, v in registry.db.execute("SELECT serial, version FROM card_revocations")}


def revocation_list(registry) -> list[dict]:
    return [
        {"serial": s, "card_version": v, "revoked_at": at, "reason": reason}
        for s, v, at, reason in registry.db.execute(
            "SELECT serial, version, revoked_at, reason FROM card_revocations "
            "ORDER BY serial, version"
        )
    ]


# --- lists --------------------------------------------------------------------------------

_CURRENT = (
    "c.version = (SELECT max(c2.version) FROM cards c2 WHERE c2.registration_id = c.registration_id)"
    " AND NOT EXISTS (SELECT 1 FROM card_revocations r WHERE r.serial = c.serial"
    " AND r.version = c.version)"
)
# The holder comes from the card side; the device's own record (w) and the server's last word
# on the registration (k) are read only for the status.
_FROM = (
    " FROM cards c JOIN card_holders h ON h.registration_id = c.registration_id"
    " LEFT JOIN workers w ON w.id = c.registration_id"
    " LEFT JOIN known_registrations k ON k.id = c.registration_id"
)
_ROW_SQL = (
    "SELECT c.registration_id, h.nik_masked, h.full_name, c.member_number, h.cohort, "
    "h.kelurahan_code, h.event_id, c.serial, c.version, c.valid_until, "
    "coalesce(c.printed_at, ''), coalesce(c.handed_over_at, ''), h.kecamatan_code, "
    "h.occupation_code, coalesce(e.name, '')" + _FROM +
    " LEFT JOIN events e ON e.id = h.event_id"
)
_ROW_FIELDS = ("registration_id", "nik_masked", "full_name", "member_number", "cohort",
               "kelurahan_code", "event_id", "serial", "version", "valid_until", "printed_at",
               "handed_over_at", "kecamatan_code", "occupation_code", "event_name")


def _where(flt: CardFilter, extra: str) -> tuple[str, list]:
    clauses, params = [_CURRENT, extra], []
    for column, value in (("kecamatan_code", flt.kecamatan_code),
                          ("kelurahan_code", flt.kelurahan_code), ("cohort", flt.cohort),
                          ("event_id", flt.event_id)):
        if value:
            clauses.append(f"h.{column} = ?")
            params.append(value)
    if flt.text.strip():
        clauses.append("(h.full_name LIKE ? OR c.member_number LIKE ?)")
        params += [f"%{flt.text.strip()}%", f"{flt.text.strip().upper()}%"]
    return " WHERE " + " AND ".join(clauses), params


_PRINTABLE = ", ".join(f"'{s}'" for s in PRINTABLE_STATUSES)
# A worker this device registered must be in a printable status. A card known only from the
# server is printable while its credential is current and unrevoked, unless the server has said
# the registration is in another status (e.g. died or inactive).
_READY = (
    f"c.printed_at IS NULL AND CASE WHEN w.id IS NOT NULL THEN w.status IN ({_PRINTABLE}) "
    f"ELSE coalesce(k.status, '') IN ('', {_PRINTABLE}) END"
)
_TO_HAND_OVER = "c.printed_at IS NOT NULL AND c.handed_over_at IS NULL"


def _rows(registry, extra: str, flt: CardFilter, offset: int, limit: int) -> list[CardRow]:
    where, params = _where(flt, extra)
    sql = f"{_ROW_SQL}{where} ORDER BY c.member_number LIMIT ? OFFSET ?"
    rows = registry.db.execute(sql, [*params, int(limit), int(offset)]).fetchall()
    return [CardRow(**dict(zip(_ROW_FIELDS, r, strict=True))) for r in rows]


def _count(registry, extra: str, flt: CardFilter) -> int:
    where, params = _where(flt, extra)
    sql = f"SELECT count(*){_FROM}{where}"
    return registry.db.execute(sql, params).fetchone()[0]


def members_ready_to_print(registry, filters: CardFilter | None = None, *, offset: int = 0,
                           limit: int = 100_000) -> list[CardRow]:
    """Funded members whose current card has a credential and has not been printed."""
    return _rows(registry, _READY, filters or CardFilter(), offset, limit)


def count_ready_to_print(registry, filters: CardFilter | None = None) -> int:
    return _count(registry, _READY, filters or CardFilter())


def cards_to_hand_over(registry, filters: CardFilter | None = None, *, offset: int = 0,
                       limit: int = 100_000) -> list[CardRow]:
    """Printed current cards that have not been handed over yet."""
    return _rows(registry, _TO_HAND_OVER, filters or CardFilter(), offset, limit)


def count_to_hand_over(registry, filters: CardFilter | None = None) -> int:
    return _count(registry, _TO_HAND_OVER, filters or CardFilter())


def current_cards(registry, filters: CardFilter | None = None, *, offset: int = 0,
                  limit: int = 100_000) -> list[CardRow]:
    """Every member's current card, whatever its state (for reprints)."""
    return _rows(registry, "1 = 1", filters or CardFilter(), offset, limit)


def count_current_cards(registry, filters: CardFilter | None = None) -> int:
    return _count(registry, "1 = 1", filters or CardFilter())


def data_dir_of(registry):
    """The folder of the registry's database file: the device's data directory."""
    from pathlib import Path

    for _, name, file in registry.db.execute("PRAGMA database_list"):
        if name == "main" and file:
            return Path(file).parent
    return None


def card_history(registry, registration_id: str) -> list[dict]:
    """Every card version of a registration, oldest first, with its revocation if any."""
    rows = registry.db.execute(
        "SELECT c.serial, c.version, c.member_number, c.valid_until, c.printed_at, c.printed_by,"
        " c.handed_over_at, c.handed_over_to, c.reprint_reason, r.revoked_at FROM cards c "
        "LEFT JOIN card_revocations r ON r.serial = c.serial AND r.version = c.version "
        "WHERE c.registration_id = ? ORDER BY c.version", [registration_id],
    ).fetchall()
    keys = ("serial", "version", "member_number", "valid_until", "printed_at", "printed_by",
            "handed_over_at", "handed_over_to", "reprint_reason", "revoked_at")
    return [dict(zip(keys, r, strict=True)) for r in rows]


# --- printing -----------------------------------------------------------------------------


def _cohort_text(cohort: str, occupation: str) -> str:
    try:
        label = COHORT_LABELS[Cohort(cohort)]
    except ValueError:
        label = cohort
    return f"{label} · {occupation}" if occupation and cohort != Cohort.PETUGAS_KEAGAMAAN else label


def load_print_cards(registry, registration_ids: Sequence[str]) -> list[PrintCard]:
    """What the PDF needs for each registration's current card, in the given order: the
    holder's full name and cohort or occupation from the card side."""
    from cards.pdf import PrintCard

    cards: list[PrintCard] = []
    for chunk_start in range(0, len(registration_ids), 500):
        chunk = list(registration_ids[chunk_start : chunk_start + 500])
        marks = ", ".join("?" * len(chunk))
        rows = registry.db.execute(
            "SELECT c.registration_id, h.full_name, c.member_number, h.cohort, "
            "coalesce(o.name, ''), c.valid_from, c.valid_until, c.serial, c.version, "
            "c.credential FROM cards c JOIN card_holders h ON h.registration_id = c.registration_id "
            "LEFT JOIN occupations o ON o.code = h.occupation_code "
            f"WHERE c.registration_id IN ({marks}) AND {_CURRENT}", chunk,
        ).fetchall()
        by_id = {r[0]: r for r in rows}
        for reg_id in chunk:
            r = by_id.get(reg_id)
            if r is None:
                raise CardDeskError("Sebagian peserta yang dipilih belum memiliki kartu yang sah.")
            cards.append(PrintCard(
                name=r[1], member_number=r[2], cohort_text=_cohort_text(r[3], r[4]),
                valid_from=date.fromisoformat(r[5]), valid_until=date.fromisoformat(r[6]),
                serial=r[7], version=r[8], qr_text=r[9],
            ))
    return cards


def record_printed(registry, cards: Iterable[tuple[int, int]], *, operator: str,
                   at: str | None = None) -> int:
    """Mark cards (serial, version) printed, once the pages exist. Returns how many changed."""
    username, operator = _who(operator)
    at = at or now_iso()
    changed = 0
    with storage_errors(), registry.db.atomic():
        for serial, version in cards:
            cur = registry.db.execute(
                "UPDATE cards SET printed_at = ?, printed_by = ? WHERE serial = ? AND version = ?"
                " AND printed_at IS NULL", [at, operator, serial, version],
            )
            if cur.rowcount:
                reg_id = registry.db.execute(
                    "SELECT registration_id FROM cards WHERE serial = ? AND version = ?",
                    [serial, version],
                ).fetchone()[0]
                _event(registry, reg_id, "printed", version, operator, at,
                       {"operator_username": username})
                _audit(registry, operator, "card_printed", reg_id,
                       {"serial": serial, "version": version}, at)
                changed += 1
    return changed


def print_to_pdf(registry, registration_ids: Sequence[str], out, *, layout: str = "a4",
                 operator: str, progress=None, cancel=None, config=None) -> int:
    """Render the current cards of these registrations into `out`, then record them printed.

    Recording happens only after the PDF was written completely; a cancelled batch
    (BatchCancelled) or any failure leaves every record as it was. Returns the page count."""
    from cards.pdf import render_pdf

    cards = load_print_cards(registry, registration_ids)
    pages = render_pdf(cards, out, layout, progress=progress, cancel=cancel, config=config)
    record_printed(registry, [(c.serial, c.version) for c in cards], operator=operator)
    return pages


def mark_handed_over(registry, registration_id: str, *, received_by: str, operator: str,
                     at: str | None = None) -> None:
    """The member (or someone for them) received the printed current card."""
    username, operator = _who(operator)
    received_by = " ".join(received_by.split())
    if not received_by:
        raise CardDeskError("Isi nama penerima kartu.")
    at = at or now_iso()
    with storage_errors(), registry.db.atomic():
        row = registry.db.execute(
            f"SELECT c.serial, c.version, c.printed_at FROM cards c WHERE c.registration_id = ?"
            f" AND {_CURRENT}", [registration_id],
        ).fetchone()
        if row is None or row[2] is None:
            raise CardDeskError("Kartu ini belum dicetak, jadi belum dapat diserahkan.")
        registry.db.execute(
            "UPDATE cards SET handed_over_at = ?, handed_over_to = ?, handed_over_by = ? "
            "WHERE serial = ? AND version = ?", [at, received_by, operator, row[0], row[1]],
        )
        _event(registry, registration_id, "handed_over", row[1], operator, at,
               {"received_by": received_by, "operator_username": username})
        _audit(registry, operator, "card_handed_over", registration_id,
               {"serial": row[0], "version": row[1]}, at)


def reprint(registry, registration_id: str, reason: str, *, operator: str,
            signer: tuple[Ed25519PrivateKey, str], reason_text: str = "",
            at: str | None = None) -> tuple[int, int]:
    """A new card version for a lost, damaged or corrected card; earlier versions are revoked.

    Signed locally with `signer` (the device's demo key): only for a device that is not
    enrolled with a server (the demo without a server). An enrolled desk asks the server
    (sync.card_steps.reprint_on_server), whose key every device trusts, and keeps its answer
    with `store_server_reprint`. Returns the new (serial, version)."""
    if reason not in REPRINT_REASONS:
        raise CardDeskError("Pilih alasan cetak ulang.")
    _, operator = _who(operator)
    at = at or now_iso()
    current = registry.db.execute(
        "SELECT c.serial, max(c.version), c.valid_from, c.valid_until, h.full_name, "
        "c.member_number, h.cohort FROM cards c "
        "JOIN card_holders h ON h.registration_id = c.registration_id "
        "WHERE c.registration_id = ?", [registration_id],
    ).fetchone()
    if current is None or current[0] is None:
        raise CardDeskError("Peserta ini belum memiliki kartu, jadi tidak dapat dicetak ulang.")
    serial, version, start, end, name, number, cohort = current
    if version >= 255:
        raise CardDeskError("Kartu ini sudah terlalu sering dicetak ulang; hubungi admin.")
    card = CardData(number, name, cohort, date.fromisoformat(start), date.fromisoformat(end),
                    serial, version + 1)
    text = issue_credential(signer[0], signer[1], card)
    detail = {"reason": reason, "reason_text": reason_text, "serial": serial,
              "version": version + 1}
    with storage_errors(), registry.db.atomic():
        registry.db.execute(
            "INSERT INTO cards (serial, version, registration_id, member_number, key_id, "
            "valid_from, valid_until, credential, source, issued_at, reprint_reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'local', ?, ?)",
            [serial, version + 1, registration_id, number, signer[1], start, end, text, at,
             reason],
        )
        registry.db.execute(
            "INSERT OR IGNORE INTO card_revocations (serial, version, revoked_at, reason) "
            "SELECT serial, version, ?, ? FROM cards WHERE registration_id = ? AND version <= ?",
            [at, reason, registration_id, version],
        )
        _event(registry, registration_id, "reprint", version + 1, operator, at, detail)
        _audit(registry, operator, "card_reprinted", registration_id, detail, at)
    return serial, version + 1


def current_card_version(registry, registration_id: str) -> int:
    """The newest card version this device holds for a registration: the one a reprint
    replaces. CardDeskError when it holds none."""
    row = registry.db.execute(
        "SELECT max(version) FROM cards WHERE registration_id = ?", [registration_id]
    ).fetchone()
    if row is None or row[0] is None:
        raise CardDeskError("Peserta ini belum memiliki kartu, jadi tidak dapat dicetak ulang.")
    return int(row[0])


def store_server_reprint(registry, registration_id: str, credential_text: str, *, reason: str,
                         operator: str, reason_text: str = "", holder: dict | None = None,
                         at: str | None = None) -> tuple[int, int]:
    """Keep the card the server issued for a reprint this desk asked for, revoke the earlier
    versions of its serial, and record the reprint in the desk's history and audit, in one
    transaction. Not queued for sync: the server made it. Returns the new (serial, version)."""
    at = at or now_iso()
    _, card = _decode(credential_text)
    username, operator = _who(operator)
    detail = {"reason": reason, "reason_text": reason_text, "serial": card.serial,
              "version": card.version, "issued_by": "server", "operator_username": username}
    with storage_errors(), registry.db.atomic():
        store_credential(registry, registration_id, credential_text, issued_at=at,
                         reprint_reason=reason, holder=holder)
        registry.db.conn.executemany(
            "INSERT OR IGNORE INTO card_revocations (serial, version, revoked_at, reason) "
            "VALUES (?, ?, ?, ?)", [(card.serial, v, at, reason) for v in range(1, card.version)],
        )
        registry.db.execute(
            "INSERT INTO card_events (registration_id, kind, card_version, operator, at, detail,"
            " sent) VALUES (?, 'reprint', ?, ?, ?, ?, 1)",
            [registration_id, card.version, operator, at, json.dumps(detail)],
        )
        _audit(registry, operator, "card_reprinted", registration_id, detail, at)
    return card.serial, card.version


# --- card steps waiting for the server (for sync) -----------------------------------------


def card_events_pending(registry, limit: int = 200) -> list[dict]:
    rows = registry.db.execute(
        "SELECT seq, registration_id, kind, card_version, operator, at, detail FROM card_events "
        "WHERE sent = 0 ORDER BY seq LIMIT ?", [int(limit)],
    ).fetchall()
    keys = ("seq", "registration_id", "kind", "card_version", "operator", "at")
    return [{**dict(zip(keys, r[:6], strict=True)), **json.loads(r[6])} for r in rows]


def card_events_acknowledge(registry, seqs: Iterable[int]) -> None:
    with storage_errors(), registry.db.atomic():
        registry.db.conn.executemany(
            "UPDATE card_events SET sent = 1 WHERE seq = ?", [(int(s),) for s in seqs]
        )


def next_local_serial(registry) -> int:
    """A serial for a locally signed demo card (the server numbers real ones)."""
    return (registry.db.execute("SELECT max(serial) FROM cards").fetchone()[0] or 0) + 1
