"""What the device remembers about sync: the pull cursor, the token, the batch in flight and the
server's answer for each record (tables of migration 0004_sync). The keyed NIK hashes of
registrations made elsewhere live in the registry's known_registrations; cards and revocations
in the card desk's tables (cards/desk.py).

Functions take the Registry; every statement is in storage/sync_store.py (`registry.sync`) and
storage/card_store.py (`registry.cards`). They are called from the writer thread (the engine, or
the window's DbWorker), never from the window itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage.sync_store import AnswerRow
from storage.vocabulary import utc_now_iso

if TYPE_CHECKING:
    from storage.registry import Registry

# Outcomes of a pushed record, as the device keeps them.
ACCEPTED = "accepted"
DUPLICATE = "duplicate"
REJECTED = "rejected"
CONFLICT = "conflict"
STALE = "stale"
REFUSED = "refused"  # another device owns the record (docs/SYNC_API.md §4 rule 2)
CORRECTION_PENDING = "correction_pending"  # kept; waits for a verifier (§4 rule 8)
# Not a push outcome: a verifier rejected the correction (the `correction_rejected` event).
CORRECTION_REJECTED = "correction_rejected"
NEEDS_ATTENTION = (DUPLICATE, REJECTED, CONFLICT, STALE, REFUSED, CORRECTION_PENDING,
                   CORRECTION_REJECTED)

OUTCOME_LABELS = {
    ACCEPTED: "Diterima server",
    DUPLICATE: "NIK ganda: sudah terdaftar di server",
    REJECTED: "Ditolak server: perlu diperbaiki",
    CONFLICT: "Konflik: data ini juga diubah di tempat lain",
    STALE: "Versi lama: sudah ada versi yang lebih baru",
    REFUSED: "Ditolak server: milik perangkat lain",
    CORRECTION_PENDING: "Koreksi menunggu verifikasi",
    CORRECTION_REJECTED: "Koreksi ditolak verifikator",
}
PUSH_OUTCOMES = (ACCEPTED, DUPLICATE, REJECTED, CONFLICT, STALE, REFUSED, CORRECTION_PENDING)
PENDING_MESSAGE = (
    "Perubahan sudah diterima server dan menunggu persetujuan verifikator; data yang lama tetap "
    "berlaku (kartu, daftar) sampai disetujui."
)


# --- small key/value state -------------------------------------------------------------------


def get_meta(registry: Registry, key: str, default: str = "") -> str:
    return registry.sync.get_meta(key, default)


def set_meta(registry: Registry, key: str, value: str) -> None:
    registry.sync.set_meta(key, value)


def cursor(registry: Registry) -> int:
    return int(get_meta(registry, "pull_cursor", "0") or 0)


def save_cursor(registry: Registry, value: int) -> None:
    set_meta(registry, "pull_cursor", str(int(value)))


def token(registry: Registry) -> str:
    return get_meta(registry, "device_token", "")


def device_id(registry: Registry) -> str:
    """The id the server gave this device at enrolment ("" before enrolment)."""
    return get_meta(registry, "device_id", "")


# --- the batch in flight ---------------------------------------------------------------------


def pending_batch(registry: Registry) -> tuple[str, list[int]] | None:
    """The batch sent but not yet answered: retried with the same id (idempotency)."""
    return registry.sync.pending_batch()


def remember_batch(registry: Registry, batch_id: str, seqs: list[int]) -> None:
    registry.sync.remember_batch(batch_id, seqs, utc_now_iso())


def forget_batch(registry: Registry) -> None:
    registry.sync.forget_batch()


# --- per-record answers ----------------------------------------------------------------------


@dataclass
class Answer(AnswerRow):
    """The server's answer for one record, with what a person reads of it."""

    @property
    def label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, self.outcome)

    @property
    def reason(self) -> str:
        """The server's reasons in one Indonesian line, for the list on the device."""
        messages = [e.get("message") or e.get("code", "") for e in self.errors]
        if self.outcome == DUPLICATE and not messages:
            messages = ["NIK ini sudah terdaftar melalui pendaftaran lain."]
        if self.outcome == CORRECTION_PENDING and not messages:
            messages = [PENDING_MESSAGE]
        return "; ".join(m for m in messages if m)

    @classmethod
    def of(cls, row: AnswerRow) -> Answer:
        return cls(row.record_id, row.version, row.outcome, row.errors, row.duplicate_of,
                   row.answered_at)


def record_answers(registry: Registry, answers: Iterable[AnswerRow]) -> None:
    """Keep the server's latest answer per record. An older version's answer never replaces a
    newer one, and an unchanged answer is not rewritten (its time stays when it was first seen)."""
    registry.sync.record_answers(answers, utc_now_iso())


def record_answer(registry: Registry, answer: AnswerRow) -> None:
    record_answers(registry, [answer])


def answer_for(registry: Registry, record_id: str) -> Answer | None:
    row = registry.sync.answer_for(record_id)
    return Answer.of(row) if row else None


def revocations(registry: Registry) -> list[tuple[int, int]]:
    """(serial, card_version) of every revoked card version (kept by cards/desk.py)."""
    return registry.cards.revoked()


def credential_payloads(registry: Registry) -> list[dict]:
    """Every signed card this device holds (kept by cards/desk.py), in the pull item's terms."""
    return registry.cards.credential_payloads()


@dataclass
class AttentionRow:
    """One record the enumerator must look at, as the sync panel lists it (NIK masked)."""

    record_id: str
    full_name: str
    nik_masked: str
    outcome: str
    label: str
    reason: str
    answered_at: str
    fixed: bool = False  # a newer version waits in the outbox: corrected, not yet answered


def attention_rows(registry: Registry) -> list[AttentionRow]:
    """Records the server rejected or refused (another device owns them), flagged as duplicate
    or in conflict, and corrections waiting for a verifier or rejected by one, with reasons."""
    result = []
    for record in registry.sync.attention(NEEDS_ATTENTION):
        answer = Answer.of(record.answer)
        result.append(AttentionRow(answer.record_id, record.full_name, record.nik_masked,
                                   answer.outcome, answer.label, answer.reason,
                                   answer.answered_at, record.fixed))
    return result


def database_file(registry: Registry) -> str:
    """The file behind this registry, so another thread can open its own connection."""
    return registry.database_file()


def save_setting(registry: Registry, name: str, value) -> None:
    """A declared setting, committed now."""
    registry.set_setting(name, value)
