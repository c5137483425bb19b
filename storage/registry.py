"""The local registry: every registration on this device, its history, audit trail and outbox.

One `Registry` per database file, used from one writer thread (plus read-only ones for lists).
A save writes the current record, its heirs, its history version, its audit entry and its outbox
entry in one transaction: a crash or power cut loses nothing that `save()` reported as saved.
Ordering uses local sequence numbers, never device clocks (they are wrong after battery swaps).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz
from sqlite_utils import Database

from storage import settings as declared_settings
from storage.card_store import CardStore
from storage.db import (
    DEFAULT_BUSY_TIMEOUT_MS,
    StorageError,
    check_integrity,
    connect,
    open_database,
    storage_errors,
)
from storage.ids import new_id
from storage.migrations import MIGRATIONS
from storage.models import (
    Event,
    Heir,
    Occupation,
    Registration,
    Status,
    ValidationResult,
    mask_nik,
)
from storage.normalize import name_key
from storage.sync_store import SyncStore
from storage.vocabulary import local_now_iso

GENESIS_HASH = "0" * 64
FTS_MERGE_PAGES = 500  # name-index pages one idle merge may write (a few milliseconds)
NIK_INDEX_MIN_DIGITS = 8  # NIK prefixes at least this long are looked up in the NIK index
SIMILAR_NAME_SCORE = 85  # rapidfuzz score (0-100) of name keys from which two names look alike


@dataclass
class SaveResult:
    saved: bool
    registration: Registration | None
    validation: ValidationResult


@dataclass
class RegistrationFilter:
    text: str = ""  # name words (prefix search) or, when digits, a NIK prefix
    kelurahan_code: str = ""
    event_id: str = ""
    status: str = ""


@dataclass
class RegistrationRow:
    """What the list shows. Never the full NIK."""

    id: str
    nik_masked: str
    full_name: str
    birth_date: date | None
    kelurahan_name: str
    event_name: str
    status: str
    sync_state: str  # "pending" while an outbox entry waits, else "synced"
    updated_at: str
    version: int = 0


@dataclass
class RegistryStats:
    registered_today: int
    total: int
    waiting_for_sync: int


@dataclass
class OutboxEntry:
    seq: int
    record_id: str
    version: int
    payload: dict
    created_at: str
    attempts: int = 0
    last_error: str = ""


@dataclass
class KnownRegistration:
    """A registration the server told this device about (any device's)."""

    id: str
    nik_hash: str
    status: str = ""
    source: str = "server"
    updated_at: str = ""


def record_dict(reg: Registration) -> dict:
    """Registration.to_dict() without dataclasses.asdict's recursive deep copy (a save's hot
    path); tests/test_registry.py checks that both give the same dict."""
    data = {name: getattr(reg, name) for name in _FIELDS}
    data["birth_date"] = reg.birth_date.isoformat() if reg.birth_date else None
    data["heirs"] = [
        {"name": h.name, "relationship": h.relationship, "phone": h.phone, "nik": h.nik}
        for h in reg.heirs
    ]
    return data


_FIELDS = tuple(Registration.__dataclass_fields__)


_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 as is: the form audit hashes are computed over."""
    return _CANONICAL.encode(value)


def nik_hash(key_b64: str, nik: str) -> str:
    """Keyed hash of a NIK as the server sends it (docs/SYNC_API.md §3): lowercase hex of the
    first 16 bytes of HMAC-SHA256(key, nik), `key` being the base64 `nik_hash_key`."""
    key = base64.b64decode(key_b64)
    return hmac.new(key, nik.encode("ascii"), hashlib.sha256).digest()[:16].hex()


def audit_hash(prev_hash: str, entry: dict) -> str:
    """sha256 over the previous hash and the canonical form of this entry (without hashes)."""
    body = {k: entry[k] for k in ("seq", "at", "device_id", "operator", "action", "entity",
                                  "entity_id", "detail")}
    return hashlib.sha256((prev_hash + canonical_json(body)).encode()).hexdigest()


def fts_query(text: str) -> str:
    """'siti nur' -> '"siti"* "nur"*': every word as a prefix, all words required."""
    words = re.findall(r"\w+", text.casefold())
    return " ".join(f'"{w}"*' for w in words)


def _nik_range(prefix: str) -> tuple[str, str]:
    # ':' sorts right after '9', so [prefix, prefix + ':') holds exactly the NIKs with the prefix.
    return prefix, prefix + ":"


class Registry:
    """See docs/ARCHITECTURE.md for the contract."""

    def __init__(self, db: Database, *, device_id: str, readonly: bool = False,
                 key: bytes | None = None, vault=None):
        self.db = db
        self.readonly = readonly
        self.device_id = device_id
        # The database key (None: a plain database) and the data folder's storage.vault.Vault,
        # through which operator changes re-wrap the key; kept for other connections (sync).
        self.key = key
        self.vault = vault
        self._regions = None
        self._config = None
        self._occupation_codes: frozenset[str] | None = None  # save_occupation clears it

    # --- opening ------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, *, device_id: str | None = None,
             busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, key: bytes | None = None,
             vault=None) -> Registry:
        """Open (create, migrate after a backup) the database at `path`. StorageError on failure.
        With `key`, an encrypted (SQLCipher) database; the app opens it through
        storage.vault.open_registry, which never creates one where one was expected."""
        db = open_database(path, busy_timeout_ms=busy_timeout_ms, key=key)
        try:
            with storage_errors():
                stored = _read_setting(db, "device_id")
                if device_id and device_id != stored:
                    _write_setting(db, "device_id", device_id)
                elif not stored:
                    device_id = new_id()
                    _write_setting(db, "device_id", device_id)
                else:
                    device_id = stored
        except BaseException:
            db.close()
            raise
        return cls(db, device_id=device_id, key=key, vault=vault)

    @classmethod
    def open_readonly(cls, path: str | Path, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
                      key: bytes | None = None, vault=None) -> Registry:
        """A reader for lists (WAL lets it read while the writer writes). Never migrates."""
        if not Path(path).exists():
            raise StorageError("cannot_open", "database file does not exist")
        db = connect(path, busy_timeout_ms=busy_timeout_ms, readonly=True, key=key)
        try:
            with storage_errors():
                if MIGRATIONS.pending(db):
                    raise StorageError("not_migrated", "pending migrations")
                device_id = _read_setting(db, "device_id") or ""
        except BaseException:
            db.close()
            raise
        return cls(db, device_id=device_id, readonly=True, key=key, vault=vault)

    def close(self) -> None:
        self.db.close()

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file; never needed for durability."""
        with storage_errors():
            self.db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def tidy(self) -> None:
        """Upkeep for idle moments, kept out of the save an operator waits on (the window's
        writer thread runs it once no write has come for a few seconds): merge the small
        segments saves added to the name index, then checkpoint."""
        with storage_errors():
            with self.db.atomic():
                self.db.execute(
                    "INSERT INTO workers_fts (workers_fts, rank) VALUES ('merge', ?)",
                    [FTS_MERGE_PAGES],
                )
        self.checkpoint()

    @property
    def regions(self):
        if self._regions is None:
            from storage.regions import load_regions

            self._regions = load_regions()
        return self._regions

    @property
    def config(self):
        if self._config is None:
            from storage.config import load_program_config

            self._config = load_program_config()
        return self._config

    @property
    def cards(self) -> CardStore:
        """The card desk's tables (storage/card_store.py)."""
        return CardStore(self.db, self.append_audit)

    @property
    def sync(self) -> SyncStore:
        """Sync's state and its writes (storage/sync_store.py)."""
        return SyncStore(self.db)

    def atomic(self):
        """One transaction around several stores' writes (a savepoint inside another)."""
        return self.db.atomic()

    def database_file(self) -> str:
        """The file behind this connection, so another thread can open its own connection."""
        for _seq, name, path in self.db.execute("PRAGMA database_list").fetchall():
            if name == "main":
                return path
        return ""

    @property
    def operators(self):
        """The operator accounts (storage/operators.py): log-in, lockout, changes; audited."""
        from storage.operators import Operators

        return Operators(self)

    def check_integrity(self) -> None:
        """StorageError("corrupt") unless SQLite's integrity check passes."""
        check_integrity(self.db)

    # --- validation and duplicates ----------------------------------------------------

    def validate(self, reg: Registration, *, as_of: date | None = None) -> ValidationResult:
        """The rules plus duplicate checks against everything this device knows."""
        from storage.validation import validate_registration

        with storage_errors():
            if self._occupation_codes is None:
                self._occupation_codes = frozenset(o.code for o in self.occupations())
            return validate_registration(
                reg, as_of=as_of or date.today(), regions=self.regions, config=self.config,
                duplicates=self, occupation_codes=self._occupation_codes,
            )

    def exact_nik(self, nik: str, exclude_id: str | None = None) -> list:
        """Registrations with this NIK: own records by plain NIK, the server's by keyed hash."""
        hits = []
        rows = self.db.execute(
            "SELECT id, full_name, birth_date, nik, status FROM workers WHERE nik = ? AND id != ?",
            [nik, exclude_id or ""],
        ).fetchall()
        own_ids = {r[0] for r in rows}
        for rid, full_name, birth, nik_value, status in rows:
            hits.append(_make_hit(rid, full_name, birth, mask_nik(nik_value), "local", status))
        key = self.get_setting("nik_hash_key")
        if key:
            for rid, status in self.db.execute(
                "SELECT id, status FROM known_registrations WHERE nik_hash = ? AND id != ?",
                [nik_hash(key, nik), exclude_id or ""],
            ).fetchall():
                if rid not in own_ids and not self._is_own(rid):
                    hits.append(_make_hit(rid, "", None, mask_nik(nik), "server", status))
        return hits

    def similar(self, full_name: str, birth_date: date | None,
                exclude_id: str | None = None) -> list:
        """Own registrations with the same birth date and a name that looks alike."""
        if birth_date is None or not full_name.strip():
            return []
        wanted = name_key(full_name)
        alike = [
            rowid for rowid, other_key in self.db.execute(
                "SELECT rowid, name_key FROM workers WHERE birth_date = ?",  # index only
                [birth_date.isoformat()],
            ) if _names_alike(wanted, other_key)
        ]
        hits = []
        for rowid in alike:
            rid, other, nik, status = self.db.execute(
                "SELECT id, full_name, nik, status FROM workers WHERE rowid = ?", [rowid]
            ).fetchone()
            if rid != exclude_id:
                hits.append(_make_hit(rid, other, birth_date, mask_nik(nik), "local", status))
        return hits

    def _is_own(self, reg_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM workers WHERE id = ?", [reg_id]).fetchone() is not None

    # --- saving -------------------------------------------------------------------------

    def save(self, reg: Registration, *, operator: str, confirmed_warnings: Iterable[str] = (),
             as_of: date | None = None) -> SaveResult:
        """Clean, validate and, when nothing blocks, store `reg` as a new version.

        Not saved while there are errors or warnings whose code is not in `confirmed_warnings`.
        """
        from storage.validation import clean_registration

        reg = clean_registration(reg)  # a copy: the caller's object is never changed
        result = self.validate(reg, as_of=as_of)
        if result.errors or result.unconfirmed(frozenset(confirmed_warnings)):
            return SaveResult(False, None, result)
        with storage_errors(), self.db.atomic():
            stored = self._write_version(reg, operator)
        return SaveResult(True, stored, result)

    def save_many(self, regs: Iterable[Registration], *, operator: str,
                  as_of: date | None = None, accept_warnings: bool = False) -> list[SaveResult]:
        """`save()` for each registration in turn, all in one transaction: an import's group
        (storage/import_run.py), one commit and one sync to disk instead of one per row.

        Each registration is judged as `save()` judges it, its duplicate checks also seeing
        those accepted before it in the group (storage/pending.py); the new ones are then
        written together, each with its own version, heirs, audit entry and outbox entry
        (`bulk_insert_versions`). With `accept_warnings` every warning counts as confirmed
        (nobody is there to confirm them one by one). A failure rolls the whole group back.
        """
        from storage.pending import Pending
        from storage.validation import clean_registration, validate_registration

        results, fresh = [], []
        with storage_errors(), self.db.atomic():
            if self._occupation_codes is None:
                self._occupation_codes = frozenset(o.code for o in self.occupations())
            pending = Pending(self)
            for reg in regs:
                reg = clean_registration(reg)
                result = validate_registration(
                    reg, as_of=as_of or date.today(), regions=self.regions, config=self.config,
                    duplicates=pending, occupation_codes=self._occupation_codes)
                if result.errors or (result.warnings and not accept_warnings):
                    results.append(SaveResult(False, None, result))
                    continue
                if reg.id:  # a correction: written as save() writes it, after the new ones
                    if fresh:
                        bulk_insert_versions(self, fresh, operator=operator)
                    fresh = []
                    reg = self._write_version(reg, operator)
                else:
                    reg.id = new_id()
                    reg.status = reg.status or Status.REGISTERED.value
                    fresh.append(reg)
                pending.add(reg)
                results.append(SaveResult(True, reg, result))
            if fresh:
                bulk_insert_versions(self, fresh, operator=operator)
        return results

    def _write_version(self, reg: Registration, operator: str) -> Registration:
        """Write one version of `reg` (inside the caller's transaction) and return it."""
        now = local_now_iso()
        previous = self.get(reg.id) if reg.id else None
        if previous is not None:
            if reg.version and reg.version < previous.version:
                raise StorageError("stale", f"version {reg.version} < {previous.version}")
            reg.version = previous.version + 1
            reg.created_at = previous.created_at
            # Server-owned fields come from the stored record; a rejected one goes back in line.
            reg.status = previous.status
            reg.status_reason = previous.status_reason
            reg.member_number = previous.member_number
            if previous.status == Status.REJECTED.value:
                reg.status, reg.status_reason = Status.REGISTERED.value, ""
            action = "registration.correct"
        else:
            reg.id = reg.id or new_id()
            reg.version = 1
            reg.created_at = now
            reg.status = reg.status or Status.REGISTERED.value
            action = "registration.create"
        reg.device_id = self.device_id
        reg.operator = operator
        reg.updated_at = now
        insert_version(self.db, reg, operator=operator, now=now)
        self.append_audit(operator, action, "registration", reg.id,
                           {"version": reg.version, "nik": mask_nik(reg.nik)}, now)
        return reg

    # --- reading ------------------------------------------------------------------------

    def get(self, reg_id: str) -> Registration | None:
        """The current version, with the status the server gave it since."""
        with storage_errors():
            row = self.db.execute(
                "SELECT v.data, w.status, w.status_reason, w.member_number FROM workers w "
                "JOIN worker_versions v ON v.record_id = w.id AND v.version = w.version "
                "WHERE w.id = ?", [reg_id],
            ).fetchone()
        if row is None:
            return None
        reg = Registration.from_dict(json.loads(row[0]))
        reg.status, reg.status_reason, reg.member_number = row[1], row[2], row[3]
        return reg

    def history(self, reg_id: str) -> list[Registration]:
        """Every saved version, oldest first."""
        with storage_errors():
            rows = self.db.execute(
                "SELECT data FROM worker_versions WHERE record_id = ? ORDER BY version", [reg_id]
            ).fetchall()
        return [Registration.from_dict(json.loads(r[0])) for r in rows]

    def _selection(self, flt: RegistrationFilter, *, ordered: bool = True
                   ) -> tuple[str, list, str]:
        """FROM and WHERE selecting the matching rows, their parameters, and the expression of
        their save sequence (the list's order)."""
        clauses, params = [], []
        text = flt.text.strip()
        digits = re.sub(r"[\s.\-]", "", text)
        match = ""
        if digits.isdigit() and digits.isascii():
            # A long prefix selects few rows: use the NIK index. A short one selects many: walk
            # newest first and stop after a page ("+" keeps SQLite off the NIK index).
            short = ordered and len(digits) < NIK_INDEX_MIN_DIGITS
            column = "+w.nik" if short else "w.nik"
            clauses.append(f"{column} >= ? AND {column} < ?")
            params += list(_nik_range(digits))
        elif text:
            match = fts_query(text)
        for column, value in (("kelurahan_code", flt.kelurahan_code),
                              ("event_id", flt.event_id), ("status", flt.status)):
            if value:
                clauses.append(f"w.{column} = ?")
                params.append(value)
        if match:
            # The name index is keyed by save sequence (migration 0005): newest first for free.
            source = "workers_fts"
            if clauses:
                source += " JOIN workers w ON w.seq = workers_fts.rowid"
            clauses.insert(0, "workers_fts MATCH ?")
            params.insert(0, match)
            seq = "workers_fts.rowid"
        else:
            source, seq = "workers w", "w.seq"
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        return source + where, params, seq

    def query(self, flt: RegistrationFilter | None = None, *, offset: int = 0,
              limit: int = 100) -> list[RegistrationRow]:
        """Matching registrations, most recently saved first.

        Two steps: the page's sequence numbers from an index alone (cheap even deep into
        228,000 rows), then only that page's rows."""
        selection, params, seq = self._selection(flt or RegistrationFilter())
        with storage_errors(), self.db.atomic():  # one snapshot for both steps
            seqs = [r[0] for r in self.db.execute(
                f"SELECT {seq} FROM {selection} ORDER BY {seq} DESC LIMIT ? OFFSET ?",
                [*params, int(limit), max(0, int(offset))],
            )]
            if not seqs:
                return []
            rows = self.db.execute(
                "SELECT w.seq, w.id, w.nik, w.full_name, w.birth_date, w.kelurahan_code, e.name, "
                f"w.status, {WAITING_FOR_SERVER}, "
                "w.updated_at, w.version FROM workers w LEFT JOIN events e ON e.id = w.event_id "
                f"WHERE w.seq IN ({', '.join('?' * len(seqs))})", seqs,
            ).fetchall()
        by_seq = {r[0]: r[1:] for r in rows}
        return [self._row(by_seq[s]) for s in seqs if s in by_seq]

    def _row(self, r: tuple) -> RegistrationRow:
        kel = self.regions.kelurahan(r[4]) if r[4] else None
        return RegistrationRow(
            id=r[0], nik_masked=mask_nik(r[1]), full_name=r[2],
            birth_date=date.fromisoformat(r[3]) if r[3] else None,
            kelurahan_name=kel.name if kel else r[4], event_name=r[5] or "", status=r[6],
            sync_state="pending" if r[7] else "synced", updated_at=r[8], version=r[9],
        )

    def count(self, flt: RegistrationFilter | None = None) -> int:
        selection, params, _ = self._selection(flt or RegistrationFilter(), ordered=False)
        with storage_errors():
            return self.db.execute(f"SELECT count(*) FROM {selection}", params).fetchone()[0]

    def stats(self, today: date) -> RegistryStats:
        """Registered today (device date), total, and saves waiting for the server."""
        start = today.isoformat()
        with storage_errors():
            registered_today = self.db.execute(
                "SELECT count(*) FROM workers WHERE created_at >= ? AND created_at < ?",
                [start, start + "~"],  # '~' sorts after the time part of every ISO timestamp
            ).fetchone()[0]
            total = self.db.execute("SELECT count(*) FROM workers").fetchone()[0]
            waiting = self.db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        return RegistryStats(registered_today, total, waiting)

    # --- events and occupations -------------------------------------------------------

    def events(self) -> list[Event]:
        with storage_errors():
            rows = self.db.execute(
                "SELECT id, name, held_on, kelurahan_code FROM events "
                "ORDER BY held_on IS NULL, held_on DESC, name"
            ).fetchall()
        return [Event(r[0], r[1], date.fromisoformat(r[2]) if r[2] else None, r[3]) for r in rows]

    def add_event(self, name: str, held_on: date | None = None, kelurahan_code: str = "",
                  *, operator: str = "") -> Event:
        name = " ".join(name.split())
        if not name:
            raise ValueError("Nama kegiatan wajib diisi.")
        event = Event(new_id(), name, held_on, kelurahan_code)
        now = local_now_iso()
        with storage_errors(), self.db.atomic():
            self.db.execute(
                "INSERT INTO events (id, name, held_on, kelurahan_code, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [event.id, name, held_on.isoformat() if held_on else None, kelurahan_code, now],
            )
            self.append_audit(operator, "event.create", "event", event.id, {"name": name}, now)
        return event

    def occupations(self, include_inactive: bool = False) -> list[Occupation]:
        sql = "SELECT code, name, is_transport, active FROM occupations"
        if not include_inactive:
            sql += " WHERE active = 1"
        with storage_errors():
            rows = self.db.execute(sql + " ORDER BY name").fetchall()
        return [Occupation(r[0], r[1], bool(r[2]), bool(r[3])) for r in rows]

    def save_occupation(self, occupation: Occupation, *, operator: str = "") -> None:
        self._occupation_codes = None
        now = local_now_iso()
        with storage_errors(), self.db.atomic():
            self.db.execute(
                "INSERT INTO occupations (code, name, is_transport, active) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (code) DO UPDATE SET name = excluded.name, "
                "is_transport = excluded.is_transport, active = excluded.active",
                [occupation.code, occupation.name, int(occupation.is_transport),
                 int(occupation.active)],
            )
            self.append_audit(operator, "occupation.save", "occupation", occupation.code,
                               {"name": occupation.name, "is_transport": occupation.is_transport,
                                "active": occupation.active}, now)

    # --- drafts and settings ----------------------------------------------------------

    # Each write below commits at once (atomic() outside a transaction), so a draft typed just
    # before a crash or a setting saved just before the connection closes is on disk.

    def save_draft(self, key: str, data: dict) -> None:
        with storage_errors(), self.db.atomic():
            self.db.execute(
                "INSERT INTO drafts (key, data, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) "
                "DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                [key, json.dumps(data, ensure_ascii=False, default=str), local_now_iso()],
            )

    def load_draft(self, key: str) -> dict | None:
        with storage_errors():
            row = self.db.execute("SELECT data FROM drafts WHERE key = ?", [key]).fetchone()
        return json.loads(row[0]) if row else None

    def discard_draft(self, key: str) -> None:
        with storage_errors(), self.db.atomic():
            self.db.execute("DELETE FROM drafts WHERE key = ?", [key])

    def draft_keys(self) -> list[str]:
        with storage_errors():
            return [r[0] for r in self.db.execute("SELECT key FROM drafts ORDER BY updated_at")]

    def get_setting(self, name: str) -> Any:
        """The stored value of a declared setting, or its default."""
        setting = declared_settings.declared(name)
        with storage_errors():
            value = _read_setting(self.db, name)
        return setting.default if value is None else value

    def set_setting(self, name: str, value: Any) -> None:
        value = declared_settings.coerce(name, value)
        with storage_errors(), self.db.atomic():
            _write_setting(self.db, name, value)

    # --- decisions from the server ------------------------------------------------------

    def update_status(self, reg_id: str, status: str, *, status_reason: str = "",
                      member_number: str = "", by: str = "server") -> bool:
        """Record a status the server decided (received, verified, rejected, funded, ...).
        Not a new version and not sent back: the server owns these fields. Audited.
        False when the registration is not on this device or nothing changed."""
        now = local_now_iso()
        with storage_errors(), self.db.atomic():
            current = self.get(reg_id)
            if current is None:
                return False
            changed = (current.status, current.status_reason, current.member_number) != (
                status, status_reason, member_number)
            if not changed:
                return False
            self.db.conn.execute(
                "UPDATE workers SET status = ?, status_reason = ?, member_number = ? WHERE id = ?",
                [status, status_reason, member_number, reg_id],
            )
            self.append_audit(by, "registration.status", "registration", reg_id,
                               {"status": status, "reason": status_reason,
                                "member_number": member_number}, now)
        return True

    # --- known registrations (from the server) ---------------------------------------

    def remember_known(self, items: Iterable[KnownRegistration]) -> int:
        """Store or update registrations the server reported, for offline duplicate checks."""
        rows = [(k.id, k.nik_hash, k.status, k.source, k.updated_at) for k in items]
        with storage_errors(), self.db.atomic():
            self.db.conn.executemany(
                "INSERT INTO known_registrations (id, nik_hash, status, source, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET nik_hash = excluded.nik_hash,"
                " status = excluded.status, source = excluded.source, "
                "updated_at = excluded.updated_at",
                rows,
            )
        return len(rows)

    # --- audit --------------------------------------------------------------------------

    def append_audit(self, operator: str, action: str, entity: str, entity_id: str,
                      detail: dict, at: str) -> None:
        """Append one chained audit entry inside the caller's transaction. Every part of the app
        that changes local data (cards, sync decisions) audits through here, so the chain stays
        one chain."""
        last = self.db.execute(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        entry = {"seq": seq, "at": at, "device_id": self.device_id, "operator": operator,
                 "action": action, "entity": entity, "entity_id": entity_id,
                 "detail": canonical_json(detail)}
        insert_audit(self.db, entry, prev)

    def audit_chain_ok(self) -> bool:
        """Recompute every hash of the audit log; False when any entry was altered or removed."""
        prev = GENESIS_HASH
        expected_seq = 1
        with storage_errors():
            cursor = self.db.execute(
                "SELECT seq, at, device_id, operator, action, entity, entity_id, detail, "
                "prev_hash, hash FROM audit_log ORDER BY seq"
            )
            for row in cursor:
                entry = dict(zip(("seq", "at", "device_id", "operator", "action", "entity",
                                  "entity_id", "detail"), row[:8], strict=True))
                if row[0] != expected_seq or row[8] != prev or audit_hash(prev, entry) != row[9]:
                    return False
                prev, expected_seq = row[9], expected_seq + 1
        return True

    # --- outbox -------------------------------------------------------------------------

    def outbox_pending(self, limit: int = 200) -> list[OutboxEntry]:
        """The oldest entries the server has not acknowledged yet."""
        with storage_errors():
            rows = self.db.execute(
                "SELECT o.seq, v.record_id, v.version, v.data, v.saved_at, o.attempts, "
                "o.last_error FROM outbox o JOIN worker_versions v ON v.seq = o.seq "
                "ORDER BY o.seq LIMIT ?", [int(limit)]
            ).fetchall()
        return [OutboxEntry(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6]) for r in rows]

    def outbox_acknowledge(self, seqs: Iterable[int]) -> None:
        """The server has answered for these entries: they leave the outbox."""
        with storage_errors(), self.db.atomic():
            self.db.conn.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])

    def outbox_failed(self, seqs: Iterable[int], error: str) -> None:
        """A push attempt failed for these entries; they stay, with the reason."""
        with storage_errors(), self.db.atomic():
            self.db.conn.executemany(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
                [(error, s) for s in seqs],
            )

    def outbox_count(self) -> int:
        with storage_errors():
            return self.db.execute("SELECT count(*) FROM outbox").fetchone()[0]


