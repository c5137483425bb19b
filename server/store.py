"""The central registry's own SQLite database: connections, schema migrations, one writer.

Writes are serialised twice: a process-wide lock (so the threads of one server never wait on
SQLite's busy handler) and `BEGIN IMMEDIATE` (so an admin command running in another process at
the same moment cannot interleave). Because every write, and every change sequence number it
allocates, happens under that lock, commits appear in sequence order and a pull cursor never
skips a change that commits late.

Readers use their own connection per thread: WAL lets them read while a batch is written.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from storage.paths import private_dir, private_file

DB_FILE = "server.db"
BUSY_TIMEOUT_MS = 10_000
MIGRATIONS = Migrations("jamsos_server")


@MIGRATIONS(name="0001_core")
def _m0001_core(db: Database) -> None:
    db.execute("""CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)""")
    db.execute(
        """CREATE TABLE devices (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT)"""
    )
    db.execute(
        """CREATE TABLE enrol_codes (
            code_hash TEXT PRIMARY KEY, role TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL, expires_at TEXT NOT NULL, used_at TEXT, device_id TEXT)"""
    )
    # One row per change ever made; its rowid is the pull sequence (AUTOINCREMENT: never reused).
    # Also the memory of which registration each sequence number carried, so that pulled cursor
    # ranges translate into "records this device held".
    db.execute(
        """CREATE TABLE feed (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, record_id TEXT)"""
    )
    db.execute("CREATE INDEX feed_record ON feed(record_id)")
    db.execute(
        """CREATE TABLE registrations (
            id TEXT PRIMARY KEY, arrival INTEGER NOT NULL UNIQUE,
            nik TEXT NOT NULL, nik_hash TEXT NOT NULL, full_name TEXT NOT NULL,
            birth_date TEXT, kecamatan_code TEXT NOT NULL, kelurahan_code TEXT NOT NULL,
            occupation_code TEXT NOT NULL, cohort TEXT NOT NULL, event_id TEXT,
            data TEXT NOT NULL, version INTEGER NOT NULL, revision INTEGER NOT NULL,
            status TEXT NOT NULL, reason_code TEXT NOT NULL DEFAULT '',
            status_reason TEXT NOT NULL DEFAULT '', member_number TEXT NOT NULL DEFAULT '',
            programme_year INTEGER, programme_start TEXT, programme_end TEXT,
            possible_duplicate INTEGER NOT NULL DEFAULT 0, duplicate_of TEXT,
            conflict INTEGER NOT NULL DEFAULT 0,
            device_id TEXT NOT NULL, received_at TEXT NOT NULL, updated_at TEXT NOT NULL,
            seq INTEGER NOT NULL)"""
    )
    for cols in ("nik", "seq", "status", "kelurahan_code", "kecamatan_code", "cohort",
                 "event_id", "occupation_code", "member_number"):
        db.execute(f"CREATE INDEX registrations_{cols} ON registrations({cols})")
    db.execute(
        """CREATE TABLE versions (
            record_id TEXT NOT NULL, version INTEGER NOT NULL, content_hash TEXT NOT NULL,
            base_version INTEGER NOT NULL, device_id TEXT NOT NULL, outcome TEXT NOT NULL,
            duplicate_of TEXT, data TEXT NOT NULL, batch_id TEXT NOT NULL,
            received_at TEXT NOT NULL,
            PRIMARY KEY (record_id, version, content_hash))"""
    )
    db.execute(
        """CREATE TABLE batches (
            device_id TEXT NOT NULL, batch_id TEXT NOT NULL, body_hash TEXT NOT NULL,
            response TEXT NOT NULL, received_at TEXT NOT NULL,
            PRIMARY KEY (device_id, batch_id))"""
    )
    db.execute(
        """CREATE TABLE pushed (
            device_id TEXT NOT NULL, record_id TEXT NOT NULL, first_at TEXT NOT NULL,
            PRIMARY KEY (device_id, record_id))"""
    )
    db.execute(
        """CREATE TABLE pulls (
            device_id TEXT NOT NULL, from_seq INTEGER NOT NULL, to_seq INTEGER NOT NULL,
            with_credentials INTEGER NOT NULL, at TEXT NOT NULL)"""
    )
    db.execute("CREATE INDEX pulls_device ON pulls(device_id)")
    db.execute(
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY, record_id TEXT NOT NULL, event TEXT NOT NULL,
            at TEXT NOT NULL, device_id TEXT NOT NULL, operator TEXT NOT NULL DEFAULT '',
            by TEXT NOT NULL, reason_code TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL DEFAULT '')"""
    )
    db.execute("CREATE INDEX events_record ON events(record_id)")
    db.execute(
        """CREATE TABLE cards (
            serial INTEGER NOT NULL, card_version INTEGER NOT NULL, record_id TEXT NOT NULL,
            member_number TEXT NOT NULL, name TEXT NOT NULL, cohort TEXT NOT NULL,
            valid_from TEXT NOT NULL, valid_until TEXT NOT NULL, key_id TEXT NOT NULL,
            qr TEXT NOT NULL, issued_at TEXT NOT NULL, printed_at TEXT, handed_over_at TEXT,
            received_by TEXT NOT NULL DEFAULT '', revoked_at TEXT, seq INTEGER NOT NULL,
            PRIMARY KEY (serial, card_version))"""
    )
    db.execute("CREATE INDEX cards_record ON cards(record_id)")
    db.execute("CREATE INDEX cards_seq ON cards(seq)")
    db.execute(
        """CREATE TABLE revocations (
            seq INTEGER PRIMARY KEY, record_id TEXT NOT NULL, serial INTEGER NOT NULL,
            card_version INTEGER NOT NULL, at TEXT NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE quotas (
            programme_year INTEGER NOT NULL, cohort TEXT NOT NULL, places INTEGER NOT NULL,
            updated_at TEXT NOT NULL, PRIMARY KEY (programme_year, cohort))"""
    )
    db.execute(
        """CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)"""
    )


