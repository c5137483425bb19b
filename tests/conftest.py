"""Fixtures shared by many test modules: the window's database worker, the real server, and the
server's two database engines (SQLite and PostgreSQL)."""

from __future__ import annotations

import inspect
import os
import re
from pathlib import Path

import pytest

# ---- the server's database engines --------------------------------------------------------
#
# Which tests run on both engines (the rule): every test of a module that uses the server's
# database runs twice, as `test_x[sqlite]` and `test_x[postgresql]`. A module uses it when it
# imports one of the helpers that start or open the server (tests/server_util.py,
# tests/sync_util.py, tests/dashboard_util.py, server.app, server.store, server.local) or when a
# test asks for the `server`, `live` or `live_module` fixture; a module about one engine (the
# test cluster, a backup with pg_dump) names it: SERVER_ENGINES = ("postgresql",). Modules in
# SQLITE_ONLY are the exceptions: window (Qt) tests whose subject is the window, where the server
# is only the other end of a sync; they run on SQLite alone, which keeps the suite's time in
# check (the server's own behaviour is tested on both engines by the modules it belongs to); and
# the one-machine demo, whose server is SQLite by design. A new module that uses the server therefore runs on
# both engines without anyone remembering to ask, and a test left on SQLite alone that opens
# the server's database anyway fails (`_server_databases`) until the rule or the list says
# which.
#
# How: `server_engine` is a module-scoped autouse fixture, parametrized indirectly by
# `pytest_generate_tests` for the modules above ("sqlite" everywhere else). On "postgresql" it
# replaces `server.store.default_database_url`, so every Store opened without an explicit URL
# (LiveServer, sync_util, create_app, the command line in this process) lands on a database of
# the session's throwaway cluster (tests/pg_cluster.py): one fresh database per server data
# folder, the same one again when the folder is reopened. A `main.py server` subprocess cannot see
# that replacement: it is started with `server_util.database_args(data_dir)`. A fixture wider
# than one test (scope module or class) that starts or opens the server must ask for
# `server_engine`, so that it is made again for the second engine; `pytest_collection_modifyitems`
# refuses a run where one does not.

ENGINES = ("sqlite", "postgresql")
SERVER_FIXTURES = {"server", "live", "live_module"}
SERVER_IMPORTS = re.compile(
    r"^\s*(?:from|import)\s+(?:server_util|sync_util|dashboard_util|server\.app|server\.store"
    r"|server\.local)\b", re.MULTILINE)
# What a fixture's code says when it starts or opens the server (for the check below).
SERVER_STARTS = re.compile(r"LiveServer|Fixture\(|Store\(|create_app|server_in_thread|"
                           r"ServerProcess|TlsServer|\"main\.py\", \"server\"")
SQLITE_ONLY = {
    "test_demo_mode",  # the demo's own server (server/local.py) is SQLite by design
    "test_claims_panel",  # the claims panel, synced once
    "test_kpj_shown",  # KPJ numbers shown in the window's lists
    "test_off_the_writer",  # the window never waits on the database writer
    "test_sync_panel",  # the window's sync panel
    "test_ui_english",  # the window in English
    "test_verifier_corrections",  # corrections in the verifier's window
    "test_verifier_panel",  # the verifier's window panel
}
_SOURCES: dict[str, str] = {}


def _module_uses_server(module) -> bool:
    name = module.__name__
    if name not in _SOURCES:
        _SOURCES[name] = Path(module.__file__).read_text(encoding="utf-8")
    return bool(SERVER_IMPORTS.search(_SOURCES[name]))


def runs_on_both_engines(metafunc: pytest.Metafunc) -> bool:
    if metafunc.module.__name__.rpartition(".")[2] in SQLITE_ONLY:
        return False
    return bool(SERVER_FIXTURES & set(metafunc.fixturenames)) or _module_uses_server(
        metafunc.module)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # A module about one engine names it in SERVER_ENGINES (tests/test_pg_cluster.py).
    engines = getattr(metafunc.module, "SERVER_ENGINES", None)
    if engines is None and runs_on_both_engines(metafunc):
        engines = ENGINES
    if engines:
        metafunc.parametrize("server_engine", engines, indirect=True, scope="module")


def _depends_on_engine(name: str, defs: dict, seen: set[str]) -> bool:
    if name == "server_engine":
        return True
    if name in seen or name not in defs:
        return False
    seen.add(name)
    return any(_depends_on_engine(arg, defs, seen) for arg in defs[name][-1].argnames)