# --- row writers shared by Registry and the fast demo loader -------------------------------


def insert_version(db: Database, reg: Registration, *, operator: str, now: str) -> None:
    """Write `reg` (already numbered) as its history version, the current row, its heirs and its
    outbox entry. The caller owns the transaction."""
    conn = db.conn
    seq = conn.execute(INSERT_VERSION, [reg.id, reg.version, operator, now,
                                        canonical_json(record_dict(reg))]).lastrowid
    conn.execute(UPSERT_WORKER, worker_row(reg, seq))
    if reg.version > 1:
        conn.execute("DELETE FROM heirs WHERE record_id = ?", [reg.id])
    if reg.heirs:
        conn.executemany(INSERT_HEIR, heir_rows(reg))
    conn.execute("INSERT INTO outbox (seq) VALUES (?)", [seq])


def bulk_insert_versions(registry: Registry, regs: list[Registration], *, operator: str) -> None:
    """Insert new registrations (ids set, never saved before) in one transaction, with the same
    rows a save writes. For the demo loader: the caller guarantees validity and unique NIKs."""
    db = registry.db
    now = local_now_iso()
    with storage_errors(), db.atomic():
        last = db.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        audit_seq, prev = (last[0], last[1]) if last else (0, GENESIS_HASH)
        seq = db.execute("SELECT coalesce(max(seq), 0) FROM worker_versions").fetchone()[0]
        versions, workers, heirs, outbox, audit = [], [], [], [], []
        for reg in regs:
            seq, audit_seq = seq + 1, audit_seq + 1
            reg.version, reg.device_id, reg.operator = 1, registry.device_id, operator
            reg.created_at = reg.updated_at = now
            versions.append((seq, reg.id, 1, operator, now, canonical_json(record_dict(reg))))
            workers.append(worker_row(reg, seq))
            heirs += heir_rows(reg)
            outbox.append((seq,))
            entry = {"seq": audit_seq, "at": now, "device_id": registry.device_id,
                     "operator": operator, "action": "registration.create",
                     "entity": "registration", "entity_id": reg.id,
                     "detail": canonical_json({"version": 1, "nik": mask_nik(reg.nik)})}
            digest = audit_hash(prev, entry)
            audit.append((*entry.values(), prev, digest))
            prev = digest
        conn = db.conn
        conn.executemany("INSERT INTO worker_versions (seq, record_id, version, operator, "
                         "saved_at, data) VALUES (?, ?, ?, ?, ?, ?)", versions)
        conn.executemany(UPSERT_WORKER, workers)
        conn.executemany(INSERT_HEIR, heirs)
        conn.executemany("INSERT INTO outbox (seq) VALUES (?)", outbox)
        conn.executemany("INSERT INTO audit_log (seq, at, device_id, operator, action, entity, "
                         "entity_id, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         audit)


WORKER_COLUMNS = (
    "id, seq, version, nik, full_name, name_key, birth_date, sex, kecamatan_code, "
    "kelurahan_code, occupation_code, cohort, event_id, status, status_reason, member_number, "
    "device_id, operator, created_at, updated_at"
)
_UPDATED_ON_CORRECTION = [c for c in WORKER_COLUMNS.split(", ") if c not in ("id", "created_at")]
UPSERT_WORKER = (
    f"INSERT INTO workers ({WORKER_COLUMNS}) VALUES ({', '.join('?' * 20)}) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _UPDATED_ON_CORRECTION)
)
INSERT_VERSION = (
    "INSERT INTO worker_versions (record_id, version, operator, saved_at, data) "
    "VALUES (?, ?, ?, ?, ?)"
)
INSERT_HEIR = (
    "INSERT INTO heirs (record_id, position, name, relationship, phone, nik) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
# SQL: is a version of the list row `w` still waiting for the server's answer?
WAITING_FOR_SERVER = (
    "EXISTS (SELECT 1 FROM worker_versions wv JOIN outbox o ON o.seq = wv.seq "
    "WHERE wv.record_id = w.id)"
)


def worker_row(reg: Registration, seq: int) -> list:
    return [
        reg.id, seq, reg.version, reg.nik, reg.full_name, name_key(reg.full_name),
        reg.birth_date.isoformat() if reg.birth_date else None, reg.sex, reg.kecamatan_code,
        reg.kelurahan_code, reg.occupation_code, reg.cohort, reg.event_id or None, reg.status,
        reg.status_reason, reg.member_number, reg.device_id, reg.operator, reg.created_at,
        reg.updated_at,
    ]


def heir_rows(reg: Registration) -> list[tuple]:
    return [(reg.id, i, h.name, h.relationship, h.phone, h.nik) for i, h in enumerate(reg.heirs)]


def insert_audit(db: Database, entry: dict, prev_hash: str) -> str:
    """Insert one audit entry chained to `prev_hash`; returns its hash."""
    digest = audit_hash(prev_hash, entry)
    db.conn.execute(
        "INSERT INTO audit_log (seq, at, device_id, operator, action, entity, entity_id, detail, "
        "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [entry["seq"], entry["at"], entry["device_id"], entry["operator"], entry["action"],
         entry["entity"], entry["entity_id"], entry["detail"], prev_hash, digest],
    )
    return digest


# --- helpers ------------------------------------------------------------------------------


def _read_setting(db: Database, name: str) -> Any:
    row = db.execute("SELECT value FROM settings WHERE name = ?", [name]).fetchone()
    return json.loads(row[0]) if row else None


def _write_setting(db: Database, name: str, value: Any) -> None:
    db.execute(
        "INSERT INTO settings (name, value) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        [name, json.dumps(value, ensure_ascii=False)],
    )


def _names_alike(a: str, b: str) -> bool:
    """Name keys that look alike: the same words in any order, or close in spelling (a typo, a
    letter dropped). rapidfuzz's scores are the normalised Indel similarity, as difflib's ratio
    but exact and computed in C: a save checks every worker born on the same day."""
    if not a or not b:
        return False
    return (fuzz.ratio(a, b, score_cutoff=SIMILAR_NAME_SCORE) > 0
            or fuzz.token_sort_ratio(a, b, score_cutoff=SIMILAR_NAME_SCORE) > 0)


def _make_hit(reg_id: str, full_name: str, birth: Any, nik_masked: str, where: str,
              status: str = ""):
    from storage.validation import DuplicateHit

    birth_date = date.fromisoformat(birth) if isinstance(birth, str) and birth else birth
    return DuplicateHit(reg_id, nik_masked, full_name, birth_date or None, where, status)


__all__ = [
    "Heir",
    "KnownRegistration",
    "OutboxEntry",
    "RegistrationFilter",
    "RegistrationRow",
    "Registry",
    "RegistryStats",
    "SaveResult",
    "StorageError",
]
