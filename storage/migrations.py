"""The schema of the local registry, as one ordered set of sqlite-utils migrations.

Append new migrations at the end; never edit one that has been applied (devices in the field hold
databases at every earlier version, and tests/test_migrations.py migrates from each of them).
Each migration is a small function that runs inside its own transaction.
"""

from __future__ import annotations

import json

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("jamsos_registry")

# The occupations 0001_core writes into a new database: a frozen copy of what it read from the
# programme configuration (resources/config/program.json, its last version) until the schema
# stopped reading the app's files. Never edit it: a database made today must be the same as one
# made by earlier versions of the app. A later occupation list reaches a device through its own
# migration or `Registry.save_occupation`, never through this table.
OCCUPATIONS_0001 = (
    ("ojek_pangkalan", "Ojek pangkalan", True),
    ("ojek_online", "Ojek online", True),
    ("sopir", "Sopir / pengemudi angkutan", True),
    ("pedagang_kaki_lima", "Pedagang kaki lima", False),
    ("pedagang_keliling", "Pedagang keliling", False),
    ("umkm", "Pelaku usaha mikro (UMKM)", False),
    ("tukang_bangunan", "Tukang bangunan", False),
    ("buruh_harian_lepas", "Buruh harian lepas", False),
    ("tukang_parkir", "Tukang parkir", False),
    ("nelayan", "Nelayan", False),
    ("petani", "Petani", False),
    ("pekerja_rentan_lainnya", "Pekerja rentan lainnya", False),
    ("imam", "Imam masjid", False),
    ("marbot", "Marbot", False),
    ("bilal", "Bilal / muazin", False),
    ("khatib", "Khatib", False),
    ("guru_ngaji", "Guru ngaji", False),
    ("petugas_keagamaan_lainnya", "Petugas keagamaan lainnya", False),
)


def _seed_occupations() -> list[dict]:
    return [{"code": c, "name": n, "is_transport": int(t), "active": 1}
            for c, n, t in OCCUPATIONS_0001]


