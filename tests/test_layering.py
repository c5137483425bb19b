"""The core packages, the operations and the command line never import Qt, the window never
writes SQL (DESIGN.md §8), and imports point downwards: ui and cli → ops → the core."""

import ast
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
    "ui": {"cli", "server"},  # the demo's local server reaches the window through ops
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