@MIGRATIONS(name="0002_seen")
def _m0002_seen(db: Database) -> None:
    # Registrations a verifier or card desk device was shown (list rows, full records), for the
    # breach notice: reads hold personal data as much as pushes and pulls do.
    db.execute(
        """CREATE TABLE seen (
            device_id TEXT NOT NULL, record_id TEXT NOT NULL, how TEXT NOT NULL,
            first_at TEXT NOT NULL, PRIMARY KEY (device_id, record_id, how))"""
    )


@MIGRATIONS(name="0003_kegiatan")
def _m0003_kegiatan(db: Database) -> None:
    # Kegiatan (registration drives) the pushed registrations refer to, by the id the device
    # made (UUIDv7, globally unique), so that every device can show their names. `device_id` is
    # the device that first sent it: only that device may change it. (The `events` table holds
    # status changes; it is another thing.)
    db.execute(
        """CREATE TABLE kegiatan (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, held_on TEXT,
            kelurahan_code TEXT NOT NULL DEFAULT '', device_id TEXT NOT NULL,
            received_at TEXT NOT NULL, updated_at TEXT NOT NULL)"""
    )


@MIGRATIONS(name="0004_reprint_requests")
def _m0004_reprint_requests(db: Database) -> None:
    # The reprints applied under a client's `request_id` (docs/SYNC_API.md §7), so that a request
    # repeated after its answer was lost gets the same answer instead of 409 card.not_current.
    # Scoped to the device, like push batches. `body_hash` is the request as first applied (a
    # different request under the same id is refused); `card_version` the version it made.
    db.execute(
        """CREATE TABLE reprint_requests (
            device_id TEXT NOT NULL, request_id TEXT NOT NULL, record_id TEXT NOT NULL,
            body_hash TEXT NOT NULL, serial INTEGER NOT NULL, card_version INTEGER NOT NULL,
            at TEXT NOT NULL, PRIMARY KEY (device_id, request_id))"""
    )


