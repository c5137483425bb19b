"""The core packages, the operations and the command line never import Qt, the window never
writes SQL (DESIGN.md §8), and imports point downwards: ui and cli → ops → the core."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ["storage", "cards", "sync", "server"]
QT_FREE = [*CORE, "ops", "cli"]  # the operations and the command line run without a window


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", QT_FREE)
def test_core_source_never_imports_qt_or_ui(package):
    offenders = []
    for path in (ROOT / package).rglob("*.py"):
        for name in _imported_modules(path):
            top = name.split(".")[0]
            if top in {"PySide6", "PyQt5", "PyQt6", "shiboken6", "ui"}:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_core_packages_import_without_qt_loaded():
    # A fresh interpreter: importing every core, ops and cli module must not pull PySide6 in.
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for package in QT_FREE
        for p in (ROOT / package).rglob("*.py")
        if p.name != "__main__.py"
    )
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'ui')]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


SQL_MARKERS = ("execute(", "executemany(", "sqlite3", "sqlite_utils", "SELECT ", "INSERT INTO")


def test_ui_never_writes_sql():
    offenders = []
    for path in (ROOT / "ui").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.relative_to(ROOT)}: {m}" for m in SQL_MARKERS if m in text]
    assert offenders == []


# What each package may not import: the arrows point downwards (docs/ARCHITECTURE.md).
NOT_BELOW = {
    **{package: {"ops", "cli"} for package in CORE},
    "ops": {"cli", "ui"},
    "cli": {"ui"},
    "ui": {"cli"},  # nor server: test_ui_never_imports_server below
}


def _offenders(package: str, forbidden: set[str]) -> list[str]:
    return [f"{path.relative_to(ROOT)}: {name}"
            for path in (ROOT / package).rglob("*.py")
            for name in sorted(_imported_modules(path)) if name.split(".")[0] in forbidden]


@pytest.mark.parametrize("package", sorted(NOT_BELOW))
def test_imports_point_downwards(package):
    assert _offenders(package, NOT_BELOW[package]) == []


def test_ops_reaches_the_server_package_only_for_the_demo_server():
    servers = [o for o in _offenders("ops", {"server"}) if not o.endswith(": server.local")]
    assert servers == []


# --- one owner of the device database (docs/ARCHITECTURE.md "Packages") ----------------------

# storage/ owns every statement on the device database, server/ those on its own; tests and
# benchmarks reach in on purpose. Everything else goes through the registry and its stores.
SQL_OWNERS = {"storage", "server", "tests", "bench"}
# The project writes SQL keywords in capitals; a sentence ("Select a kegiatan") is not SQL.
SQL_START = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|PRAGMA|WITH)\s")
SQL_CALLS = {"execute", "executemany", "executescript"}
SQL_MODULES = {"sqlite3", "sqlite_utils", "sqlcipher3"}


def _python_files_outside_sql_owners() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py")
                  if p.relative_to(ROOT).parts[0] not in SQL_OWNERS | {".venv"}
                  and not any(part.startswith(".") for part in p.relative_to(ROOT).parts)
                  and "egg-info" not in str(p))


def sql_use(source: str) -> list[str]:
    """What in this source speaks to a database directly: SQL text, cursor calls, a sqlite_utils
    query or table, the registry's connection (`.db`, `.conn`), a database library's import."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if SQL_START.match(node.value):
                found.append(f"SQL text {node.value.strip()[:30]!r}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            first = node.args[0] if node.args else None
            if node.func.attr in SQL_CALLS or (
                node.func.attr == "query" and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                found.append(f".{node.func.attr}(...)")
        elif isinstance(node, ast.Attribute) and node.attr in {"db", "conn", "_db", "db_for_tests"}:
            found.append(f".{node.attr}")
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) \
                and node.value.id == "db":
            found.append("db[...]")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [alias.name for alias in node.names]
            found += [f"import {n}" for n in names if n.split(".")[0] in SQL_MODULES]
    return found


def test_sql_lives_in_storage_and_server_only():
    offenders = [f"{path.relative_to(ROOT)}: {use}"
                 for path in _python_files_outside_sql_owners()
                 for use in sql_use(path.read_text(encoding="utf-8"))]
    assert offenders == []


@pytest.mark.parametrize("source", [
    'rows = registry.db.execute("SELECT id FROM workers").fetchall()',
    'cur.executemany(sql, rows)',
    'x = "  INSERT INTO cards (serial) VALUES (?)"',
    'for row in database.query("select 1"): pass',
    'db["workers"].count',
    'import sqlite3',
    'from sqlite_utils import Database',
    'registry.db.atomic()',
])
def test_the_sql_check_finds_each_kind_of_statement(source):
    assert sql_use(source) != []


def test_the_sql_check_leaves_the_registrys_own_api_alone():
    # registry.query(filter) is the list's API, "Select a kegiatan" is a sentence.
    source = ('page = registry.query(RegistrationFilter(), limit=10)\n'
              'label = "Select a kegiatan"\nfrom storage.db import StorageError\n')
    assert sql_use(source) == []


def test_ui_never_imports_server():
    offenders = []
    for path in (ROOT / "ui").rglob("*.py"):
        offenders += [f"{path.relative_to(ROOT)}: {name}" for name in _imported_modules(path)
                      if name.split(".")[0] == "server"]
    assert offenders == []
