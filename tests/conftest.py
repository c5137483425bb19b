"""Fixtures shared by the window's tests."""

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