@MIGRATIONS(name="0005_trust")
def _m0005_trust(db: Database) -> None:
    # A correction of a decided registration waits here until a verifier decides it: the current
    # columns and `data` stay what cards, lists and exports use. `seen_version` is the highest
    # version the owner sent that the server answered for (a rejected correction's too), so the
    # owner's device knows its status applies to what it holds. `card_outdated`: an approved
    # correction changed what the card prints; the card desk reprints it.
    for column in ("pending_version INTEGER", "pending_data TEXT", "pending_device_id TEXT",
                   "pending_at TEXT", "seen_version INTEGER",
                   "card_outdated INTEGER NOT NULL DEFAULT 0"):
        db.execute(f"ALTER TABLE registrations ADD COLUMN {column}")
    db.execute("CREATE INDEX registrations_pending ON registrations(pending_version) "
               "WHERE pending_version IS NOT NULL")
    db.execute("CREATE INDEX registrations_device ON registrations(device_id)")
    # Who did it: the logged-in operator's username next to the display name (`operator`), and
    # the version a correction event is about.
    db.execute("ALTER TABLE events ADD COLUMN operator_username TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE events ADD COLUMN version INTEGER")


@MIGRATIONS(name="0006_transfers")
def _m0006_transfers(db: Database) -> None:
    # An admin's move of every registration of a replaced laptop to its successor: one row per
    # transfer (the audit), one per registration moved (a pull item for the two devices).
    db.execute(
        """CREATE TABLE transfers (
            id TEXT PRIMARY KEY, from_device_id TEXT NOT NULL, to_device_id TEXT NOT NULL,
            records INTEGER NOT NULL, at TEXT NOT NULL, device_id TEXT NOT NULL,
            operator_username TEXT NOT NULL, operator TEXT NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE transferred (
            seq INTEGER PRIMARY KEY, transfer_id TEXT NOT NULL, record_id TEXT NOT NULL,
            from_device_id TEXT NOT NULL, to_device_id TEXT NOT NULL, at TEXT NOT NULL)"""
    )
    db.execute("CREATE INDEX transferred_from ON transferred(from_device_id, seq)")
    db.execute("CREATE INDEX transferred_to ON transferred(to_device_id, seq)")


@MIGRATIONS(name="0007_enrol_answers")
def _m0007_enrol_answers(db: Database) -> None:
    # The answer to an enrolment, kept for a short while (server/auth.py ENROL_ANSWER_LIFETIME)
    # under the code and the device's own request id, so that a device whose answer was lost
    # gets the same device and token on a retry. The token is sealed with a key derived from
    # the request id, which only the device knows: a copy of this table opens nothing.
    db.execute(
        """CREATE TABLE enrol_answers (
            code_hash TEXT NOT NULL, request_hash TEXT NOT NULL, device_id TEXT NOT NULL,
            sealed_token TEXT NOT NULL, answered_at TEXT NOT NULL,
            PRIMARY KEY (code_hash, request_hash))"""
    )


@MIGRATIONS(name="0008_dashboard")
def _m0008_dashboard(db: Database) -> None:
    # Officials' accounts for the browser dashboard (server/dashboard/): people, not devices, so
    # a table of their own. scrypt hashes; `locked_until` after repeated failed log-ins.
    db.execute(
        """CREATE TABLE dashboard_users (
            username TEXT PRIMARY KEY, display_name TEXT NOT NULL, role TEXT NOT NULL,
            password_hash TEXT NOT NULL, failed_attempts INTEGER NOT NULL DEFAULT 0,
            locked_until TEXT NOT NULL DEFAULT '', disabled_at TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"""
    )
    # Only the SHA-256 of a session token is kept: a copy of the database opens no session.
    db.execute(
        """CREATE TABLE dashboard_sessions (
            token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, csrf_token TEXT NOT NULL,
            created_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, expires_at TEXT NOT NULL)"""
    )
    db.execute("CREATE INDEX dashboard_sessions_user ON dashboard_sessions(username)")
    # One narrow row per registration with what the dashboard counts, kept up to date from
    # registrations.seq (every change gives a row a new seq), so that counting 228,000
    # registrations scans a few megabytes instead of every record's JSON.
    db.execute(
        """CREATE TABLE dashboard_facts (
            record_id TEXT PRIMARY KEY, year INTEGER NOT NULL, kecamatan TEXT NOT NULL,
            kelurahan TEXT NOT NULL, cohort TEXT NOT NULL, occupation TEXT NOT NULL,
            event_id TEXT NOT NULL, sex TEXT NOT NULL, birth_date TEXT NOT NULL,
            stage INTEGER NOT NULL, status TEXT NOT NULL, reason_code TEXT NOT NULL,
            duplicate INTEGER NOT NULL, conflict INTEGER NOT NULL, income INTEGER,
            cover_start TEXT NOT NULL, cover_end TEXT NOT NULL, device_id TEXT NOT NULL,
            received_on TEXT NOT NULL, received_week TEXT NOT NULL, seq INTEGER NOT NULL)"""
    )
    db.execute("CREATE INDEX dashboard_facts_year ON dashboard_facts(year, kelurahan, stage)")


