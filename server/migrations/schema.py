"""The server's schema, one function per Alembic revision (server/migrations/versions/ holds
the revisions that call them). Frozen: an applied migration never changes.

Each statement runs on SQLite and PostgreSQL alike; `run` executes one statement on the
migrating connection, and `run.dialect` names its engine.
"""

from __future__ import annotations


def _serial_key(run) -> str:
    """A never-reused integer key: SQLite's AUTOINCREMENT, PostgreSQL's BIGSERIAL."""
    if run.dialect == "postgresql":
        return "BIGSERIAL PRIMARY KEY"
    return "INTEGER PRIMARY KEY AUTOINCREMENT"


def m0001_core(run) -> None:
    run("""CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)""")
    run(
        """CREATE TABLE devices (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT)"""
    )
    run(
        """CREATE TABLE enrol_codes (
            code_hash TEXT PRIMARY KEY, role TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL, expires_at TEXT NOT NULL, used_at TEXT, device_id TEXT)"""
    )
    # One row per change ever made; its rowid is the pull sequence (AUTOINCREMENT: never reused).
    # Also the memory of which registration each sequence number carried, so that pulled cursor
    # ranges translate into "records this device held".
    run(
        f"""CREATE TABLE feed (
            seq {_serial_key(run)}, kind TEXT NOT NULL, record_id TEXT)"""
    )
    run("CREATE INDEX feed_record ON feed(record_id)")
    run(
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
        run(f"CREATE INDEX registrations_{cols} ON registrations({cols})")
    run(
        """CREATE TABLE versions (
            record_id TEXT NOT NULL, version INTEGER NOT NULL, content_hash TEXT NOT NULL,
            base_version INTEGER NOT NULL, device_id TEXT NOT NULL, outcome TEXT NOT NULL,
            duplicate_of TEXT, data TEXT NOT NULL, batch_id TEXT NOT NULL,
            received_at TEXT NOT NULL,
            PRIMARY KEY (record_id, version, content_hash))"""
    )
    run(
        """CREATE TABLE batches (
            device_id TEXT NOT NULL, batch_id TEXT NOT NULL, body_hash TEXT NOT NULL,
            response TEXT NOT NULL, received_at TEXT NOT NULL,
            PRIMARY KEY (device_id, batch_id))"""
    )
    run(
        """CREATE TABLE pushed (
            device_id TEXT NOT NULL, record_id TEXT NOT NULL, first_at TEXT NOT NULL,
            PRIMARY KEY (device_id, record_id))"""
    )
    run(
        """CREATE TABLE pulls (
            device_id TEXT NOT NULL, from_seq INTEGER NOT NULL, to_seq INTEGER NOT NULL,
            with_credentials INTEGER NOT NULL, at TEXT NOT NULL)"""
    )
    run("CREATE INDEX pulls_device ON pulls(device_id)")
    run(
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY, record_id TEXT NOT NULL, event TEXT NOT NULL,
            at TEXT NOT NULL, device_id TEXT NOT NULL, operator TEXT NOT NULL DEFAULT '',
            "by" TEXT NOT NULL, reason_code TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL DEFAULT '')"""
    )
    run("CREATE INDEX events_record ON events(record_id)")
    run(
        """CREATE TABLE cards (
            serial INTEGER NOT NULL, card_version INTEGER NOT NULL, record_id TEXT NOT NULL,
            member_number TEXT NOT NULL, name TEXT NOT NULL, cohort TEXT NOT NULL,
            valid_from TEXT NOT NULL, valid_until TEXT NOT NULL, key_id TEXT NOT NULL,
            qr TEXT NOT NULL, issued_at TEXT NOT NULL, printed_at TEXT, handed_over_at TEXT,
            received_by TEXT NOT NULL DEFAULT '', revoked_at TEXT, seq INTEGER NOT NULL,
            PRIMARY KEY (serial, card_version))"""
    )
    run("CREATE INDEX cards_record ON cards(record_id)")
    run("CREATE INDEX cards_seq ON cards(seq)")
    run(
        """CREATE TABLE revocations (
            seq INTEGER PRIMARY KEY, record_id TEXT NOT NULL, serial INTEGER NOT NULL,
            card_version INTEGER NOT NULL, at TEXT NOT NULL)"""
    )
    run(
        """CREATE TABLE quotas (
            programme_year INTEGER NOT NULL, cohort TEXT NOT NULL, places INTEGER NOT NULL,
            updated_at TEXT NOT NULL, PRIMARY KEY (programme_year, cohort))"""
    )
    run(
        """CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)"""
    )


def m0002_seen(run) -> None:
    # Registrations a verifier or card desk device was shown (list rows, full records), for the
    # breach notice: reads hold personal data as much as pushes and pulls do.
    run(
        """CREATE TABLE seen (
            device_id TEXT NOT NULL, record_id TEXT NOT NULL, how TEXT NOT NULL,
            first_at TEXT NOT NULL, PRIMARY KEY (device_id, record_id, how))"""
    )


def m0003_kegiatan(run) -> None:
    # Kegiatan (registration drives) the pushed registrations refer to, by the id the device
    # made (UUIDv7, globally unique), so that every device can show their names. `device_id` is
    # the device that first sent it: only that device may change it. (The `events` table holds
    # status changes; it is another thing.)
    run(
        """CREATE TABLE kegiatan (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, held_on TEXT,
            kelurahan_code TEXT NOT NULL DEFAULT '', device_id TEXT NOT NULL,
            received_at TEXT NOT NULL, updated_at TEXT NOT NULL)"""
    )


def m0004_reprint_requests(run) -> None:
    # The reprints applied under a client's `request_id` (docs/SYNC_API.md §7), so that a request
    # repeated after its answer was lost gets the same answer instead of 409 card.not_current.
    # Scoped to the device, like push batches. `body_hash` is the request as first applied (a
    # different request under the same id is refused); `card_version` the version it made.
    run(
        """CREATE TABLE reprint_requests (
            device_id TEXT NOT NULL, request_id TEXT NOT NULL, record_id TEXT NOT NULL,
            body_hash TEXT NOT NULL, serial INTEGER NOT NULL, card_version INTEGER NOT NULL,
            at TEXT NOT NULL, PRIMARY KEY (device_id, request_id))"""
    )


def m0005_trust(run) -> None:
    # A correction of a decided registration waits here until a verifier decides it: the current
    # columns and `data` stay what cards, lists and exports use. `seen_version` is the highest
    # version the owner sent that the server answered for (a rejected correction's too), so the
    # owner's device knows its status applies to what it holds. `card_outdated`: an approved
    # correction changed what the card prints; the card desk reprints it.
    for column in ("pending_version INTEGER", "pending_data TEXT", "pending_device_id TEXT",
                   "pending_at TEXT", "seen_version INTEGER",
                   "card_outdated INTEGER NOT NULL DEFAULT 0"):
        run(f"ALTER TABLE registrations ADD COLUMN {column}")
    run("CREATE INDEX registrations_pending ON registrations(pending_version) "
               "WHERE pending_version IS NOT NULL")
    run("CREATE INDEX registrations_device ON registrations(device_id)")
    # Who did it: the logged-in operator's username next to the display name (`operator`), and
    # the version a correction event is about.
    run("ALTER TABLE events ADD COLUMN operator_username TEXT NOT NULL DEFAULT ''")
    run("ALTER TABLE events ADD COLUMN version INTEGER")


def m0006_transfers(run) -> None:
    # An admin's move of every registration of a replaced laptop to its successor: one row per
    # transfer (the audit), one per registration moved (a pull item for the two devices).
    run(
        """CREATE TABLE transfers (
            id TEXT PRIMARY KEY, from_device_id TEXT NOT NULL, to_device_id TEXT NOT NULL,
            records INTEGER NOT NULL, at TEXT NOT NULL, device_id TEXT NOT NULL,
            operator_username TEXT NOT NULL, operator TEXT NOT NULL)"""
    )
    run(
        """CREATE TABLE transferred (
            seq INTEGER PRIMARY KEY, transfer_id TEXT NOT NULL, record_id TEXT NOT NULL,
            from_device_id TEXT NOT NULL, to_device_id TEXT NOT NULL, at TEXT NOT NULL)"""
    )
    run("CREATE INDEX transferred_from ON transferred(from_device_id, seq)")
    run("CREATE INDEX transferred_to ON transferred(to_device_id, seq)")


def m0007_enrol_answers(run) -> None:
    # The answer to an enrolment, kept for a short while (server/auth.py ENROL_ANSWER_LIFETIME)
    # under the code and the device's own request id, so that a device whose answer was lost
    # gets the same device and token on a retry. The token is sealed with a key derived from
    # the request id, which only the device knows: a copy of this table opens nothing.
    run(
        """CREATE TABLE enrol_answers (
            code_hash TEXT NOT NULL, request_hash TEXT NOT NULL, device_id TEXT NOT NULL,
            sealed_token TEXT NOT NULL, answered_at TEXT NOT NULL,
            PRIMARY KEY (code_hash, request_hash))"""
    )


def m0008_dashboard(run) -> None:
    # Officials' accounts for the browser dashboard (server/dashboard/): people, not devices, so
    # a table of their own. scrypt hashes; `locked_until` after repeated failed log-ins.
    run(
        """CREATE TABLE dashboard_users (
            username TEXT PRIMARY KEY, display_name TEXT NOT NULL, role TEXT NOT NULL,
            password_hash TEXT NOT NULL, failed_attempts INTEGER NOT NULL DEFAULT 0,
            locked_until TEXT NOT NULL DEFAULT '', disabled_at TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"""
    )
    # Only the SHA-256 of a session token is kept: a copy of the database opens no session.
    run(
        """CREATE TABLE dashboard_sessions (
            token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, csrf_token TEXT NOT NULL,
            created_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, expires_at TEXT NOT NULL)"""
    )
    run("CREATE INDEX dashboard_sessions_user ON dashboard_sessions(username)")
    # One narrow row per registration with what the dashboard counts, kept up to date from
    # registrations.seq (every change gives a row a new seq), so that counting 228,000
    # registrations scans a few megabytes instead of every record's JSON.
    run(
        """CREATE TABLE dashboard_facts (
            record_id TEXT PRIMARY KEY, year INTEGER NOT NULL, kecamatan TEXT NOT NULL,
            kelurahan TEXT NOT NULL, cohort TEXT NOT NULL, occupation TEXT NOT NULL,
            event_id TEXT NOT NULL, sex TEXT NOT NULL, birth_date TEXT NOT NULL,
            stage INTEGER NOT NULL, status TEXT NOT NULL, reason_code TEXT NOT NULL,
            duplicate INTEGER NOT NULL, conflict INTEGER NOT NULL, income INTEGER,
            cover_start TEXT NOT NULL, cover_end TEXT NOT NULL, device_id TEXT NOT NULL,
            received_on TEXT NOT NULL, received_week TEXT NOT NULL, seq INTEGER NOT NULL)"""
    )
    run("CREATE INDEX dashboard_facts_year ON dashboard_facts(year, kelurahan, stage)")


def m0009_programme_office(run) -> None:
    # The programme office's audit (server/office.py): exports to BPJS, KPJ imports, PDP copies
    # and erasures' tombstones. Never personal fields: counts, hashes, record ids, who and when.
    run(
        f"""CREATE TABLE office_audit (
            id {_serial_key(run)}, at TEXT NOT NULL, action TEXT NOT NULL,
            record_id TEXT NOT NULL DEFAULT '', device_id TEXT NOT NULL DEFAULT '',
            operator_username TEXT NOT NULL DEFAULT '', operator TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '{{}}')"""
    )
    run("CREATE INDEX office_audit_action ON office_audit(action, id)")
    # What each member's last export to BPJS said (server/bpjs_export.py): the delta export
    # compares today's state against it. `content_hash` covers the exported columns.
    run(
        """CREATE TABLE bpjs_exported (
            record_id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, state TEXT NOT NULL,
            export_id TEXT NOT NULL, at TEXT NOT NULL)"""
    )
    # KPJ numbers BPJS gave back (server/kpj.py); `seq` is the pull item's sequence.
    run(
        """CREATE TABLE kpj_numbers (
            record_id TEXT PRIMARY KEY, kpj TEXT NOT NULL UNIQUE, start_date TEXT,
            import_id TEXT NOT NULL, at TEXT NOT NULL, seq INTEGER NOT NULL)"""
    )
    run("CREATE INDEX kpj_numbers_seq ON kpj_numbers(seq)")
    # One JKM death claim per member (server/claims.py): the death, the claimant, the
    # documents, submission, payment and hand-over. Each step is also an event devices pull.
    run(
        """CREATE TABLE claims (
            record_id TEXT PRIMARY KEY, died_on TEXT NOT NULL, death_place TEXT NOT NULL,
            certificate_no TEXT NOT NULL, reported_by TEXT NOT NULL, recorded_at TEXT NOT NULL,
            claimant_name TEXT NOT NULL DEFAULT '', claimant_relationship TEXT NOT NULL DEFAULT '',
            claimant_heir INTEGER, claimant_reason TEXT NOT NULL DEFAULT '',
            documents TEXT NOT NULL DEFAULT '{}', submitted_on TEXT, submission_ref TEXT NOT NULL
            DEFAULT '', paid_on TEXT, amount INTEGER, handed_over_on TEXT,
            handed_to TEXT NOT NULL DEFAULT '', stage TEXT NOT NULL, updated_at TEXT NOT NULL)"""
    )
    run("CREATE INDEX claims_stage ON claims(stage)")
    # Why a card was revoked (meninggal, persetujuan ditarik, a reprint): devices keep it.
    run("ALTER TABLE revocations ADD COLUMN reason TEXT NOT NULL DEFAULT ''")


def m0010_pdp(run) -> None:
    # A person's PDP requests (server/pdp.py): the withdrawal of consent (membership ends at the
    # end of the paid month) and the erasure of personal fields, which every device pulls
    # (`erasure` items, by sequence) and applies to its own copy.
    run(
        """CREATE TABLE withdrawals (
            record_id TEXT PRIMARY KEY, received_on TEXT NOT NULL, ends_on TEXT NOT NULL,
            at TEXT NOT NULL)"""
    )
    run(
        """CREATE TABLE erasures (
            seq INTEGER PRIMARY KEY, record_id TEXT NOT NULL UNIQUE, at TEXT NOT NULL)"""
    )


def m0011_device_outbox(run) -> None:
    # What each device last said was still waiting in its outbox (the optional `pending` of a
    # pull), and when: the dashboard's count of registrations held on silent devices.
    run(
        """CREATE TABLE device_outbox (
            device_id TEXT PRIMARY KEY, pending INTEGER NOT NULL, at TEXT NOT NULL)"""
    )


# The verifier's list filters by one of these and shows the registrations in arrival order.
LIST_FILTER_COLUMNS = ("status", "kelurahan_code", "kecamatan_code", "cohort", "occupation_code",
                       "event_id")


def m0012_list_indexes(run) -> None:
    # At a province's million registrations a filtered page of the verifier's list walked
    # every match to sort it by arrival (SQLite: 4 s for one status). An index of the filter
    # column followed by `arrival` gives the page in order, and serves every lookup the
    # one-column index it replaces served.
    for column in LIST_FILTER_COLUMNS:
        run(f"DROP INDEX registrations_{column}")
        run(f"CREATE INDEX registrations_{column}_arrival ON registrations({column}, arrival)")
    # A name search (`lower(full_name) LIKE '%…%'`) cannot seek in a B-tree. SQLite scans an
    # index of the names instead of the rows (which carry each record's JSON): about 4× less
    # to read. PostgreSQL finds the matches through a trigram index (pg_trgm, a trusted
    # extension shipped with PostgreSQL); where the extension cannot be created the search
    # still works, by a scan.
    if run.dialect != "postgresql":
        run("CREATE INDEX registrations_full_name ON registrations(full_name)")
        return
    run("""DO $$ BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'pg_trgm unavailable: the name search scans';
        END $$""")
    run("""DO $$ BEGIN
            IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
                CREATE INDEX registrations_full_name_trgm ON registrations
                    USING gin (lower(full_name) gin_trgm_ops);
            END IF;
        END $$""")