@MIGRATIONS(name="0001_core")
def m0001_core(db: Database) -> None:
    # The current version of each registration; `seq` is the local save order (never the clock).
    db.execute(
        """CREATE TABLE workers (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE,
            version INTEGER NOT NULL,
            nik TEXT NOT NULL,
            full_name TEXT NOT NULL,
            name_key TEXT NOT NULL DEFAULT '',
            birth_date TEXT,
            sex TEXT NOT NULL DEFAULT '',
            kecamatan_code TEXT NOT NULL DEFAULT '',
            kelurahan_code TEXT NOT NULL DEFAULT '',
            occupation_code TEXT NOT NULL DEFAULT '',
            cohort TEXT NOT NULL DEFAULT '',
            event_id TEXT,
            status TEXT NOT NULL,
            member_number TEXT NOT NULL DEFAULT '',
            device_id TEXT NOT NULL DEFAULT '',
            operator TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL DEFAULT '',
            data TEXT NOT NULL
        )"""
    )
    # Every saved version; never updated or deleted.
    db.execute(
        """CREATE TABLE worker_versions (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            record_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            operator TEXT NOT NULL DEFAULT '',
            saved_at TEXT NOT NULL DEFAULT '',
            data TEXT NOT NULL,
            UNIQUE (record_id, version)
        )"""
    )
    db.execute(
        """CREATE TABLE heirs (
            record_id TEXT NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            relationship TEXT NOT NULL DEFAULT '',
            phone TEXT NOT NULL DEFAULT '',
            nik TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (record_id, position)
        ) WITHOUT ROWID"""
    )
    db.execute(
        """CREATE TABLE events (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            held_on TEXT,
            kelurahan_code TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL DEFAULT ''
        )"""
    )
    db.execute(
        """CREATE TABLE occupations (
            code TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            is_transport INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 1
        )"""
    )
    db["occupations"].insert_all(_seed_occupations(), pk="code", replace=True)
    # Append-only: each entry carries the hash of the one before it.
    db.execute(
        """CREATE TABLE audit_log (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            device_id TEXT NOT NULL,
            operator TEXT NOT NULL,
            action TEXT NOT NULL,
            entity TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            detail TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )"""
    )
    for op in ("UPDATE", "DELETE"):
        db.execute(
            f"""CREATE TRIGGER audit_log_no_{op.lower()} BEFORE {op} ON audit_log
            BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"""
        )
    # One entry per saved version, until the server has answered for it.
    db.execute(
        """CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            record_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL DEFAULT '',
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT NOT NULL DEFAULT '',
            UNIQUE (record_id, version)
        )"""
    )
    # Registrations the device knows from the server (other devices' too). Only a keyed hash
    # of their NIK travels: laptops must not collect the whole city's NIKs.
    db.execute(
        """CREATE TABLE known_registrations (
            id TEXT PRIMARY KEY,
            nik_hash TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT 'server',
            updated_at TEXT NOT NULL DEFAULT ''
        )"""
    )
    db.execute(
        """CREATE TABLE drafts (
            key TEXT PRIMARY KEY,
            data TEXT NOT NULL,
            updated_at TEXT NOT NULL DEFAULT ''
        )"""
    )
    db.execute("CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
    # The plain-NIK index of the device's own records and the duplicate lookups.
    db.execute("CREATE INDEX idx_workers_nik ON workers (nik)")
    db.execute("CREATE INDEX idx_known_nik_hash ON known_registrations (nik_hash)")


@MIGRATIONS(name="0002_search")
def m0002_search(db: Database) -> None:
    # Name search: FTS5 kept in sync with workers by triggers (same transaction as the save).
    # Lists order by save sequence, never by rank: no positions or column sizes are needed,
    # which keeps each save's write small.
    db.execute(
        """CREATE VIRTUAL TABLE workers_fts USING fts5 (
            full_name, content='workers', content_rowid='rowid',
            tokenize='unicode61 remove_diacritics 2', detail='none', columnsize=0
        )"""
    )
    db.execute(
        """CREATE TRIGGER workers_fts_ai AFTER INSERT ON workers BEGIN
            INSERT INTO workers_fts (rowid, full_name) VALUES (new.rowid, new.full_name);
        END"""
    )
    db.execute(
        """CREATE TRIGGER workers_fts_ad AFTER DELETE ON workers BEGIN
            INSERT INTO workers_fts (workers_fts, rowid, full_name)
            VALUES ('delete', old.rowid, old.full_name);
        END"""
    )
    db.execute(
        """CREATE TRIGGER workers_fts_au AFTER UPDATE OF full_name ON workers BEGIN
            INSERT INTO workers_fts (workers_fts, rowid, full_name)
            VALUES ('delete', old.rowid, old.full_name);
            INSERT INTO workers_fts (rowid, full_name) VALUES (new.rowid, new.full_name);
        END"""
    )
    db.execute("INSERT INTO workers_fts (workers_fts) VALUES ('rebuild')")
    # Lists are ordered by save sequence, newest first; each filter has its own ordered index.
    db.execute("CREATE INDEX idx_workers_kelurahan ON workers (kelurahan_code, seq)")
    db.execute("CREATE INDEX idx_workers_event ON workers (event_id, seq)")
    db.execute("CREATE INDEX idx_workers_status ON workers (status, seq)")
    db.execute("CREATE INDEX idx_workers_birth_date ON workers (birth_date)")
    db.execute("CREATE INDEX idx_workers_created ON workers (created_at)")


@MIGRATIONS(name="0003_cards")
def m0003_cards(db: Database) -> None:
    # Card records (cards/desk.py). One row per card version; a reprint adds a version.
    db.execute(
        """CREATE TABLE cards (
            serial INTEGER NOT NULL,
            version INTEGER NOT NULL,
            registration_id TEXT NOT NULL,
            member_number TEXT NOT NULL,
            key_id TEXT NOT NULL,
            valid_from TEXT NOT NULL,
            valid_until TEXT NOT NULL,
            credential TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT 'server',
            issued_at TEXT NOT NULL DEFAULT '',
            printed_at TEXT,
            printed_by TEXT NOT NULL DEFAULT '',
            handed_over_at TEXT,
            handed_over_to TEXT NOT NULL DEFAULT '',
            handed_over_by TEXT NOT NULL DEFAULT '',
            reprint_reason TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (serial, version)
        )"""
    )
    db.execute("CREATE INDEX idx_cards_registration ON cards (registration_id, version)")
    db.execute(
        """CREATE TABLE card_revocations (
            serial INTEGER NOT NULL,
            version INTEGER NOT NULL,
            revoked_at TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (serial, version)
        )"""
    )
    # Card steps made at this desk, until the server has acknowledged them.
    db.execute(
        """CREATE TABLE card_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            registration_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            card_version INTEGER NOT NULL,
            operator TEXT NOT NULL DEFAULT '',
            at TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}',
            sent INTEGER NOT NULL DEFAULT 0
        )"""
    )


@MIGRATIONS(name="0004_sync")
def m0004_sync(db: Database) -> None:
    # Device-side sync state (sync/state.py): pull cursor, token and device id from enrolment.
    db.execute("CREATE TABLE sync_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    # The push batch in flight: retried under the same id until the server answers it.
    db.execute(
        """CREATE TABLE sync_batch (
            batch_id TEXT PRIMARY KEY,
            seqs TEXT NOT NULL,
            created_at TEXT NOT NULL
        )"""
    )
    # The server's latest answer per record: rejected (with field errors), duplicate, conflict.
    db.execute(
        """CREATE TABLE sync_answers (
            record_id TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            outcome TEXT NOT NULL,
            errors TEXT NOT NULL DEFAULT '[]',
            duplicate_of TEXT NOT NULL DEFAULT '',
            answered_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX idx_sync_answers_outcome ON sync_answers (outcome)")


@MIGRATIONS(name="0005_search_by_seq")
def m0005_search_by_seq(db: Database) -> None:
    # The name index keyed by the save sequence instead of the rowid: a search then reads its
    # matches newest first straight from the index and stops after one page, instead of
    # sorting every match (a common first name matches thousands of 228,000 workers).
    # Prefix indexes for one to three letters: "budi sa" must not merge every term in "sa…".
    for trigger in ("workers_fts_ai", "workers_fts_ad", "workers_fts_au"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute("DROP TABLE IF EXISTS workers_fts")
    db.execute(
        """CREATE VIRTUAL TABLE workers_fts USING fts5 (
            full_name, content='workers', content_rowid='seq',
            tokenize='unicode61 remove_diacritics 2', detail='none', columnsize=0,
            prefix='1 2 3'
        )"""
    )
    db.execute(
        """CREATE TRIGGER workers_fts_ai AFTER INSERT ON workers BEGIN
            INSERT INTO workers_fts (rowid, full_name) VALUES (new.seq, new.full_name);
        END"""
    )
    db.execute(
        """CREATE TRIGGER workers_fts_ad AFTER DELETE ON workers BEGIN
            INSERT INTO workers_fts (workers_fts, rowid, full_name)
            VALUES ('delete', old.seq, old.full_name);
        END"""
    )
    db.execute(
        """CREATE TRIGGER workers_fts_au AFTER UPDATE OF seq, full_name ON workers BEGIN
            INSERT INTO workers_fts (workers_fts, rowid, full_name)
            VALUES ('delete', old.seq, old.full_name);
            INSERT INTO workers_fts (rowid, full_name) VALUES (new.seq, new.full_name);
        END"""
    )
    db.execute("INSERT INTO workers_fts (workers_fts) VALUES ('rebuild')")


@MIGRATIONS(name="0006_similar_name_index")
def m0006_similar_name_index(db: Database) -> None:
    # The similar-name check reads every worker born on the same day (about 16 at 228,000
    # workers); with the name key in the index it never touches the wide table rows.
    db.execute("CREATE INDEX idx_workers_birth_name ON workers (birth_date, name_key)")
    db.execute("DROP INDEX IF EXISTS idx_workers_birth_date")


@MIGRATIONS(name="0007_card_holders")
def m0007_card_holders(db: Database) -> None:
    # Who each card belongs to, kept on the card side: a card desk prints and sorts cards of
    # workers it never registered (their details come with the credential in pull). A worker
    # this device registered fills the row itself, and the triggers keep it current when the
    # record is corrected. Only the masked NIK is kept here.
    db.execute(
        """CREATE TABLE card_holders (
            registration_id TEXT PRIMARY KEY,
            full_name TEXT NOT NULL DEFAULT '',
            nik_masked TEXT NOT NULL DEFAULT '',
            cohort TEXT NOT NULL DEFAULT '',
            occupation_code TEXT NOT NULL DEFAULT '',
            kecamatan_code TEXT NOT NULL DEFAULT '',
            kelurahan_code TEXT NOT NULL DEFAULT '',
            event_id TEXT NOT NULL DEFAULT ''
        ) WITHOUT ROWID"""
    )
    # Column and value from a workers row `w`; the NIK masked as storage.models.mask_nik does
    # for the 16-digit NIK a saved record holds.
    holder = {
        "full_name": "{w}.full_name",
        "nik_masked": "CASE WHEN length({w}.nik) = 16 THEN substr({w}.nik, 1, 6) || '******' "
                      "|| substr({w}.nik, 13) ELSE substr('****************', 1, "
                      "length({w}.nik)) END",
        "cohort": "{w}.cohort",
        "occupation_code": "{w}.occupation_code",
        "kecamatan_code": "{w}.kecamatan_code",
        "kelurahan_code": "{w}.kelurahan_code",
        "event_id": "coalesce({w}.event_id, '')",
    }
    values = ", ".join(v.format(w="w") for v in holder.values())
    db.execute(
        f"INSERT INTO card_holders (registration_id, {', '.join(holder)}) "
        f"SELECT w.id, {values} FROM workers w WHERE w.id IN (SELECT registration_id FROM cards)"
    )
    # Cards pulled before this version lack their holder's details: pull again from the start
    # (harmless, docs/SYNC_API.md §5) so that the server sends them.
    if db.execute(
        "SELECT 1 FROM cards WHERE registration_id NOT IN (SELECT id FROM workers) LIMIT 1"
    ).fetchone():
        db.execute("DELETE FROM sync_meta WHERE key = 'pull_cursor'")
    assignments = ", ".join(f"{c} = {v.format(w='new')}" for c, v in holder.items())
    watched = "nik, full_name, cohort, occupation_code, kecamatan_code, kelurahan_code, event_id"
    for name, when in (("insert", "INSERT"), ("update", f"UPDATE OF {watched}")):
        db.execute(
            f"""CREATE TRIGGER card_holders_worker_{name} AFTER {when} ON workers BEGIN
                UPDATE card_holders SET {assignments} WHERE registration_id = new.id;
            END"""
        )


@MIGRATIONS(name="0008_one_copy_per_version")
def m0008_one_copy_per_version(db: Database) -> None:
    # A save used to write the record's JSON three times (history, current row, outbox) and touch
    # 25 pages. The history version is now the only copy: the outbox points at it by its
    # sequence number and the current row keeps only the columns lists and checks read. The
    # server-owned fields (status, reason, member number) live in columns of the current row.
    # No AUTOINCREMENT: history is never deleted, so max + 1 never reuses a number, and the
    # save no longer rewrites sqlite_sequence.
    db.execute(
        """CREATE TABLE worker_versions_new (
            seq INTEGER PRIMARY KEY,
            record_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            operator TEXT NOT NULL DEFAULT '',
            saved_at TEXT NOT NULL DEFAULT '',
            data TEXT NOT NULL,
            UNIQUE (record_id, version)
        )"""
    )
    db.execute("INSERT INTO worker_versions_new SELECT seq, record_id, version, operator, "
               "saved_at, data FROM worker_versions ORDER BY seq")
    # An outbox entry always has its version; should one not, its payload becomes the version.
    db.execute("INSERT OR IGNORE INTO worker_versions_new (record_id, version, saved_at, data) "
               "SELECT record_id, version, created_at, payload FROM outbox ORDER BY seq")
    db.execute("DROP TABLE worker_versions")
    db.execute("ALTER TABLE worker_versions_new RENAME TO worker_versions")

    db.execute(
        """CREATE TABLE outbox_new (
            seq INTEGER PRIMARY KEY REFERENCES worker_versions (seq),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT NOT NULL DEFAULT ''
        )"""
    )
    renumbered = dict(db.execute(
        "SELECT o.seq, v.seq FROM outbox o JOIN worker_versions v "
        "ON v.record_id = o.record_id AND v.version = o.version"
    ).fetchall())
    db.execute("INSERT INTO outbox_new SELECT v.seq, o.attempts, o.last_error FROM outbox o "
               "JOIN worker_versions v ON v.record_id = o.record_id AND v.version = o.version")
    db.execute("DROP TABLE outbox")
    db.execute("ALTER TABLE outbox_new RENAME TO outbox")
    # A push batch in flight names its entries by outbox number: renumber it, so that the retry
    # keeps its batch id (docs/SYNC_API.md §4).
    for batch_id, seqs in db.execute("SELECT batch_id, seqs FROM sync_batch").fetchall():
        moved = [renumbered.get(s, s) for s in json.loads(seqs)]
        db.execute("UPDATE sync_batch SET seqs = ? WHERE batch_id = ?",
                   [json.dumps(moved), batch_id])

    _rebuild_workers(db)
    # Each save adds a small segment to the name index; merging them is left to idle moments
    # (Registry.tidy) instead of the save the operator waits on. Past 64 segments a save merges
    # anyway, so a long run of saves with no pause keeps searches fast.
    db.execute("INSERT INTO workers_fts (workers_fts, rank) VALUES ('automerge', 0)")
    db.execute("INSERT INTO workers_fts (workers_fts, rank) VALUES ('crisismerge', 64)")


def _rebuild_workers(db: Database) -> None:
    """The current row keyed by its save sequence (the rowid, so the list's order needs no index
    of its own), without the JSON copy, with the server's reason in a column."""
    kept = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'workers'"
    ).fetchall()
    for kind, name in db.execute(
        "SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'index') "
        "AND tbl_name = 'workers' AND sql IS NOT NULL"
    ).fetchall():
        db.execute(f"DROP {kind.upper()} {name}")
    # Renaming points heirs' foreign key at workers_v7; heirs is rebuilt against the new table
    # before the old one is dropped, so the drop cascades to nothing.
    db.execute("ALTER TABLE workers RENAME TO workers_v7")
    db.execute(
        """CREATE TABLE workers (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            version INTEGER NOT NULL,
            nik TEXT NOT NULL,
            full_name TEXT NOT NULL,
            name_key TEXT NOT NULL DEFAULT '',
            birth_date TEXT,
            sex TEXT NOT NULL DEFAULT '',
            kecamatan_code TEXT NOT NULL DEFAULT '',
            kelurahan_code TEXT NOT NULL DEFAULT '',
            occupation_code TEXT NOT NULL DEFAULT '',
            cohort TEXT NOT NULL DEFAULT '',
            event_id TEXT,
            status TEXT NOT NULL,
            status_reason TEXT NOT NULL DEFAULT '',
            member_number TEXT NOT NULL DEFAULT '',
            device_id TEXT NOT NULL DEFAULT '',
            operator TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL DEFAULT ''
        )"""
    )
    columns = ("seq, id, version, nik, full_name, name_key, birth_date, sex, kecamatan_code, "
               "kelurahan_code, occupation_code, cohort, event_id, status, member_number, "
               "device_id, operator, created_at, updated_at")
    db.execute(
        f"INSERT INTO workers ({columns}, status_reason) SELECT {columns}, "
        "coalesce(json_extract(data, '$.status_reason'), '') FROM workers_v7 ORDER BY seq"
    )
    db.execute(
        """CREATE TABLE heirs_new (
            record_id TEXT NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            relationship TEXT NOT NULL DEFAULT '',
            phone TEXT NOT NULL DEFAULT '',
            nik TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (record_id, position)
        ) WITHOUT ROWID"""
    )
    db.execute("INSERT INTO heirs_new SELECT * FROM heirs")
    db.execute("DROP TABLE heirs")
    db.execute("ALTER TABLE heirs_new RENAME TO heirs")
    db.execute("DROP TABLE workers_v7")
    # An index on (x) holds the rowid after x: filtered lists read newest first from it.
    for name, column in (("nik", "nik"), ("kelurahan", "kelurahan_code"), ("event", "event_id"),
                         ("status", "status"), ("birth_name", "birth_date, name_key"),
                         ("created", "created_at")):
        db.execute(f"CREATE INDEX idx_workers_{name} ON workers ({column})")
    for (sql,) in kept:
        db.execute(sql)


@MIGRATIONS(name="0009_operators")
def m0009_operators(db: Database) -> None:
    # The people who may use this device (DESIGN.md §7): log-in, lockout, roles. The password
    # is kept only as a salted scrypt hash with its parameters ("scrypt$n$r$p$salt$hash").
    # Times are ISO 8601 in UTC; locked_until is empty when the account is not locked.
    db.execute(
        """CREATE TABLE operators (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE COLLATE NOCASE,
            display_name TEXT NOT NULL,
            role TEXT NOT NULL
                CHECK (role IN ('petugas', 'verifikator', 'loket_kartu', 'admin')),
            password_hash TEXT NOT NULL,
            failed_attempts INTEGER NOT NULL DEFAULT 0,
            locked_until TEXT NOT NULL DEFAULT '',
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            password_changed_at TEXT NOT NULL DEFAULT ''
        )"""
    )


@MIGRATIONS(name="0010_record_trust")
def m0010_record_trust(db: Database) -> None:
    # What the server says about records this device holds (storage/trust.py): its own records
    # an admin moved to another device (no longer its own: the server refuses its versions),
    # and members whose card an approved correction made outdated (the card desk reprints).
    db.execute(
        """CREATE TABLE transferred_records (
            record_id TEXT PRIMARY KEY,
            to_device_id TEXT NOT NULL,
            at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE card_reprints_due (
            record_id TEXT PRIMARY KEY,
            at TEXT NOT NULL
        )"""
    )


@MIGRATIONS(name="0013_import_mappings")
def m0013_import_mappings(db: Database) -> None:
    # The column mapping an operator chose for a list (storage/import_mapping.py), keyed by the
    # fingerprint of the list's header row, so the next list from the same source is mapped the
    # same way. Only header labels and the file name are kept, never a row.
    db.execute(
        """CREATE TABLE import_mappings (
            fingerprint TEXT PRIMARY KEY,
            headers TEXT NOT NULL,
            mapping TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            used_at TEXT NOT NULL
        )"""
    )


@MIGRATIONS(name="0014_programme_office")
def m0014_programme_office(db: Database) -> None:
    # What the programme office tells devices in pull (storage/programme.py): BPJS's KPJ
    # number of a member, the steps of a death claim and of a person's PDP requests (as the
    # events say them: no certificate numbers or claimants' names), and the records whose
    # personal fields were erased here after the server erased them.
    db.execute(
        """CREATE TABLE member_kpj (
            record_id TEXT PRIMARY KEY,
            kpj TEXT NOT NULL,
            start_date TEXT NOT NULL DEFAULT '',
            at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE office_steps (
            record_id TEXT NOT NULL,
            event TEXT NOT NULL,
            at TEXT NOT NULL,
            by TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (record_id, event, at)
        ) WITHOUT ROWID"""
    )
    db.execute(
        """CREATE TABLE erased_records (
            record_id TEXT PRIMARY KEY,
            at TEXT NOT NULL
        )"""
    )


NAME_PREFIX_LENGTHS = 20  # the name index keeps prefixes of 1 to this many letters (0015)


@MIGRATIONS(name="0015_name_prefixes")
def m0015_name_prefixes(db: Database) -> None:
    # A search word is a prefix ("siti" finds Siti and Sitiah). FTS5 reads the matches of a
    # prefix it has a prefix index for newest first and stops after the page; for any other
    # length it first gathers every row with a word starting so: 21,000 rows for "siti" at
    # 1,000,000 workers, 4-5 ms and growing with the registry. Prefix indexes for every length
    # a name's word has keep a search's cost flat (the index grows by about 70%, a save by
    # nothing measurable). Same table, triggers and content; only the prefix option differs.
    db.execute("DROP TABLE workers_fts")  # the triggers on workers name it and stay
    lengths = " ".join(str(n) for n in range(1, NAME_PREFIX_LENGTHS + 1))
    db.execute(
        f"""CREATE VIRTUAL TABLE workers_fts USING fts5 (
            full_name, content='workers', content_rowid='seq',
            tokenize='unicode61 remove_diacritics 2', detail='none', columnsize=0,
            prefix='{lengths}'
        )"""
    )
    db.execute("INSERT INTO workers_fts (workers_fts) VALUES ('rebuild')")
    db.execute("INSERT INTO workers_fts (workers_fts) VALUES ('optimize')")  # one segment
    # As 0008 set them (the settings live in the table dropped above).
    db.execute("INSERT INTO workers_fts (workers_fts, rank) VALUES ('automerge', 0)")
    db.execute("INSERT INTO workers_fts (workers_fts, rank) VALUES ('crisismerge', 64)")

# Append new migrations above this line, at the end of the set; never edit an applied one.


def migration_names() -> list[str]:
    """Names of every migration this code knows, in order."""
    return [m.name for m in MIGRATIONS.pending(Database(memory=True))]