@MIGRATIONS(name="0009_programme_office")
def _m0009_programme_office(db: Database) -> None:
    # The programme office's audit (server/office.py): exports to BPJS, KPJ imports, PDP copies
    # and erasures' tombstones. Never personal fields: counts, hashes, record ids, who and when.
    db.execute(
        """CREATE TABLE office_audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, action TEXT NOT NULL,
            record_id TEXT NOT NULL DEFAULT '', device_id TEXT NOT NULL DEFAULT '',
            operator_username TEXT NOT NULL DEFAULT '', operator TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '{}')"""
    )
    db.execute("CREATE INDEX office_audit_action ON office_audit(action, id)")
    # What each member's last export to BPJS said (server/bpjs_export.py): the delta export
    # compares today's state against it. `content_hash` covers the exported columns.
    db.execute(
        """CREATE TABLE bpjs_exported (
            record_id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, state TEXT NOT NULL,
            export_id TEXT NOT NULL, at TEXT NOT NULL)"""
    )
    # KPJ numbers BPJS gave back (server/kpj.py); `seq` is the pull item's sequence.
    db.execute(
        """CREATE TABLE kpj_numbers (
            record_id TEXT PRIMARY KEY, kpj TEXT NOT NULL UNIQUE, start_date TEXT,
            import_id TEXT NOT NULL, at TEXT NOT NULL, seq INTEGER NOT NULL)"""
    )
    db.execute("CREATE INDEX kpj_numbers_seq ON kpj_numbers(seq)")
    # One JKM death claim per member (server/claims.py): the death, the claimant, the
    # documents, submission, payment and hand-over. Each step is also an event devices pull.
    db.execute(
        """CREATE TABLE claims (
            record_id TEXT PRIMARY KEY, died_on TEXT NOT NULL, death_place TEXT NOT NULL,
            certificate_no TEXT NOT NULL, reported_by TEXT NOT NULL, recorded_at TEXT NOT NULL,
            claimant_name TEXT NOT NULL DEFAULT '', claimant_relationship TEXT NOT NULL DEFAULT '',
            claimant_heir INTEGER, claimant_reason TEXT NOT NULL DEFAULT '',
            documents TEXT NOT NULL DEFAULT '{}', submitted_on TEXT, submission_ref TEXT NOT NULL
            DEFAULT '', paid_on TEXT, amount INTEGER, handed_over_on TEXT,
            handed_to TEXT NOT NULL DEFAULT '', stage TEXT NOT NULL, updated_at TEXT NOT NULL)"""
    )
    db.execute("CREATE INDEX claims_stage ON claims(stage)")
    # Why a card was revoked (meninggal, persetujuan ditarik, a reprint): devices keep it.
    db.execute("ALTER TABLE revocations ADD COLUMN reason TEXT NOT NULL DEFAULT ''")


