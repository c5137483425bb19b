"""The local registry: every registration on this device, its history, audit trail and outbox.

One `Registry` per database file, used from one writer thread (plus read-only ones for lists).
A save writes the current record, its heirs, its history version, its audit entry and its outbox
entry in one transaction: a crash or power cut loses nothing that `save()` reported as saved.
Ordering uses local sequence numbers, never device clocks (they are wrong after battery swaps).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from storage import settings as declared_settings
from storage.audit import GENESIS_HASH, AuditLog, canonical_json, insert_audit
from storage.card_store import CardStore
from storage.db import (
    DEFAULT_BUSY_TIMEOUT_MS,
    StorageError,
    check_integrity,
    connect,
    open_database,
    storage_errors,
)
from storage.duplicates import DuplicateChecks, KnownRegistration, nik_hash
from storage.ids import new_id
from storage.lists import RegistrationFilter, RegistrationLists, RegistrationRow, RegistryStats
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
from storage.outbox import Outbox, OutboxEntry
from storage.rows import (
    INSERT_HEIR,
    INSERT_VERSION,
    UPSERT_WORKER,
    WAITING_FOR_SERVER,
    bulk_insert_versions,
    heir_rows,
    insert_version,
    read_setting,
    record_dict,
    worker_row,
    write_setting,
)
from storage.sync_store import SyncStore
from storage.vocabulary import local_now_iso

FTS_MERGE_PAGES = 500  # name-index pages one idle merge may write (a few milliseconds)


@dataclass
class SaveResult:
    saved: bool
    registration: Registration | None
    validation: ValidationResult


class Registry(RegistrationLists, DuplicateChecks, AuditLog, Outbox):
    """See docs/ARCHITECTURE.md for the contract. Lists (storage/lists.py), duplicate checks
    (storage/duplicates.py), the audit chain (storage/audit.py) and the outbox
    (storage/outbox.py) are its parts; the card desk's and sync's tables its stores
    (`cards`, `sync`)."""

    def __init__(self, db: Database, *, device_id: str, readonly: bool = False,
                 key: bytes | None = None, vault=None):
        self._db = db
        self.readonly = readonly
        self.device_id = device_id
        # The database key (None: a plain database) and the data folder's storage.vault.Vault,
        # through which operator changes re-wrap the key; kept for other connections (sync).
        self.key = key
        self.vault = vault
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
                stored = read_setting(db, "device_id")
                if device_id and device_id != stored:
                    write_setting(db, "device_id", device_id)
                elif not stored:
                    device_id = new_id()
                    write_setting(db, "device_id", device_id)
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
                device_id = read_setting(db, "device_id") or ""
        except BaseException:
            db.close()
            raise
        return cls(db, device_id=device_id, readonly=True, key=key, vault=vault)

    @property
    def db_for_tests(self) -> Database:
        """The connection itself, for tests and benchmarks that look at what was written. Every
        other package goes through the registry and its stores (tests/test_layering.py)."""
        return self._db

    def close(self) -> None:
        self._db.close()

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file; never needed for durability."""
        with storage_errors():
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def tidy(self) -> None:
        """Upkeep for idle moments, kept out of the save an operator waits on (the window's
        writer thread runs it once no write has come for a few seconds): merge the small
        segments saves added to the name index, then checkpoint."""
        with storage_errors():
            with self._db.atomic():
                self._db.execute(
                    "INSERT INTO workers_fts (workers_fts, rank) VALUES ('merge', ?)",
                    [FTS_MERGE_PAGES],
                )
        self.checkpoint()

    @cached_property
    def regions(self):
        from storage.regions import load_regions

        return load_regions()

    @cached_property
    def config(self):
        from storage.config import load_program_config

        return load_program_config()

    @property
    def cards(self) -> CardStore:
        """The card desk's tables (storage/card_store.py)."""
        return CardStore(self._db, self.append_audit)

    @property
    def sync(self) -> SyncStore:
        """Sync's state and its writes (storage/sync_store.py)."""
        return SyncStore(self._db)

    def atomic(self):
        """One transaction around several stores' writes (a savepoint inside another)."""
        return self._db.atomic()

    def database_file(self) -> str:
        """The file behind this connection, so another thread can open its own connection."""
        for _seq, name, path in self._db.execute("PRAGMA database_list").fetchall():
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
        check_integrity(self._db)

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

    # --- saving -------------------------------------------------------------------------

    def save(self, reg: Registration, *, operator: str, confirmed_warnings: Iterable[str] = (),
             as_of: date | None = None) -> SaveResult:
        """Clean, validate and, when nothing blocks, store `reg` as a new version.

        Not saved while there are errors or warnings whose code is not in `confirmed_warnings`.
        """
        from storage.cleaning import clean_registration

        reg = clean_registration(reg)  # a copy: the caller's object is never changed
        result = self.validate(reg, as_of=as_of)
        if result.errors or result.unconfirmed(frozenset(confirmed_warnings)):
            return SaveResult(False, None, result)
        with storage_errors(), self._db.atomic():
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
        from storage.cleaning import clean_registration
        from storage.pending import Pending
        from storage.validation import validate_registration

        results, fresh = [], []
        with storage_errors(), self._db.atomic():
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
        insert_version(self._db, reg, operator=operator, now=now)
        self.append_audit(operator, action, "registration", reg.id,
                           {"version": reg.version, "nik": mask_nik(reg.nik)}, now)
        return reg

    # --- reading ------------------------------------------------------------------------

    def get(self, reg_id: str) -> Registration | None:
        """The current version, with the status the server gave it since."""
        with storage_errors():
            row = self._db.execute(
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
            rows = self._db.execute(
                "SELECT data FROM worker_versions WHERE record_id = ? ORDER BY version", [reg_id]
            ).fetchall()
        return [Registration.from_dict(json.loads(r[0])) for r in rows]

    # --- events and occupations -------------------------------------------------------

    def events(self) -> list[Event]:
        with storage_errors():
            rows = self._db.execute(
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
        with storage_errors(), self._db.atomic():
            self._db.execute(
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
            rows = self._db.execute(sql + " ORDER BY name").fetchall()
        return [Occupation(r[0], r[1], bool(r[2]), bool(r[3])) for r in rows]

    def save_occupation(self, occupation: Occupation, *, operator: str = "") -> None:
        self._occupation_codes = None
        now = local_now_iso()
        with storage_errors(), self._db.atomic():
            self._db.execute(
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
        with storage_errors(), self._db.atomic():
            self._db.execute(
                "INSERT INTO drafts (key, data, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) "
                "DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                [key, json.dumps(data, ensure_ascii=False, default=str), local_now_iso()],
            )

    def load_draft(self, key: str) -> dict | None:
        with storage_errors():
            row = self._db.execute("SELECT data FROM drafts WHERE key = ?", [key]).fetchone()
        return json.loads(row[0]) if row else None

    def discard_draft(self, key: str) -> None:
        with storage_errors(), self._db.atomic():
            self._db.execute("DELETE FROM drafts WHERE key = ?", [key])

    def draft_keys(self) -> list[str]:
        with storage_errors():
            return [r[0] for r in self._db.execute("SELECT key FROM drafts ORDER BY updated_at")]

    def get_setting(self, name: str) -> Any:
        """The stored value of a declared setting, or its default."""
        setting = declared_settings.declared(name)
        with storage_errors():
            value = read_setting(self._db, name)
        return setting.default if value is None else value

    def set_setting(self, name: str, value: Any) -> None:
        value = declared_settings.coerce(name, value)
        with storage_errors(), self._db.atomic():
            write_setting(self._db, name, value)

    # --- decisions from the server ------------------------------------------------------

    def update_status(self, reg_id: str, status: str, *, status_reason: str = "",
                      member_number: str = "", by: str = "server") -> bool:
        """Record a status the server decided (received, verified, rejected, funded, ...).
        Not a new version and not sent back: the server owns these fields. Audited.
        False when the registration is not on this device or nothing changed."""
        now = local_now_iso()
        with storage_errors(), self._db.atomic():
            current = self.get(reg_id)
            if current is None:
                return False
            changed = (current.status, current.status_reason, current.member_number) != (
                status, status_reason, member_number)
            if not changed:
                return False
            self._db.conn.execute(
                "UPDATE workers SET status = ?, status_reason = ?, member_number = ? WHERE id = ?",
                [status, status_reason, member_number, reg_id],
            )
            self.append_audit(by, "registration.status", "registration", reg_id,
                               {"status": status, "reason": status_reason,
                                "member_number": member_number}, now)
        return True


__all__ = [
    "GENESIS_HASH",
    "INSERT_HEIR",
    "INSERT_VERSION",
    "UPSERT_WORKER",
    "WAITING_FOR_SERVER",
    "Heir",
    "KnownRegistration",
    "OutboxEntry",
    "RegistrationFilter",
    "RegistrationRow",
    "Registry",
    "RegistryStats",
    "SaveResult",
    "StorageError",
    "bulk_insert_versions",
    "canonical_json",
    "heir_rows",
    "insert_audit",
    "insert_version",
    "nik_hash",
    "record_dict",
    "worker_row",
]
