"""Fixtures shared by many test modules: the window's database worker, the real server."""

import pytest


@pytest.fixture
def worker(qtbot, tmp_path):
    """The window's database worker on a fresh registry in the test's folder. A module that
    needs another database (demo data, a fake registry) defines its own `worker`."""
    from ui.db_worker import DbWorker  # Qt only for the tests that ask for it

    w = DbWorker.for_path(tmp_path / "registry.sqlite3")
    w.start()
    yield w
    w.shutdown()


@pytest.fixture
def server(tmp_path):
    """The real central server in a thread on a loopback port: (url, its data folder). A module
    that needs the server in another form defines its own `server`."""
    from sync_util import server_in_thread

    server_dir = tmp_path / "server"
    with server_in_thread(server_dir) as url:
        yield url, server_dir


@pytest.fixture
def live(tmp_path):
    """The real central server through tests/server_util.py's LiveServer (port 0 of 127.0.0.1),
    for tests that push and pull over HTTP as a device would."""
    from server_util import LiveServer

    server = LiveServer(tmp_path / "server").start()
    yield server
    server.stop()
