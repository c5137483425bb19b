"""What the device remembers about sync: the pull cursor, the token, the batch in flight and the
server's answer for each record (tables of migration 0004_sync). The keyed NIK hashes of
registrations made elsewhere live in the registry's known_registrations; cards and revocations
in the card desk's tables (cards/desk.py).

Functions take the Registry (or its sqlite_utils.Database) and use SQL directly; they are called
from the writer thread (the engine, or the window's DbWorker), never from the window itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

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


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- small key/value state -------------------------------------------------------------------


def get_meta(db, key: str, default: str = "") -> str:
    row = db.conn.execute("SELECT value FROM sync_meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def set_meta(db, key: str, value: str) -> None:
    db.conn.execute(
        "INSERT INTO sync_meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def cursor(db) -> int:
    return int(get_meta(db, "pull_cursor", "0") or 0)


def save_cursor(db, value: int) -> None:
    set_meta(db, "pull_cursor", str(int(value)))


def token(db) -> str:
    return get_meta(db, "device_token", "")


# --- the batch in flight ---------------------------------------------------------------------


def pending_batch(db) -> tuple[str, list[int]] | None:
    """The batch sent but not yet answered: retried with the same id (idempotency)."""
    row = db.conn.execute("SELECT batch_id, seqs FROM sync_batch LIMIT 1").fetchone()
    return (row[0], json.loads(row[1])) if row else None


def remember_batch(db, batch_id: str, seqs: list[int]) -> None:
    with db.atomic():
        db.conn.execute("DELETE FROM sync_batch")
        db.conn.execute(
            "INSERT INTO sync_batch(batch_id, seqs, created_at) VALUES (?, ?, ?)",
            (batch_id, json.dumps(seqs), now_iso()),
        )


def forget_batch(db) -> None:
    with db.atomic():  # its own commit when called outside a batch's transaction
        db.conn.execute("DELETE FROM sync_batch")


# --- per-record answers ----------------------------------------------------------------------


@dataclass
class Answer:
    record_id: str
    version: int
    outcome: str
    errors: list[dict]
    duplicate_of: str = ""
    answered_at: str = ""

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


def record_answers(db, answers: Iterable[Answer]) -> None:
    """Keep the server's latest answer per record. An older version's answer never replaces a
    newer one, and an unchanged answer is not rewritten (its time stays when it was first seen)."""
    now = now_iso()
    db.conn.executemany(
        "INSERT INTO sync_answers(record_id, version, outcome, errors, duplicate_of, answered_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(record_id) DO UPDATE SET "
        "version = excluded.version, outcome = excluded.outcome, errors = excluded.errors, "
        "duplicate_of = excluded.duplicate_of, answered_at = excluded.answered_at "
        "WHERE excluded.version >= sync_answers.version AND (excluded.version != "
        "sync_answers.version OR excluded.outcome != sync_answers.outcome OR excluded.errors != "
        "sync_answers.errors OR excluded.duplicate_of != sync_answers.duplicate_of)",
        [
            (a.record_id, a.version, a.outcome, json.dumps(a.errors, ensure_ascii=False),
             a.duplicate_of, a.answered_at or now)
            for a in answers
        ],
    )


def record_answer(db, answer: Answer) -> None:
    record_answers(db, [answer])


def answer_for(db, record_id: str) -> Answer | None:
    row = db.conn.execute(
        "SELECT record_id, version, outcome, errors, duplicate_of, answered_at FROM sync_answers "
        "WHERE record_id = ?",
        (record_id,),
    ).fetchone()
    return Answer(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5]) if row else None




def revocations(db) -> list[tuple[int, int]]:
    """(serial, card_version) of every revoked card version (kept by cards/desk.py)."""
    return [tuple(r) for r in db.execute("SELECT serial, version FROM card_revocations")]


def credential_payloads(db) -> list[dict]:
    """Every signed card this device holds (kept by cards/desk.py), in the pull item's terms."""
    rows = db.execute(
        "SELECT registration_id, serial, version, member_number, key_id, valid_from, "
        "valid_until, credential FROM cards ORDER BY serial, version"
    ).fetchall()
    keys = ("id", "serial", "card_version", "member_number", "key_id", "valid_from",
            "valid_until", "qr")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def device_id(db) -> str:
    """The id the server gave this device at enrolment ("" before enrolment)."""
    return get_meta(db, "device_id", "")


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


def attention_rows(db) -> list[AttentionRow]:
    """Records the server rejected or refused (another device owns them), flagged as duplicate
    or in conflict, and corrections waiting for a verifier or rejected by one, with reasons."""
    from storage.models import mask_nik

    rows = db.execute(
        "SELECT a.record_id, a.version, a.outcome, a.errors, a.duplicate_of, a.answered_at, "
        "w.full_name, w.nik, EXISTS (SELECT 1 FROM worker_versions v JOIN outbox o "
        "ON o.seq = v.seq WHERE v.record_id = a.record_id AND v.version > a.version) "
        "FROM sync_answers a LEFT JOIN workers w ON w.id = a.record_id "
        f"WHERE a.outcome IN ({','.join('?' * len(NEEDS_ATTENTION))}) "
        "ORDER BY a.answered_at DESC, a.record_id",
        list(NEEDS_ATTENTION),
    ).fetchall()
    result = []
    for r in rows:
        answer = Answer(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5])
        result.append(AttentionRow(answer.record_id, r[6] or "", mask_nik(r[7] or ""),
                                   answer.outcome, answer.label, answer.reason, answer.answered_at,
                                   bool(r[8])))
    return result


def database_file(db) -> str:
    """The file behind this connection, so another thread can open its own connection."""
    for _seq, name, path in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return path
    return ""


def save_setting(registry, name: str, value) -> None:
    """A declared setting, committed now."""
    registry.set_setting(name, value)