def pytest_collection_modifyitems(config, items) -> None:
    """A module or class fixture that starts the server without asking for `server_engine`
    would be reused as it is by the [postgresql] tests: refuse the run and say which one."""
    stale = set()
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or "server_engine" not in callspec.params:
            continue
        defs = item._fixtureinfo.name2fixturedefs
        for name in item.fixturenames:
            fixture = defs.get(name, (None,))[-1]
            if (fixture is None or fixture.scope == "function" or name == "server_engine"
                    or _depends_on_engine(name, defs, set())):
                continue
            if SERVER_STARTS.search(inspect.getsource(fixture.func)):
                stale.add(f"{item.module.__name__}::{name}")
    if stale:
        raise pytest.UsageError(
            "these fixtures start the server for more than one test but do not ask for "
            f"`server_engine` (tests/conftest.py): {', '.join(sorted(stale))}")


def pytest_configure(config) -> None:
    # No test may reach the database a developer's shell points the server at.
    os.environ.pop("JAMSOS_SERVER_DATABASE", None)


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory):
    """The session's throwaway PostgreSQL cluster, its template database migrated once. Never
    skipped: without PostgreSQL on the machine the [postgresql] tests fail and say how to
    install it (`make test` does, with apt)."""
    from pg_cluster import Cluster, PostgresMissing

    try:
        cluster, missing = Cluster(), None
    except PostgresMissing as error:
        missing = str(error)
    if missing:
        pytest.fail(missing, pytrace=False)
    try:
        cluster.start()
        cluster.prepare_template(lambda url: _migrate(tmp_path_factory.mktemp("pg-template"),
                                                      url))
        yield cluster
    finally:
        cluster.stop()


def _migrate(data_dir: Path, url: str) -> None:
    from server.store import Store

    Store(data_dir, database_url=url).close()


@pytest.fixture(scope="module", autouse=True)
def server_engine(request):
    """The server's database engine for this test: "sqlite" or "postgresql" (see above)."""
    engine = getattr(request, "param", "sqlite")
    if engine != "postgresql":
        yield engine
        return
    from server import store

    cluster = request.getfixturevalue("pg_cluster")
    mark = cluster.mark()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store, "default_database_url", cluster.url_for, raising=False)
        yield engine
    cluster.drop_since(mark)


@pytest.fixture(autouse=True)
def _server_databases(request, server_engine):
    """On PostgreSQL, the databases this test made are dropped after it (those of wider
    fixtures when their module ends). A test the rule above left on SQLite alone that opens
    the server's database anyway (through a helper the rule does not know) fails, so that it is
    not missed on PostgreSQL silently."""
    if server_engine == "postgresql":
        cluster = request.getfixturevalue("pg_cluster")
        mark = cluster.mark()
        yield
        cluster.drop_since(mark)
        return
    callspec = getattr(request.node, "callspec", None)
    if (callspec is not None and "server_engine" in callspec.params) or (
            request.module.__name__.rpartition(".")[2] in SQLITE_ONLY):
        yield
        return
    from server import store

    opened = []
    original = store.default_database_url

    def watched(data_dir):
        opened.append(data_dir)
        return original(data_dir)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store, "default_database_url", watched)
        yield
    if opened:
        pytest.fail(f"{request.node.nodeid} opened the server's database ({opened[0]}) but runs "
                    "on SQLite alone: make its module import the server helper it uses, or "
                    "list it in SQLITE_ONLY (tests/conftest.py)", pytrace=False)


# ---- the window and the server ------------------------------------------------------------


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
def server(tmp_path, server_engine):
    """The real central server in a thread on a loopback port: (url, its data folder). A module
    that needs the server in another form defines its own `server`."""
    from sync_util import server_in_thread

    server_dir = tmp_path / "server"
    with server_in_thread(server_dir) as url:
        yield url, server_dir


@pytest.fixture
def live(tmp_path, server_engine):
    """The real central server through tests/server_util.py's LiveServer (port 0 of 127.0.0.1),
    for tests that push and pull over HTTP as a device would."""
    from server_util import LiveServer

    server = LiveServer(tmp_path / "server").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def live_module(tmp_path_factory, server_engine):
    """One LiveServer shared by a module's tests (made again for each engine), for modules
    that only read or that set up their own devices once."""
    from server_util import LiveServer

    server = LiveServer(tmp_path_factory.mktemp("live") / "server").start()
    yield server
    server.stop()
