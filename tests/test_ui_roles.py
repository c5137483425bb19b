"""Roles end to end in the window (pytest-qt): each operator role sees and may use only its
tabs and actions, never more than the device's enrolled role allows; the tabs follow another
operator who unlocks; the card desk and the verifier refuse a wrong role even when reached; and
drafts belong to their operator."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from PySide6.QtWidgets import QDialog, QPushButton
from unlock_util import add_operators, operator_windows, run_job

from storage import roles
from sync import state

PASSWORD = "rahasia-jambi"
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
WAIT = 10_000
ACCOUNTS = (("admin", "Ibu Admin", "admin"), ("budi", "Budi Pendata", "petugas"),
            ("sari", "Sari Verifikator", "verifikator"), ("kiki", "Kiki Loket", "loket_kartu"),
            ("rina", "Rina Pendata", "petugas"))
ALL_TABS = ["Pendaftaran", "Daftar Peserta", "Kartu", "Periksa kartu", "Verifikasi",
            "Klaim && PDP", "Sinkronisasi"]  # "&&" is how Qt writes "&" in a tab title
TABS = {
    "petugas": ["Pendaftaran", "Daftar Peserta", "Periksa kartu", "Sinkronisasi"],
    "verifikator": ["Daftar Peserta", "Periksa kartu", "Verifikasi", "Klaim && PDP",
                    "Sinkronisasi"],
    "loket_kartu": ["Daftar Peserta", "Kartu", "Periksa kartu", "Sinkronisasi"],
    "admin": ALL_TABS,
}
# (CSV import, demo data, operator list) per role
ACTIONS = {
    "petugas": (True, False, False),
    "verifikator": (False, False, False),
    "loket_kartu": (False, False, False),
    "admin": (True, True, True),
}


@pytest.fixture
def operators(qtbot, worker):
    return add_operators(qtbot, worker, ACCOUNTS, PASSWORD, T0)


@pytest.fixture
def open_window(qtbot, worker):
    def no_draft(text):
        pytest.fail(f"no draft may be offered here: {text}")

    with operator_windows(qtbot, worker, no_draft, show=True) as make:
        yield make


def set_device_role(qtbot, worker, role: str) -> None:
    def store(registry):
        with registry.db_for_tests.atomic():
            state.set_meta(registry, "device_role", role)

    run_job(qtbot, worker, store)


def actions_of(window) -> tuple[bool, bool, bool]:
    def usable(action):
        return action.isVisible() and action.isEnabled()

    return (usable(window.import_action), usable(window.demo_action),
            usable(window.operators_action))


def unlock_with(qtbot, window, username):
    form = window.lock_screen.form
    form.username.setText(username)
    form.password.setText(PASSWORD)
    form.submit()
    qtbot.waitUntil(lambda: not window.locked, timeout=WAIT)


@pytest.mark.parametrize("username", ["budi", "sari", "kiki", "admin"])
def test_each_role_sees_and_may_use_only_its_tabs_and_actions(qtbot, operators, open_window,
                                                              username, monkeypatch):
    monkeypatch.setattr("ui.main_window.QMessageBox.warning", lambda *a, **k: None)
    operator = operators[username]
    window = open_window(operator)
    assert window.visible_tabs() == TABS[operator.role]
    for index in range(window.tabs.count()):
        # A hidden tab is disabled too: none of its shortcuts fire.
        assert window.tabs.widget(index).isEnabled() == window.tabs.isTabVisible(index)
    assert window.tabs.tabText(window.tabs.currentIndex()) == TABS[operator.role][0]
    assert actions_of(window) == ACTIONS[operator.role]
    if operator.role != "admin":
        assert window.create_demo_data(count=5) is None
        assert window.manage_operators() is None
    if operator.role != "petugas" and operator.role != "admin":
        assert window.import_csv("/nonexistent.csv") is None


def test_the_device_role_limits_every_operator(qtbot, worker, operators, open_window):
    set_device_role(qtbot, worker, "enumerator")
    window = open_window(operators["admin"])
    # The admin of an enumerator laptop registers and manages its operators, nothing more.
    assert window.visible_tabs() == ["Pendaftaran", "Daftar Peserta", "Periksa kartu",
                                     "Sinkronisasi"]
    assert actions_of(window) == (True, True, True)

    set_device_role(qtbot, worker, "verifier")
    window.data_changed()  # the role is read again after a write (an enrolment, a sync)
    assert window.visible_tabs() == ["Daftar Peserta", "Periksa kartu", "Verifikasi",
                                     "Klaim && PDP", "Sinkronisasi"]
    assert actions_of(window) == (False, False, True)
    assert roles.capabilities("petugas", "verifier") == {roles.LIST, roles.CHECK_CARDS,
                                                         roles.SYNC}
    assert roles.capabilities("verifikator", "card_desk") == {roles.LIST, roles.CHECK_CARDS,
                                                              roles.SYNC}
    assert roles.capabilities("admin", "nonsense") == {roles.LIST, roles.CHECK_CARDS,
                                                       roles.SYNC, roles.MANAGE_OPERATORS}
    assert roles.capabilities("nobody", "") == frozenset()


def test_tabs_follow_the_operator_who_unlocks(qtbot, operators, open_window):
    window = open_window(operators["budi"])
    assert window.visible_tabs() == TABS["petugas"]
    window.lock()
    unlock_with(qtbot, window, "kiki")
    assert window.session.username == "kiki"
    assert window.visible_tabs() == TABS["loket_kartu"]
    assert window.tabs.tabText(window.tabs.currentIndex()) == "Daftar Peserta"  # its first
    window.log_out()
    assert window.session.capabilities() == frozenset()  # nobody logged in may do nothing
    unlock_with(qtbot, window, "admin")
    assert window.visible_tabs() == ALL_TABS
    assert actions_of(window) == ACTIONS["admin"]


def test_the_card_desk_refuses_a_role_that_is_not_the_desk(qtbot, worker, operators,
                                                           open_window, monkeypatch):
    warnings = []
    monkeypatch.setattr("ui.card_dialogs.QMessageBox.warning",
                        lambda *args, **kwargs: warnings.append(args[2]))
    window = open_window(operators["budi"])
    desk_panel = window.card_desk  # reached although its tab is hidden
    buttons = (desk_panel.print_button, desk_panel.save_button, desk_panel.preview_button,
               desk_panel.handover_button, desk_panel.reprint_button)
    assert not any(button.isEnabled() for button in buttons)
    desk_panel.hand_over("any-id", "Siti")
    desk_panel.reprint("any-id", "lost")
    finished = []
    desk_panel.start_batch(["any-id"], None, on_finished=finished.append)
    assert finished == [False] and len(warnings) == 3
    assert "loket kartu" in warnings[0]

    window.lock()
    unlock_with(qtbot, window, "kiki")  # the desk's own operator may use it
    desk_panel.view_box.setCurrentIndex(desk_panel.view_box.findData("ready"))
    desk_panel.refresh()
    assert desk_panel.print_button.isEnabled() and desk_panel.reprint_button.isEnabled()
    assert desk_panel.who() == {"username": "kiki", "display_name": "Kiki Loket"}


def test_the_verifier_refuses_a_role_that_does_not_verify(qtbot, operators, open_window):
    window = open_window(operators["kiki"])
    panel = window.verifier  # reached although its tab is hidden
    panel.detail = {"id": "r1", "revision": 1, "status": "verified", "full_name": "Siti",
                    "nik_masked": "157101******0001"}
    panel._set_actions()
    decision_buttons = (panel.verify_button, panel.fund_button, panel.reject_button,
                        panel.resolve_button)
    assert not any(button.isEnabled() for button in decision_buttons)
    asked = []
    panel.confirm = lambda *args: asked.append(args) or True
    panel.fund()
    assert asked == []  # not even asked
    assert "tidak dapat membuat keputusan" in panel.message.text()
    assert "Verifikator:" not in [label.text() for label in panel.findChildren(QPushButton)]
    assert not hasattr(panel, "operator_edit")  # nobody types who decides

    window.lock()
    unlock_with(qtbot, window, "sari")
    assert panel.may_decide() and panel.operator_ref() == {
        "username": "sari", "display_name": "Sari Verifikator"}
    assert "Sari Verifikator" in panel.who_label.text()
    panel._set_actions()
    assert panel.fund_button.isEnabled()


def test_a_role_that_does_not_register_reads_a_record_but_cannot_correct_it(
        qtbot, worker, operators, open_window):
    from storage.demo import fill_demo_data

    run_job(qtbot, worker, lambda r: fill_demo_data(r, 1, seed=3))
    reg_id = worker.readonly.db_for_tests.execute("SELECT id FROM workers").fetchone()[0]
    window = open_window(operators["sari"])
    window.tabs.setCurrentWidget(window.registrations)
    window.registrations.refresh()
    window.registrations.open_row(0)
    qtbot.waitUntil(lambda: bool(window.findChildren(QDialog, "record_dialog")), timeout=WAIT)
    dialog = window.findChildren(QDialog, "record_dialog")[0]
    assert dialog.read_only and not dialog.form.isEnabled()
    assert not dialog.form.save_button.isEnabled()
    assert dialog.form._editing.id == reg_id
    dialog.close()


# --- drafts belong to their operator -----------------------------------------------------


def type_name(qtbot, window, name: str) -> None:
    qtbot.keyClicks(window.form.full_name, name)
    qtbot.keyClicks(window.form.nik, "1571010101909901")


def test_log_out_clears_the_form_and_keeps_the_draft_for_its_operator(
        qtbot, worker, operators, open_window):
    window = open_window(operators["budi"])
    type_name(qtbot, window, "Siti Aminah")
    window.log_out()
    assert window.form.full_name.text() == "" and window.form.nik.text() == ""
    qtbot.waitUntil(lambda: (worker.readonly.load_draft("registration_form:budi") or {})
                    .get("full_name") == "Siti Aminah", timeout=WAIT)

    # Another enumerator logs in: an empty form, and Budi's draft is never offered.
    unlock_with(qtbot, window, "rina")
    qtbot.wait(300)  # the draft lookup goes through the worker
    assert window.form.full_name.text() == ""
    assert worker.readonly.load_draft("registration_form:rina") is None

    # Budi comes back: only he is offered his draft.
    window.lock()
    offered = []
    window.ask_draft = lambda text: offered.append(text) or True
    unlock_with(qtbot, window, "budi")
    qtbot.waitUntil(lambda: window.form.full_name.text() == "Siti Aminah", timeout=WAIT)
    assert len(offered) == 1 and "Siti Aminah" in offered[0]


def test_lock_empties_the_form_and_gives_it_back_to_the_same_operator_only(
        qtbot, worker, operators, open_window):
    window = open_window(operators["budi"])
    type_name(qtbot, window, "Siti Aminah")
    window.lock()
    assert window.form.full_name.text() == ""  # nothing shows behind the lock screen
    unlock_with(qtbot, window, "budi")
    assert window.form.full_name.text() == "Siti Aminah"
    assert window.form.nik.text() == "1571010101909901"

    window.lock()
    unlock_with(qtbot, window, "rina")
    qtbot.wait(300)
    assert window.form.full_name.text() == "" and window.form.nik.text() == ""


def test_after_a_restart_a_draft_is_offered_only_to_its_operator(
        qtbot, worker, operators, open_window):
    from ui.draft_recovery import offer_draft

    first = open_window(operators["budi"])
    type_name(qtbot, first, "Siti Aminah")
    first.close()  # the app closes: the draft is written for Budi
    qtbot.waitUntil(lambda: worker.readonly.load_draft("registration_form:budi") is not None,
                    timeout=WAIT)

    other = open_window(operators["rina"])
    offer_draft(other, worker, other.form, ask=lambda text: pytest.fail("not Rina's draft"))
    qtbot.wait(300)
    assert other.form.full_name.text() == ""

    again = open_window(operators["budi"])
    offered = []
    offer_draft(again, worker, again.form, ask=lambda text: offered.append(text) or True)
    qtbot.waitUntil(lambda: again.form.full_name.text() == "Siti Aminah", timeout=WAIT)
    assert len(offered) == 1


def test_the_card_desk_records_the_logged_in_operator(qtbot, worker, operators, open_window,
                                                      tmp_path):
    from cards.demo import fund_demo_members
    from storage.demo import fill_demo_data

    def funded(registry):
        fill_demo_data(registry, 4, seed=8)
        fund_demo_members(registry, tmp_path, share=1.0, seed=8)
        return [r[0] for r in registry.db_for_tests.execute("SELECT id FROM workers ORDER BY seq")]

    ids = run_job(qtbot, worker, funded)
    window = open_window(operators["kiki"])
    desk_panel = window.card_desk
    recorded = []
    desk_panel.start_batch(ids[:1], tmp_path / "kartu.pdf", on_finished=recorded.append)
    qtbot.waitUntil(lambda: recorded == [True], timeout=30_000)
    done = []
    desk_panel.hand_over(ids[0], "Siti", on_done=done.append)
    qtbot.waitUntil(lambda: len(done) == 1, timeout=WAIT)
    rows = worker.readonly.db_for_tests.execute(
        "SELECT kind, operator, detail FROM card_events WHERE registration_id = ? "
        "ORDER BY rowid", [ids[0]]).fetchall()
    steps = {kind: (operator, json.loads(detail).get("operator_username"))
             for kind, operator, detail in rows}
    assert steps["printed"] == ("Kiki Loket", "kiki")
    assert steps["handed_over"] == ("Kiki Loket", "kiki")


def test_a_draft_from_before_owners_goes_only_to_the_operator_it_names(
        qtbot, worker, operators, open_window):
    from ui.draft_recovery import offer_draft
    from ui.registration_form import DRAFT_KEY

    run_job(qtbot, worker, lambda r: r.save_draft(
        DRAFT_KEY, {"full_name": "Siti Lama", "operator": "Budi Pendata"}))
    other = open_window(operators["rina"])
    offer_draft(other, worker, other.form, ask=lambda text: pytest.fail("not Rina's draft"))
    qtbot.wait(300)
    budi = open_window(operators["budi"])
    offered = []
    offer_draft(budi, worker, budi.form, ask=lambda text: offered.append(text) or True)
    qtbot.waitUntil(lambda: budi.form.full_name.text() == "Siti Lama", timeout=WAIT)
    # From now on it is Budi's own draft.
    qtbot.waitUntil(lambda: worker.readonly.load_draft(DRAFT_KEY) is None, timeout=WAIT)
    assert worker.readonly.load_draft("registration_form:budi")["full_name"] == "Siti Lama"
