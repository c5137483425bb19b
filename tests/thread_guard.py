"""A thread-affinity guard for Qt tests: every method of the widget classes (PySide6's
QtWidgets and QtPrintSupport) that the window's code calls, virtual ones aside, is wrapped so
that a call from any thread but the one that installed the guard (the GUI thread) is recorded
with its stack. Widgets are not thread-safe;
Qt itself says nothing in a release build when one is touched from a worker thread.

Used in-process by tests/test_thread_affinity.py and as a pytest plugin (`-p thread_guard`)
that runs whole test modules of the panels under the guard: each test then fails at teardown
when a widget was touched off the GUI thread."""

from __future__ import annotations

import re
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest

UI = Path(__file__).resolve().parent.parent / "ui"
# Virtual methods: Qt calls them from C++ (on the GUI thread), and a Python wrapper in the class
# would be taken for an override and called back from C++, which PySide does not survive for
# some of them. They are left alone; the calls that matter are the ones the window's code makes.
_VIRTUAL = {
    "setVisible", "setModel", "setSelectionModel", "setRootIndex", "reset", "doItemsLayout",
    "selectAll", "keyboardSearch", "scrollTo", "visualRect", "indexAt", "edit", "done",
    "accept", "reject", "exec", "exec_", "open", "showPopup", "hidePopup",
    "validate", "fixup", "stepBy", "stepEnabled", "textFromValue", "valueFromText",
    "updateGeometries", "dataChanged", "selectionChanged", "currentChanged", "rowsInserted",
    "rowsAboutToBeRemoved", "sizeHintForRow", "sizeHintForColumn", "createPopupMenu",
    "setupViewport", "scrollContentsBy", "viewportSizeHint", "sizeHint", "minimumSizeHint",
    "heightForWidth", "hasHeightForWidth", "inputMethodQuery", "focusNextPrevChild",
}
_SPIN_BOXES = ("QAbstractSpinBox", "QDateTimeEdit", "QDateEdit", "QTimeEdit", "QSpinBox",
               "QDoubleSpinBox")
_VIRTUAL_IN = {"text": ("QProgressBar",), "clear": _SPIN_BOXES}  # elsewhere plain methods


def called_in_ui() -> set[str]:
    """Every `.name(` the window's code (ui/) calls."""
    names: set[str] = set()
    for path in UI.rglob("*.py"):
        names.update(re.findall(r"\.([A-Za-z]\w*)\(", path.read_text(encoding="utf-8")))
    return names


def widget_classes() -> list[type]:
    from PySide6 import QtPrintSupport, QtWidgets
    from PySide6.QtWidgets import QWidget

    found = []
    for module in (QtWidgets, QtPrintSupport):
        for name in dir(module):
            cls = getattr(module, name)
            if isinstance(cls, type) and issubclass(cls, QWidget):
                found.append(cls)
    return found


def install(violations: list[str]) -> Callable[[], None]:
    """Wrap the widget methods; calls off this thread are appended to `violations`.
    Returns the function that puts every method back."""
    gui = threading.get_ident()
    wanted = {name for name in called_in_ui() - _VIRTUAL
              if not name.endswith(("Event", "event", "eventFilter", "Hint"))}
    undo: list[tuple[type, str, object]] = []
    for cls in widget_classes():
        for name, original in list(vars(cls).items()):
            if (type(original).__name__ != "method_descriptor" or name not in wanted
                    or cls.__name__ in _VIRTUAL_IN.get(name, ())):
                continue
            setattr(cls, name, _guarded(original, f"{cls.__name__}.{name}", gui, violations))
            undo.append((cls, name, original))

    def restore() -> None:
        for cls, name, original in reversed(undo):
            setattr(cls, name, original)

    return restore


def _guarded(original, label: str, gui: int, violations: list[str]):
    def guarded(*args, **kwargs):
        if threading.get_ident() != gui:
            where = "".join(traceback.format_stack(limit=8)[:-1])
            violations.append(f"{label} on thread {threading.current_thread().name}\n{where}")
        return original(*args, **kwargs)

    guarded.__name__ = getattr(original, "__name__", label)
    return guarded


# --- as a pytest plugin ----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _widgets_only_on_the_gui_thread():
    violations: list[str] = []
    restore = install(violations)
    try:
        yield violations
    finally:
        restore()
    assert not violations, "a widget was touched off the GUI thread:\n" + "\n".join(violations)
