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

from server.store import Store

MARK = "dashboard_facts_seq"  # in `settings`: the highest registrations.seq copied
STAGES = ("recorded", "received", "verified", "funded", "card_printed", "card_handed_over")

# The programme year of a registration: the year it is funded for, or, before funding, the
# year the server received it.
_SELECT = """
SELECT id,
       COALESCE(programme_year, CAST(substr(received_at, 1, 4) AS INTEGER)),
       kecamatan_code, kelurahan_code, cohort, occupation_code, COALESCE(event_id, ''),
       COALESCE(json_extract(data, '$.sex'), ''), COALESCE(birth_date, ''),
       CASE WHEN status = 'rejected' THEN 0
            WHEN status = 'card_handed_over' THEN 5
            WHEN status = 'card_printed' THEN 4
            WHEN member_number != '' THEN 3
            WHEN status = 'verified' THEN 2
            ELSE 1 END,
       status, reason_code, possible_duplicate, conflict,
       CAST(json_extract(data, '$.monthly_income') AS INTEGER),
       COALESCE(programme_start, ''), COALESCE(programme_end, ''), device_id,
       substr(received_at, 1, 10), date(substr(received_at, 1, 10), '-6 days', 'weekday 1'),
       seq
FROM registrations WHERE seq > ?"""


def refresh(store: Store) -> int:
    """Copy what changed since the last refresh; returns the registrations.seq now copied.
    Cheap when nothing changed: one indexed MAX and one setting read."""
    db = store.reader()
    latest = db.execute("SELECT COALESCE(MAX(seq), 0) FROM registrations").fetchone()[0]
    if latest == _mark(db) and _same_count(db):
        return latest
    with store.write() as wdb:
        mark = _mark(wdb)
        wdb.execute(f"INSERT OR REPLACE INTO dashboard_facts {_SELECT}", [mark])
        latest = wdb.execute("SELECT COALESCE(MAX(seq), 0) FROM registrations").fetchone()[0]
        if not _same_count(wdb):  # a registration was erased: drop its copy
            wdb.execute("DELETE FROM dashboard_facts WHERE record_id NOT IN "
                        "(SELECT id FROM registrations)")
        wdb.execute("INSERT INTO settings (name, value) VALUES (?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET value = excluded.value", [MARK, str(latest)])
    return latest


def _mark(db) -> int:
    row = db.execute("SELECT value FROM settings WHERE name = ?", [MARK]).fetchone()
    return int(row[0]) if row else 0


def _same_count(db) -> bool:
    facts = db.execute("SELECT COUNT(*) FROM dashboard_facts").fetchone()[0]
    return facts == db.execute("SELECT COUNT(*) FROM registrations").fetchone()[0]
