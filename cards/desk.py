"""Card records at the card desk: what is ready to print, printing, hand-over, reprints and the
revocation list. Used by the window (through its database worker), the command line and sync.

A card is recorded as printed only by `record_printed`, which callers run after the PDF or the
print job was produced: a failing printer or a cancelled batch leaves the records as they were.

The lists and the card faces read the holder's details from the card side (`card_holders`), not
from the device's own registrations: the card desk at city hall never registered the workers
whose cards it prints. Every statement on those tables is in storage/card_store.py
(`registry.cards`); this module keeps the rules. ReportLab (cards.pdf) is imported only when
printing, so that the window starts without it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
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
from storage.card_store import HOLDER_FIELDS, PRINTABLE_STATUSES, CardFilter, CardRow, CardVersion
from storage.models import COHORT_LABELS, Cohort, mask_nik
from storage.vocabulary import REPRINT_REASONS, utc_now_iso

if TYPE_CHECKING:
    from cards.pdf import PrintCard
    from storage.registry import Registry

# Re-exported: the window, sync and the tests name them through cards.desk.
__all__ = ["HOLDER_FIELDS", "PRINTABLE_STATUSES", "REPRINT_REASONS", "CardFilter", "CardRow"]


class CardDeskError(Exception):
    """A card-desk step that cannot be done; the message is Indonesian, for the operator."""


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


def _version(registration_id: str, kid: str, card: CardData, text: str, *, source: str,
             issued_at: str, reprint_reason: str = "") -> CardVersion:
    return CardVersion(card.serial, card.version, registration_id, card.member_number, kid,
                       card.valid_from.isoformat(), card.valid_until.isoformat(), text.strip(),
                       source, issued_at, reprint_reason)


# --- credentials and revocations (also called by sync) -----------------------------------


def store_credential(
    registry: Registry,
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
    registry.cards.store(_version(registration_id, kid, card, credential_text, source=source,
                                  issued_at=issued_at or utc_now_iso(),
                                  reprint_reason=reprint_reason), details)
    return card.serial, card.version


def _holder_details(registry: Registry, registration_id: str, card: CardData,
                    holder: dict) -> dict:
    local = registry.cards.own_holder(registration_id)
    if local is not None:
        return local
    details = {name: " ".join(str(holder.get(name) or "").split()) for name in HOLDER_FIELDS}
    if details["nik_masked"].isdigit():  # a raw NIK is never kept on the card side
        details["nik_masked"] = mask_nik(details["nik_masked"])
    details["full_name"] = details["full_name"] or display_name(card)
    details["cohort"] = details["cohort"] or card.cohort
    return details


def card_events(registry: Registry) -> list[tuple[str, str]]:
    """(event id, name) of every kegiatan the current cards belong to, for the desk's filter;
    the name is "" when the kegiatan was made on another device."""
    return registry.cards.events()


def apply_revocations(registry: Registry, entries: Iterable) -> int:
    """Add revocations from the server: dicts with serial and card_version (or version), and
    optional revoked_at and reason, or (serial, version) pairs. Returns how many were new."""
    rows = []
    for entry in entries:
        if isinstance(entry, dict):
            version = entry.get("card_version", entry.get("version"))
            rows.append((int(entry["serial"]), int(version),
                         entry.get("revoked_at") or entry.get("at") or utc_now_iso(),
                         entry.get("reason", "")))
        else:
            serial, version = entry
            rows.append((int(serial), int(version), utc_now_iso(), ""))
    return registry.cards.add_revocations(rows)


def revoked_set(registry: Registry) -> set[tuple[int, int]]:
    return set(registry.cards.revoked())


def revocation_list(registry: Registry) -> list[dict]:
    return registry.cards.revocation_list()


# --- lists --------------------------------------------------------------------------------


def members_ready_to_print(registry: Registry, filters: CardFilter | None = None, *,
                           offset: int = 0, limit: int = 100_000) -> list[CardRow]:
    """Funded members whose current card has a credential and has not been printed."""
    return registry.cards.rows("ready", filters or CardFilter(), offset, limit)


def count_ready_to_print(registry: Registry, filters: CardFilter | None = None) -> int:
    return registry.cards.count("ready", filters or CardFilter())


def cards_to_hand_over(registry: Registry, filters: CardFilter | None = None, *,
                       offset: int = 0, limit: int = 100_000) -> list[CardRow]:
    """Printed current cards that have not been handed over yet."""
    return registry.cards.rows("to_hand_over", filters or CardFilter(), offset, limit)


def count_to_hand_over(registry: Registry, filters: CardFilter | None = None) -> int:
    return registry.cards.count("to_hand_over", filters or CardFilter())


def current_cards(registry: Registry, filters: CardFilter | None = None, *, offset: int = 0,
                  limit: int = 100_000) -> list[CardRow]:
    """Every member's current card, whatever its state (for reprints)."""
    return registry.cards.rows("current", filters or CardFilter(), offset, limit)


