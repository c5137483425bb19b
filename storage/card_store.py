"""The card desk's tables (migrations 0005-0007): signed card versions, their holders, printing
and hand-over, revocations and the desk's steps waiting for the server. Reached as
`registry.cards`; `cards/desk.py` keeps the rules (who may print what, reprint reasons, signing)
and calls this store for every read and write.

Every step a person takes is written here with its `card_events` row and its audit entry in one
transaction, so the desk's history and the audit chain never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from storage.db import storage_errors
from storage.models import Status, mask_nik

# Worker statuses from which a current, unprinted card may be printed (a reprint after hand-over
# leaves the local status at card_handed_over until the server says otherwise).
PRINTABLE_STATUSES = (Status.FUNDED.value, Status.CARD_PRINTED.value,
                      Status.CARD_HANDED_OVER.value)
# What a card desk keeps about each card's holder (storage/migrations.py 0007_card_holders).
HOLDER_FIELDS = ("full_name", "nik_masked", "cohort", "occupation_code", "kecamatan_code",
                 "kelurahan_code", "event_id")
Audit = Callable[[str, str, str, str, dict, str], None]  # Registry.append_audit


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
    kpj: str = ""  # BPJS's KPJ number, once pulled (storage/programme.py)


@dataclass(frozen=True)
class CardVersion:
    """One signed card version as the `cards` table keeps it (dates in ISO form)."""

    serial: int
    version: int
    registration_id: str
    member_number: str
    key_id: str
    valid_from: str
    valid_until: str
    credential: str
    source: str
    issued_at: str
    reprint_reason: str = ""


@dataclass(frozen=True)
class PrintRow:
    """What the card's face needs: the holder from the card side, the occupation's name."""

    registration_id: str
    full_name: str
    member_number: str
    cohort: str
    occupation_name: str
    valid_from: str
    valid_until: str
    serial: int
    version: int
    credential: str
    kpj: str = ""  # printed on the card's back when the member has one


@dataclass(frozen=True)
class NewestCard:
    """The newest version of a registration's card, which a local reprint replaces."""

    serial: int
    version: int
    valid_from: str
    valid_until: str
    full_name: str
    member_number: str
    cohort: str


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
    "h.occupation_code, coalesce(e.name, ''), coalesce(j.kpj, '')" + _FROM +
    " LEFT JOIN events e ON e.id = h.event_id"
    " LEFT JOIN member_kpj j ON j.record_id = c.registration_id"
)
_PRINTABLE = ", ".join(f"'{s}'" for s in PRINTABLE_STATUSES)
# The desk's lists. A worker this device registered must be in a printable status. A card known
# only from the server is printable while its credential is current and unrevoked, unless the
# server has said the registration is in another status (e.g. died or inactive).
LISTS = {
    "ready": (
        f"c.printed_at IS NULL AND CASE WHEN w.id IS NOT NULL THEN w.status IN ({_PRINTABLE}) "
        f"ELSE coalesce(k.status, '') IN ('', {_PRINTABLE}) END"
    ),
    "to_hand_over": "c.printed_at IS NOT NULL AND c.handed_over_at IS NULL",
    "current": "1 = 1",
}
_INSERT_CARD = (
    "INSERT INTO cards (serial, version, registration_id, member_number, key_id, valid_from, "
    "valid_until, credential, source, issued_at, reprint_reason) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_REVOKE = ("INSERT OR IGNORE INTO card_revocations (serial, version, revoked_at, reason) "
           "VALUES (?, ?, ?, ?)")


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


