"""The throwaway PostgreSQL cluster of the tests (tests/pg_cluster.py, tests/conftest.py): a
migrated, empty database of its own for every server data folder, the same one again when the
folder is reopened, reached over a Unix socket only, and gone after the test; the cluster
itself gone even when the session is killed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from server import store as server_store
from server.auth import create_enrol_code
from server.store import Store

# Only PostgreSQL: these tests are about its fixture (see pytest_generate_tests in conftest).
SERVER_ENGINES = ("postgresql",)


def _count(store: Store, table: str) -> int:
    return store.reader().execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_a_fresh_database_is_migrated_and_empty(tmp_path, server_engine):
    assert server_engine == "postgresql"
    store = Store(tmp_path / "server")
    try:
        assert store.is_postgresql
        for table in ("registrations", "versions", "devices", "enrol_codes", "batches"):
            assert _count(store, table) == 0, table
        version = store.reader().execute("SELECT version_num FROM alembic_version").fetchall()
        assert len(version) == 1
    finally:
        store.close()


def test_two_data_folders_get_two_databases(tmp_path):
    first, second = Store(tmp_path / "a"), Store(tmp_path / "b")
    try:
        url = server_store.default_database_url
        assert url(tmp_path / "a").startswith("postgresql")
        assert url(tmp_path / "a") != url(tmp_path / "b")
        create_enrol_code(first, "enumerator")
        assert (_count(first, "enrol_codes"), _count(second, "enrol_codes")) == (1, 0)
    finally:
        first.close()
        second.close()


def test_the_same_folder_reopened_reaches_the_same_database(tmp_path):
    store = Store(tmp_path / "server")
    create_enrol_code(store, "verifier")
    store.close()
    # Another spelling of the same folder: the fixture keys the databases by resolved path.
    again = Store(tmp_path / "x" / ".." / "server")
    try:
        assert _count(again, "enrol_codes") == 1
    finally:
        again.close()


def test_unix_socket_only_and_no_durability(pg_cluster):
    with pg_cluster.connect() as conn:
        settings = {name: conn.execute(f"SHOW {name}").fetchone()[0]
                    for name in ("listen_addresses", "fsync", "synchronous_commit")}
    assert settings == {"listen_addresses": "", "fsync": "off", "synchronous_commit": "off"}
    url = server_store.default_database_url(pg_cluster.root / "anything")
    assert url.startswith("postgresql+psycopg://postgres@/") and str(pg_cluster.socket_dir) in url


def test_a_tests_databases_are_dropped_after_it(pg_cluster, tmp_path):
    mark = pg_cluster.mark()
    name = pg_cluster.database_for(tmp_path / "dropped")
    store = Store(tmp_path / "dropped")  # still open: the drop closes its connections
    create_enrol_code(store, "admin")
    pg_cluster.drop_since(mark)
    with pg_cluster.connect() as conn:
        left = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s",
                            [name]).fetchone()[0]
    assert left == 0
    # The folder is forgotten with its database: seen again, it gets a fresh one.
    assert pg_cluster.database_for(tmp_path / "dropped") != name
    store.close()


def test_a_cluster_whose_session_is_killed_is_stopped_and_removed():
    """pg_ctl's server outlives its parent: the cluster's watcher stops it and removes its
    folder when the test session dies without reaching `stop()`."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; from pg_cluster import Cluster; "
         "print(Cluster().start().root, flush=True); time.sleep(120)"],
        cwd=Path(__file__).parent, stdout=subprocess.PIPE, text=True)
    root = Path(child.stdout.readline().strip())
    assert (root / "data" / "postmaster.pid").exists()
    child.kill()
    child.wait(10)
    deadline = time.monotonic() + 20
    while root.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not root.exists()
