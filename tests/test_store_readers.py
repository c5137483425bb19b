"""The server's reader connections: one per request thread, closed once the thread has ended
(the request pool retires idle threads and starts new ones; a long-running server must not pile
up connections until PostgreSQL refuses more)."""

from __future__ import annotations

import threading

from server.store import Store


def _is_open(db) -> bool:
    try:
        db.execute("SELECT 1").fetchone()
    except Exception:  # sqlite3.ProgrammingError, psycopg.OperationalError: closed
        return False
    return True


def _readers_of_threads(store: Store, count: int) -> list:
    got = []

    def read():
        db = store.reader()
        db.execute("SELECT COUNT(*) FROM devices").fetchone()
        got.append(db)

    threads = [threading.Thread(target=read) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return got


def test_readers_of_ended_threads_are_closed_when_a_new_one_opens(tmp_path, server_engine):
    store = Store(tmp_path)
    try:
        old = _readers_of_threads(store, 12)
        assert len({id(db) for db in old}) == 12
        _readers_of_threads(store, 1)
        assert not any(_is_open(db) for db in old)
        if store.is_postgresql:
            held = store.reader().execute(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend'").fetchone()[0]
            assert held <= 3  # this thread's reader, the last thread's, the migration's pool
    finally:
        store.close()


def test_a_living_thread_keeps_its_reader(tmp_path, server_engine):
    store = Store(tmp_path)
    try:
        mine = store.reader()
        _readers_of_threads(store, 5)
        _readers_of_threads(store, 1)
        assert _is_open(mine) and store.reader() is mine
    finally:
        store.close()