def count_current_cards(registry: Registry, filters: CardFilter | None = None) -> int:
    return registry.cards.count("current", filters or CardFilter())


def data_dir_of(registry: Registry):
    """The folder of the registry's database file: the device's data directory."""
    from pathlib import Path

    path = registry.database_file()
    return Path(path).parent if path else None


def card_history(registry: Registry, registration_id: str) -> list[dict]:
    """Every card version of a registration, oldest first, with its revocation if any."""
    return registry.cards.history(registration_id)


# --- printing -----------------------------------------------------------------------------


def _cohort_text(cohort: str, occupation: str) -> str:
    try:
        label = COHORT_LABELS[Cohort(cohort)]
    except ValueError:
        label = cohort
    return f"{label} · {occupation}" if occupation and cohort != Cohort.PETUGAS_KEAGAMAAN else label


def load_print_cards(registry: Registry, registration_ids: Sequence[str]) -> list[PrintCard]:
    """What the PDF needs for each registration's current card, in the given order: the
    holder's full name and cohort or occupation from the card side."""
    from cards.pdf import PrintCard

    cards: list[PrintCard] = []
    for chunk_start in range(0, len(registration_ids), 500):
        chunk = list(registration_ids[chunk_start : chunk_start + 500])
        by_id = registry.cards.print_rows(chunk)
        for reg_id in chunk:
            r = by_id.get(reg_id)
            if r is None:
                raise CardDeskError("Sebagian peserta yang dipilih belum memiliki kartu yang sah.")
            cards.append(PrintCard(
                name=r.full_name, member_number=r.member_number,
                cohort_text=_cohort_text(r.cohort, r.occupation_name),
                valid_from=date.fromisoformat(r.valid_from),
                valid_until=date.fromisoformat(r.valid_until),
                serial=r.serial, version=r.version, qr_text=r.credential, kpj=r.kpj,
            ))
    return cards


def record_printed(registry: Registry, cards: Iterable[tuple[int, int]], *, operator: str,
                   at: str | None = None) -> int:
    """Mark cards (serial, version) printed, once the pages exist. Returns how many changed."""
    username, operator = _who(operator)
    return registry.cards.mark_printed(cards, operator=operator, username=username,
                                       at=at or utc_now_iso())


def print_to_pdf(registry: Registry, registration_ids: Sequence[str], out, *,
                 layout: str = "a4", operator: str, progress=None, cancel=None,
                 config=None) -> int:
    """Render the current cards of these registrations into `out`, then record them printed.

    Recording happens only after the PDF was written completely; a cancelled batch
    (BatchCancelled) or any failure leaves every record as it was. Returns the page count."""
    from cards.pdf import render_pdf

    cards = load_print_cards(registry, registration_ids)
    pages = render_pdf(cards, out, layout, progress=progress, cancel=cancel, config=config)
    record_printed(registry, [(c.serial, c.version) for c in cards], operator=operator)
    return pages