class CardStore:
    """Statements on the card desk's tables; `audit` appends to the registry's audit chain."""

    def __init__(self, db: Database, audit: Audit):
        self._db = db
        self._audit = audit

    # --- credentials, holders, revocations --------------------------------------------

    def store(self, card: CardVersion, holder: dict) -> None:
        """Keep a signed version (the same version again replaces its text, keeps its printing
        and hand-over records) with its holder's details (HOLDER_FIELDS)."""
        with storage_errors(), self._db.atomic():
            self._db.execute(
                _INSERT_CARD + " ON CONFLICT (serial, version) DO UPDATE SET "
                "credential = excluded.credential, key_id = excluded.key_id, "
                "registration_id = excluded.registration_id",
                [card.serial, card.version, card.registration_id, card.member_number,
                 card.key_id, card.valid_from, card.valid_until, card.credential, card.source,
                 card.issued_at, card.reprint_reason],
            )
            self._save_holder(card.registration_id, holder)

    def own_holder(self, registration_id: str) -> dict | None:
        """The holder's details from this device's own record of the registration, if any."""
        row = self._db.execute(
            "SELECT full_name, nik, cohort, occupation_code, kecamatan_code, kelurahan_code, "
            "coalesce(event_id, '') FROM workers WHERE id = ?", [registration_id],
        ).fetchone()
        if row is None:
            return None
        return dict(zip(HOLDER_FIELDS, (row[0], mask_nik(row[1]), *row[2:]), strict=True))

    def _save_holder(self, registration_id: str, details: dict) -> None:
        columns = ", ".join(HOLDER_FIELDS)
        updates = ", ".join(f"{name} = excluded.{name}" for name in HOLDER_FIELDS)
        self._db.execute(
            f"INSERT INTO card_holders (registration_id, {columns}) VALUES (?{', ?' * 7}) "
            f"ON CONFLICT (registration_id) DO UPDATE SET {updates}",
            [registration_id, *(details[name] for name in HOLDER_FIELDS)],
        )

    def events(self) -> list[tuple[str, str]]:
        """(event id, name) of every kegiatan the cards' holders belong to."""
        rows = self._db.execute(
            "SELECT DISTINCT h.event_id, coalesce(e.name, '') FROM card_holders h "
            "LEFT JOIN events e ON e.id = h.event_id WHERE h.event_id != '' "
            "ORDER BY coalesce(e.name, '') = '', e.name, h.event_id"
        ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def add_revocations(self, rows: Iterable[tuple[int, int, str, str]]) -> int:
        """(serial, version, revoked_at, reason); returns how many were new."""
        with storage_errors(), self._db.atomic():
            before = self._count_revocations()
            self._db.conn.executemany(_REVOKE, list(rows))
            return self._count_revocations() - before

    def _count_revocations(self) -> int:
        return self._db.execute("SELECT count(*) FROM card_revocations").fetchone()[0]

    def revoked(self) -> list[tuple[int, int]]:
        """(serial, version) of every revoked card version."""
        return [(s, v) for s, v in self._db.execute("SELECT serial, version FROM card_revocations")]

    def revocation_list(self) -> list[dict]:
        return [
            {"serial": s, "card_version": v, "revoked_at": at, "reason": reason}
            for s, v, at, reason in self._db.execute(
                "SELECT serial, version, revoked_at, reason FROM card_revocations "
                "ORDER BY serial, version"
            )
        ]

    def credential_payloads(self) -> list[dict]:
        """Every signed card this device holds, in the pull item's terms."""
        rows = self._db.execute(
            "SELECT registration_id, serial, version, member_number, key_id, valid_from, "
            "valid_until, credential FROM cards ORDER BY serial, version"
        ).fetchall()
        keys = ("id", "serial", "card_version", "member_number", "key_id", "valid_from",
                "valid_until", "qr")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    # --- lists --------------------------------------------------------------------------

    def rows(self, kind: str, flt: CardFilter, offset: int, limit: int) -> list[CardRow]:
        """Current cards of one of LISTS, by member number."""
        where, params = _where(flt, LISTS[kind])
        sql = f"{_ROW_SQL}{where} ORDER BY c.member_number LIMIT ? OFFSET ?"
        rows = self._db.execute(sql, [*params, int(limit), int(offset)]).fetchall()
        return [CardRow(*r) for r in rows]

    def count(self, kind: str, flt: CardFilter) -> int:
        where, params = _where(flt, LISTS[kind])
        return self._db.execute(f"SELECT count(*){_FROM}{where}", params).fetchone()[0]

    def history(self, registration_id: str) -> list[dict]:
        """Every card version of a registration, oldest first, with its revocation if any."""
        rows = self._db.execute(
            "SELECT c.serial, c.version, c.member_number, c.valid_until, c.printed_at, "
            "c.printed_by, c.handed_over_at, c.handed_over_to, c.reprint_reason, r.revoked_at "
            "FROM cards c LEFT JOIN card_revocations r ON r.serial = c.serial "
            "AND r.version = c.version WHERE c.registration_id = ? ORDER BY c.version",
            [registration_id],
        ).fetchall()
        keys = ("serial", "version", "member_number", "valid_until", "printed_at", "printed_by",
                "handed_over_at", "handed_over_to", "reprint_reason", "revoked_at")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def print_rows(self, registration_ids: Sequence[str]) -> dict[str, PrintRow]:
        """The current card of each registration that has one (at most 500 ids per call)."""
        marks = ", ".join("?" * len(registration_ids))
        rows = self._db.execute(
            "SELECT c.registration_id, h.full_name, c.member_number, h.cohort, "
            "coalesce(o.name, ''), c.valid_from, c.valid_until, c.serial, c.version, "
            "c.credential, coalesce(j.kpj, '') FROM cards c "
            "JOIN card_holders h ON h.registration_id = c.registration_id "
            "LEFT JOIN occupations o ON o.code = h.occupation_code "
            "LEFT JOIN member_kpj j ON j.record_id = c.registration_id "
            f"WHERE c.registration_id IN ({marks}) AND {_CURRENT}", list(registration_ids),
        ).fetchall()
        return {r[0]: PrintRow(*r) for r in rows}

    # --- printing, hand-over, reprints --------------------------------------------------

    def mark_printed(self, cards: Iterable[tuple[int, int]], *, operator: str, username: str,
                     at: str) -> int:
        """Cards (serial, version) printed; returns how many changed (each audited)."""
        changed = 0
        with storage_errors(), self._db.atomic():
            for serial, version in cards:
                cur = self._db.execute(
                    "UPDATE cards SET printed_at = ?, printed_by = ? WHERE serial = ? AND "
                    "version = ? AND printed_at IS NULL", [at, operator, serial, version],
                )
                if cur.rowcount:
                    reg_id = self._db.execute(
                        "SELECT registration_id FROM cards WHERE serial = ? AND version = ?",
                        [serial, version],
                    ).fetchone()[0]
                    self._event(reg_id, "printed", version, operator, at,
                                {"operator_username": username})
                    self._audit(operator, "card_printed", "card", reg_id,
                                {"serial": serial, "version": version}, at)
                    changed += 1
        return changed

    def hand_over(self, registration_id: str, *, received_by: str, operator: str,
                  username: str, at: str) -> bool:
        """The printed current card handed over (audited); False when it is not printed."""
        with storage_errors(), self._db.atomic():
            row = self._db.execute(
                f"SELECT c.serial, c.version, c.printed_at FROM cards c "
                f"WHERE c.registration_id = ? AND {_CURRENT}", [registration_id],
            ).fetchone()
            if row is None or row[2] is None:
                return False
            self._db.execute(
                "UPDATE cards SET handed_over_at = ?, handed_over_to = ?, handed_over_by = ? "
                "WHERE serial = ? AND version = ?", [at, received_by, operator, row[0], row[1]],
            )
            self._event(registration_id, "handed_over", row[1], operator, at,
                        {"received_by": received_by, "operator_username": username})
            self._audit(operator, "card_handed_over", "card", registration_id,
                        {"serial": row[0], "version": row[1]}, at)
        return True

    def newest(self, registration_id: str) -> NewestCard | None:
        row = self._db.execute(
            "SELECT c.serial, max(c.version), c.valid_from, c.valid_until, h.full_name, "
            "c.member_number, h.cohort FROM cards c "
            "JOIN card_holders h ON h.registration_id = c.registration_id "
            "WHERE c.registration_id = ?", [registration_id],
        ).fetchone()
        return None if row is None or row[0] is None else NewestCard(*row)

    def newest_version(self, registration_id: str) -> int | None:
        row = self._db.execute(
            "SELECT max(version) FROM cards WHERE registration_id = ?", [registration_id]
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def add_local_reprint(self, card: CardVersion, *, operator: str, detail: dict) -> None:
        """A locally signed new version; every earlier version of the registration revoked."""
        with storage_errors(), self._db.atomic():
            self._db.execute(_INSERT_CARD, [
                card.serial, card.version, card.registration_id, card.member_number,
                card.key_id, card.valid_from, card.valid_until, card.credential, card.source,
                card.issued_at, card.reprint_reason])
            self._db.execute(
                "INSERT OR IGNORE INTO card_revocations (serial, version, revoked_at, reason) "
                "SELECT serial, version, ?, ? FROM cards WHERE registration_id = ? "
                "AND version <= ?",
                [card.issued_at, card.reprint_reason, card.registration_id, card.version - 1],
            )
            self._event(card.registration_id, "reprint", card.version, operator, card.issued_at,
                        detail)
            self._audit(operator, "card_reprinted", "card", card.registration_id, detail,
                        card.issued_at)

    def add_server_reprint(self, card: CardVersion, holder: dict, *, operator: str,
                           detail: dict) -> None:
        """The server's new version, the earlier ones of its serial revoked and the reprint in
        the desk's history (already sent: the server made it) and audit, in one transaction."""
        at, reason = card.issued_at, card.reprint_reason
        with storage_errors(), self._db.atomic():
            self.store(card, holder)
            self._db.conn.executemany(
                _REVOKE, [(card.serial, v, at, reason) for v in range(1, card.version)])
            self._db.execute(
                "INSERT INTO card_events (registration_id, kind, card_version, operator, at, "
                "detail, sent) VALUES (?, 'reprint', ?, ?, ?, ?, 1)",
                [card.registration_id, card.version, operator, at, json.dumps(detail)],
            )
            self._audit(operator, "card_reprinted", "card", card.registration_id, detail, at)

    def next_serial(self) -> int:
        """A serial for a locally signed demo card (the server numbers real ones)."""
        return (self._db.execute("SELECT max(serial) FROM cards").fetchone()[0] or 0) + 1

    # --- steps waiting for the server -------------------------------------------------

    def _event(self, registration_id, kind, version, operator, at, detail=None) -> None:
        self._db.execute(
            "INSERT INTO card_events (registration_id, kind, card_version, operator, at, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [registration_id, kind, version, operator, at, json.dumps(detail or {})],
        )

    def events_pending(self, limit: int = 200) -> list[dict]:
        rows = self._db.execute(
            "SELECT seq, registration_id, kind, card_version, operator, at, detail "
            "FROM card_events WHERE sent = 0 ORDER BY seq LIMIT ?", [int(limit)],
        ).fetchall()
        keys = ("seq", "registration_id", "kind", "card_version", "operator", "at")
        return [{**dict(zip(keys, r[:6], strict=True)), **json.loads(r[6])} for r in rows]

    def events_acknowledge(self, seqs: Iterable[int]) -> None:
        with storage_errors(), self._db.atomic():
            self._db.conn.executemany(
                "UPDATE card_events SET sent = 1 WHERE seq = ?", [(int(s),) for s in seqs]
            )
