"""The window is driven by keyboard alone: no widget keeps the focus prisoner."""

import pytest
from PySide6.QtCore import Qt

from ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, worker):
    w = MainWindow(worker)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    yield w
    w.sync_panel.shutdown()


def test_tab_and_shift_tab_leave_the_registrations_table(qtbot, window):
    window.tabs.setCurrentWidget(window.registrations)
    table = window.registrations.table
    table.setFocus()
    assert window.focusWidget() is table
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert window.focusWidget() is not table
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert window.focusWidget() is not table


@pytest.mark.parametrize("forward, back", [
    ((Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier),
     (Qt.Key.Key_Backtab, Qt.KeyboardModifier.ControlModifier
      | Qt.KeyboardModifier.ShiftModifier)),
    ((Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier),
     (Qt.Key.Key_PageUp, Qt.KeyboardModifier.ControlModifier)),
])
def test_ctrl_keys_switch_tabs_from_the_table_and_from_a_field(qtbot, window, forward, back):
    tabs = window.tabs
    tabs.setCurrentWidget(window.registrations)
    list_index = tabs.currentIndex()
    window.registrations.table.setFocus()
    qtbot.keyClick(window.focusWidget(), *forward)
    assert tabs.currentIndex() == list_index + 1
    qtbot.keyClick(window.focusWidget(), *back)
    assert tabs.currentIndex() == list_index
    qtbot.keyClick(window.focusWidget(), *back)  # back to the form, from the table
    assert tabs.currentIndex() == list_index - 1
    window.form.nik.setFocus()
    qtbot.keyClick(window.form.nik, *forward)  # and on from a line edit of the form
    assert tabs.currentIndex() == list_index
    qtbot.keyClick(window.focusWidget(), *back)
    qtbot.keyClick(window.focusWidget(), *back)  # wraps round to the last tab
    assert tabs.currentIndex() == tabs.count() - 1