def mark_handed_over(registry: Registry, registration_id: str, *, received_by: str,
                     operator: str, at: str | None = None) -> None:
    """The member (or someone for them) received the printed current card."""
    username, operator = _who(operator)
    received_by = " ".join(received_by.split())
    if not received_by:
        raise CardDeskError("Isi nama penerima kartu.")
    if not registry.cards.hand_over(registration_id, received_by=received_by,
                                    operator=operator, username=username,
                                    at=at or utc_now_iso()):
        raise CardDeskError("Kartu ini belum dicetak, jadi belum dapat diserahkan.")


def reprint(registry: Registry, registration_id: str, reason: str, *, operator: str,
            signer: tuple[Ed25519PrivateKey, str], reason_text: str = "",
            at: str | None = None) -> tuple[int, int]:
    """A new card version for a lost, damaged or corrected card; earlier versions are revoked.

    Signed locally with `signer` (the device's demo key): only for a device that is not
    enrolled with a server (the demo without a server). An enrolled desk asks the server
    (ops/cards.py), whose key every device trusts, and keeps its answer
    with `store_server_reprint`. Returns the new (serial, version)."""
    if reason not in REPRINT_REASONS:
        raise CardDeskError("Pilih alasan cetak ulang.")
    _, operator = _who(operator)
    at = at or utc_now_iso()
    current = registry.cards.newest(registration_id)
    if current is None:
        raise CardDeskError("Peserta ini belum memiliki kartu, jadi tidak dapat dicetak ulang.")
    if current.version >= 255:
        raise CardDeskError("Kartu ini sudah terlalu sering dicetak ulang; hubungi admin.")
    card = CardData(current.member_number, current.full_name, current.cohort,
                    date.fromisoformat(current.valid_from),
                    date.fromisoformat(current.valid_until), current.serial, current.version + 1)
    text = issue_credential(signer[0], signer[1], card)
    detail = {"reason": reason, "reason_text": reason_text, "serial": card.serial,
              "version": card.version}
    registry.cards.add_local_reprint(
        CardVersion(card.serial, card.version, registration_id, card.member_number, signer[1],
                    current.valid_from, current.valid_until, text, "local", at, reason),
        operator=operator, detail=detail)
    return card.serial, card.version


def current_card_version(registry: Registry, registration_id: str) -> int:
    """The newest card version this device holds for a registration: the one a reprint
    replaces. CardDeskError when it holds none."""
    version = registry.cards.newest_version(registration_id)
    if version is None:
        raise CardDeskError("Peserta ini belum memiliki kartu, jadi tidak dapat dicetak ulang.")
    return version


def store_server_reprint(registry: Registry, registration_id: str, credential_text: str, *,
                         reason: str, operator: str, reason_text: str = "",
                         holder: dict | None = None, at: str | None = None) -> tuple[int, int]:
    """Keep the card the server issued for a reprint this desk asked for, revoke the earlier
    versions of its serial, and record the reprint in the desk's history and audit, in one
    transaction. Not queued for sync: the server made it. Returns the new (serial, version)."""
    at = at or utc_now_iso()
    kid, card = _decode(credential_text)
    username, operator = _who(operator)
    detail = {"reason": reason, "reason_text": reason_text, "serial": card.serial,
              "version": card.version, "issued_by": "server", "operator_username": username}
    details = _holder_details(registry, registration_id, card, holder or {})
    registry.cards.add_server_reprint(
        _version(registration_id, kid, card, credential_text, source="server", issued_at=at,
                 reprint_reason=reason), details, operator=operator, detail=detail)
    return card.serial, card.version


# --- card steps waiting for the server (for sync) -----------------------------------------


def card_events_pending(registry: Registry, limit: int = 200) -> list[dict]:
    return registry.cards.events_pending(limit)


def card_events_acknowledge(registry: Registry, seqs: Iterable[int]) -> None:
    registry.cards.events_acknowledge(seqs)


def next_local_serial(registry: Registry) -> int:
    """A serial for a locally signed demo card (the server numbers real ones)."""
    return registry.cards.next_serial()
