"""The verifier's list at province scale (migration 0012): each filter's page comes in arrival
order from an index, and the name search finds the same registrations through PostgreSQL's
trigram index as by reading every row."""

from __future__ import annotations

import pytest

from server import verifier
from server.migrations.schema import LIST_FILTER_COLUMNS
from server.store import Store

NAMES = ["Siti Aminah", "Budi Santoso", "SITI Rahma", "Nur 100% Siti", "Agus_Siti", "Dewi Lestari",
         "Sitinah Wulan"]


def _index_columns(store: Store) -> dict[str, str]:
    """{index name: its definition} of the registrations table."""
    db = store.reader()
    if store.is_postgresql:
        return dict(db.execute("SELECT indexname, indexdef FROM pg_indexes "
                               "WHERE tablename = 'registrations'").fetchall())
    return {name: sql or "" for name, sql in db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
        "AND tbl_name = 'registrations'").fetchall()}


def _add(store: Store, names: list[str]) -> None:
    with store.write() as db:
        for i, name in enumerate(names):
            (seq,) = Store.next_seqs(db, "registration", [f"r{i}"])
            db.execute(
                "INSERT INTO registrations (id, arrival, nik, nik_hash, full_name, "
                "kecamatan_code, kelurahan_code, occupation_code, cohort, data, version, "
                "revision, status, device_id, received_at, updated_at, seq) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [f"r{i}", seq, f"15710101019{i:05d}", f"h{i}", name, "15.71.01",
                 "15.71.01.1001", "sopir", "pekerja_rentan", "{}", 1, 1,
                 "received" if i % 2 else "verified", "d1", "2026-01-01", "2026-01-01", seq])


def test_every_list_filter_has_an_index_in_arrival_order(tmp_path, server_engine):
    store = Store(tmp_path)
    try:
        indexes = _index_columns(store)
        for column in LIST_FILTER_COLUMNS:
            definition = indexes[f"registrations_{column}_arrival"].replace('"', "")
            assert f"({column}, arrival)" in definition, definition
            assert f"registrations_{column}" not in indexes  # replaced, not kept beside it
        if store.is_postgresql:
            assert "gin_trgm_ops" in indexes["registrations_full_name_trgm"]
        else:
            assert "registrations_full_name" in indexes
    finally:
        store.close()


def test_a_filtered_page_is_read_in_order_from_the_index_without_sorting(tmp_path,
                                                                          server_engine):
    store = Store(tmp_path)
    try:
        db = store.reader()
        query = ("SELECT id FROM registrations WHERE status = ? ORDER BY arrival LIMIT 100 "
                 "OFFSET 0")
        if store.is_postgresql:
            # On a table this small PostgreSQL would rightly read it whole; what is tested is
            # that the index can give the page in order, as at province scale.
            db.execute("SET enable_seqscan = off")
            plan = " ".join(r[0] for r in db.execute(f"EXPLAIN {query}", ["received"]))
            db.execute("RESET enable_seqscan")
            assert "registrations_status_arrival" in plan and "Sort" not in plan, plan
        else:
            plan = " ".join(str(row[-1]) for row in db.execute(
                f"EXPLAIN QUERY PLAN {query}", ["received"]).fetchall())
            assert "registrations_status_arrival" in plan and "TEMP B-TREE" not in plan, plan
    finally:
        store.close()


@pytest.mark.parametrize("query, expected", [
    ("siti", {"Siti Aminah", "SITI Rahma", "Nur 100% Siti", "Agus_Siti", "Sitinah Wulan"}),
    ("SITI A", {"Siti Aminah"}),
    ("100%", {"Nur 100% Siti"}),
    ("s_siti", {"Agus_Siti"}),
    ("siti_aminah", set()),  # `_` is a letter here, not LIKE's wildcard
    ("wulan", {"Sitinah Wulan"}),
    ("xy", set()),
])
def test_name_search_through_the_index_finds_what_a_scan_finds(tmp_path, server_engine, query,
                                                               expected):
    store = Store(tmp_path)
    try:
        _add(store, NAMES)
        if store.is_postgresql:  # a handful of rows: make the planner take the index
            store.reader().execute("SET enable_seqscan = off")
        found = verifier.list_registrations(store, {}, query, None, None, 0, 100)
        assert {item["full_name"] for item in found["items"]} == expected
        assert found["total"] == len(expected)
        if store.is_postgresql:
            plan = " ".join(r[0] for r in store.reader().execute(
                "EXPLAIN SELECT COUNT(*) FROM registrations WHERE lower(full_name) "
                "LIKE lower(?) ESCAPE '\\'", [f"%{query}%"]).fetchall())
            if len(query) >= 3:  # shorter than a trigram: nothing to look up
                assert "registrations_full_name_trgm" in plan, plan
    finally:
        store.close()


def test_a_long_list_is_counted_only_so_far_past_the_page(tmp_path, server_engine,
                                                         monkeypatch):
    monkeypatch.setattr(verifier, "COUNT_AHEAD", 2)
    store = Store(tmp_path)
    try:
        _add(store, NAMES)
        first = verifier.list_registrations(store, {}, "", None, None, 0, 2)
        assert (first["total"], first["total_exact"]) == (4, False)
        assert [i["full_name"] for i in first["items"]] == NAMES[:2]
        deep = verifier.list_registrations(store, {}, "", None, None, 4, 2)
        assert (deep["total"], deep["total_exact"]) == (7, True)
        assert [i["full_name"] for i in deep["items"]] == NAMES[4:6]
        received = verifier.list_registrations(store, {"status": "received"}, "", None, None,
                                               1, 1)
        assert (received["total"], received["total_exact"]) == (3, True)
        assert [i["full_name"] for i in received["items"]] == [NAMES[3]]
    finally:
        store.close()
