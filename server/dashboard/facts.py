"""The dashboard's narrow copy of the registrations (`dashboard_facts`, migration 0008).

Every change to a registration gives its row a new `seq` (server/registrations.py `touch`), so
bringing the copy up to date reads only the rows whose `seq` passed the last one copied. The
copy holds what is counted (place, cohort, occupation, kegiatan, sex, birth date, how far the
registration went) and nothing that names a person.

`stage` is how far a registration went, so that a funnel stage counts everyone at it or beyond:
0 rejected, 1 received (waiting, or any state before verification), 2 verified, 3 funded (a
member number, whatever happened since), 4 card printed, 5 card handed over.
"""

from __future__ import annotations

from server.database import json_text, week_start
from server.store import Store

MARK = "dashboard_facts_seq"  # in `settings`: the highest registrations.seq copied
FACTS_LOCK = "dashboard:facts"  # one refresh at a time (Store.lock, PostgreSQL)
LAYOUT_KEY, LAYOUT = "dashboard_facts_layout", "2"
CHUNK = 5000  # registrations copied per write transaction
# Covering indexes, one per way the dashboard groups a whole year, so that each count reads an
# index in order (no sort, no table row). The copy is a cache the dashboard owns: its indexes
# are made here, once (`LAYOUT` says which set the database has), not in a migration.
INDEXES = {
    "dashboard_facts_area": "year, kecamatan, kelurahan, stage",
    "dashboard_facts_cohort": "year, cohort, stage",
    "dashboard_facts_sex": "year, sex, stage",
    "dashboard_facts_age": "year, stage, birth_date",
    "dashboard_facts_occupation": "year, occupation, event_id, stage",
    "dashboard_facts_week": "year, received_week",
    "dashboard_facts_cover": "year, cover_start, stage",
    "dashboard_facts_work": "year, stage, reason_code, status, duplicate, conflict",
    "dashboard_facts_budget": "year, cohort, occupation, income, cover_start, cover_end, stage",
}
STAGES = ("recorded", "received", "verified", "funded", "card_printed", "card_handed_over")

# The programme year of a registration: the year it is funded for, or, before funding, the
# year the server received it.
_COLUMNS = ("record_id, year, kecamatan, kelurahan, cohort, occupation, event_id, sex, "
            "birth_date, stage, status, reason_code, duplicate, conflict, income, cover_start, "
            "cover_end, device_id, received_on, received_week, seq")
_REPLACE = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS.split(", ")[1:])


def _copy_sql(db) -> str:
    """Copy registrations with seq in (?, ?] into their facts, replacing older copies."""
    income = f"NULLIF({json_text(db, 'data', 'monthly_income')}, '')"
    return f"""
INSERT INTO dashboard_facts ({_COLUMNS})
SELECT id,
       COALESCE(programme_year, CAST(substr(received_at, 1, 4) AS INTEGER)),
       kecamatan_code, kelurahan_code, cohort, occupation_code, COALESCE(event_id, ''),
       COALESCE({json_text(db, 'data', 'sex')}, ''), COALESCE(birth_date, ''),
       CASE WHEN status = 'rejected' THEN 0
            WHEN status = 'card_handed_over' THEN 5
            WHEN status = 'card_printed' THEN 4
            WHEN member_number != '' THEN 3
            WHEN status = 'verified' THEN 2
            ELSE 1 END,
       status, reason_code, possible_duplicate, conflict,
       CAST(CAST({income} AS NUMERIC) AS INTEGER),
       COALESCE(programme_start, ''), COALESCE(programme_end, ''), device_id,
       substr(received_at, 1, 10), {week_start(db, 'substr(received_at, 1, 10)')},
       seq
FROM registrations WHERE seq > ? AND seq <= ?
ON CONFLICT (record_id) DO UPDATE SET {_REPLACE}"""


def refresh(store: Store) -> int:
    """Copy what changed since the last refresh; returns the registrations.seq now copied.
    Cheap when nothing changed: one indexed MAX and one setting read. A long copy (the first,
    over a server that already holds many registrations) goes in chunks of `CHUNK` rows, each
    its own short write, so that devices' pushes are not held up behind it."""
    db = store.reader()
    latest = db.execute("SELECT COALESCE(MAX(seq), 0) FROM registrations").fetchone()[0]
    if latest == _mark(db) and _same_count(db) and _setting(db, LAYOUT_KEY) == LAYOUT:
        return latest
    if _setting(db, LAYOUT_KEY) != LAYOUT:
        with store.write() as wdb:
            # Several server processes refresh at start: one at a time (PostgreSQL's CREATE
            # INDEX IF NOT EXISTS is not safe against a concurrent one), each reading the
            # others' work once it has the lock.
            Store.lock(wdb, [FACTS_LOCK])
            if _setting(wdb, LAYOUT_KEY) != LAYOUT:
                for name, columns in INDEXES.items():
                    wdb.execute(
                        f"CREATE INDEX IF NOT EXISTS {name} ON dashboard_facts({columns})")
                _put(wdb, LAYOUT_KEY, LAYOUT)
    # Only what every earlier change has committed below (server/store.py): a registration
    # committing late under a lower seq is copied on a later refresh, never skipped.
    horizon = store.horizon()[1]
    while True:
        with store.write() as wdb:
            Store.lock(wdb, [FACTS_LOCK])  # the mark read below is the last one written
            mark = _mark(wdb)
            upto = wdb.execute(
                "SELECT MAX(seq) FROM (SELECT seq FROM registrations WHERE seq > ? AND seq <= ? "
                "ORDER BY seq LIMIT ?) AS chunk", [mark, horizon, CHUNK]).fetchone()[0]
            if upto is None:  # all copied: drop the copies of erased registrations
                if not _same_count(wdb):
                    wdb.execute("DELETE FROM dashboard_facts WHERE record_id NOT IN "
                                "(SELECT id FROM registrations)")
                return mark
            wdb.execute(_copy_sql(wdb), [mark, upto])
            _put(wdb, MARK, str(upto))


def _setting(db, name: str) -> str | None:
    row = db.execute("SELECT value FROM settings WHERE name = ?", [name]).fetchone()
    return row[0] if row else None


def _put(db, name: str, value: str) -> None:
    db.execute("INSERT INTO settings (name, value) VALUES (?, ?) "
               "ON CONFLICT(name) DO UPDATE SET value = excluded.value", [name, value])


def _mark(db) -> int:
    return int(_setting(db, MARK) or 0)


def _same_count(db) -> bool:
    facts = db.execute("SELECT COUNT(*) FROM dashboard_facts").fetchone()[0]
    return facts == db.execute("SELECT COUNT(*) FROM registrations").fetchone()[0]