@MIGRATIONS(name="0010_pdp")
def _m0010_pdp(db: Database) -> None:
    # A person's PDP requests (server/pdp.py): the withdrawal of consent (membership ends at the
    # end of the paid month) and the erasure of personal fields, which every device pulls
    # (`erasure` items, by sequence) and applies to its own copy.
    db.execute(
        """CREATE TABLE withdrawals (
            record_id TEXT PRIMARY KEY, received_on TEXT NOT NULL, ends_on TEXT NOT NULL,
            at TEXT NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE erasures (
            seq INTEGER PRIMARY KEY, record_id TEXT NOT NULL UNIQUE, at TEXT NOT NULL)"""
    )


@MIGRATIONS(name="0011_device_outbox")
def _m0011_device_outbox(db: Database) -> None:
    # What each device last said was still waiting in its outbox (the optional `pending` of a
    # pull), and when: the dashboard's count of registrations held on silent devices.
    db.execute(
        """CREATE TABLE device_outbox (
            device_id TEXT PRIMARY KEY, pending INTEGER NOT NULL, at TEXT NOT NULL)"""
    )


class Store:
    """The server's database file. Thread-safe: one write lock, one reader connection per
    thread."""

    def __init__(self, data_dir: Path | str):
        self.data_dir = Path(data_dir)
        private_dir(self.data_dir)
        self.path = self.data_dir / DB_FILE
        # Registrations and token hashes: the owner's alone (SQLite gives -wal and -shm the
        # database file's mode).
        private_file(self.path)
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[Database] = []
        self._writer = self._connect()
        MIGRATIONS.apply(self._writer)
        self._nik_key = self._ensure_nik_key()

    def _connect(self) -> Database:
        conn = sqlite3.connect(
            str(self.path), check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
        )
        db = Database(conn)
        db.execute("PRAGMA journal_mode = WAL")
        # An acknowledged push is a promise to the device that it may drop its outbox entry.
        db.execute("PRAGMA synchronous = FULL")
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return db

    def reader(self) -> Database:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._connect()
            db.execute("PRAGMA query_only = ON")
            self._local.db = db
            with self._write_lock:
                self._readers.append(db)
        return db

    @contextlib.contextmanager
    def write(self) -> Iterator[Database]:
        """One write transaction: everything inside commits together or not at all."""
        with self._write_lock:
            db = self._writer
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def close(self) -> None:
        with self._write_lock:
            for db in self._readers:
                db.close()
            self._readers.clear()
            self._writer.close()

    # --- sequence and counters ----------------------------------------------------------

    @staticmethod
    def next_seqs(db: Database, kind: str, record_ids: list[str | None]) -> list[int]:
        """Allocate one pull sequence number per record id (inside a write transaction)."""
        seqs = []
        for record_id in record_ids:
            cur = db.execute("INSERT INTO feed (kind, record_id) VALUES (?, ?)", [kind, record_id])
            seqs.append(cur.lastrowid)
        return seqs

    @staticmethod
    def bump_counter(db: Database, name: str) -> int:
        row = db.execute(
            "INSERT INTO counters (name, value) VALUES (?, 1) "
            "ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
            [name],
        ).fetchone()
        return row[0]

    # --- settings and the NIK hash key --------------------------------------------------

    def _ensure_nik_key(self) -> bytes:
        with self.write() as db:
            row = db.execute("SELECT value FROM settings WHERE name = 'nik_hash_key'").fetchone()
            if row is None:
                value = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
                db.execute("INSERT INTO settings VALUES ('nik_hash_key', ?)", [value])
            else:
                value = row[0]
        return base64.b64decode(value)

    @property
    def nik_hash_key(self) -> bytes:
        return self._nik_key

    @property
    def nik_hash_key_id(self) -> str:
        return hashlib.sha256(self._nik_key).hexdigest()[:8]

    def nik_hash(self, nik: str) -> str:
        return nik_hash(self._nik_key, nik)


def nik_hash(key: bytes, nik: str) -> str:
    """docs/SYNC_API.md §3: lowercase hex of the first 16 bytes of HMAC-SHA256(key, nik)."""
    return hmac.new(key, nik.encode("ascii", "replace"), hashlib.sha256).digest()[:16].hex()
