"""Log-in before the window, the first admin account, the idle lock and the admin's operator
list (pytest-qt)."""

from __future__ import annotations

from argparse import Namespace
from datetime import UTC, datetime

import pytest
from PySide6.QtWidgets import QDialog

from ops.demo import (
    CHOICE_FILE,
    DEMO_OPERATORS,
    DEMO_PASSWORD,
    DemoChoice,
    create_demo_operators,
)
from ui import app as app_module
from ui.db_worker import DbWorker
from ui.demo_mode import demo_hint
from ui.login import FirstAdminDialog, LoginDialog

PASSWORD = "rahasia-jambi"
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
WAIT = 10_000


def run_job(qtbot, worker, fn, *args):
    box = []
    worker.call(fn, *args, on_result=box.append, on_error=box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=WAIT)
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]


def add_operators(qtbot, worker):
    def add(registry):
        registry.operators.add("admin", "Ibu Admin", "admin", PASSWORD, now=T0)
        registry.operators.add("budi", "Budi Santoso", "petugas", PASSWORD, now=T0, by="admin")
        return registry.operators.get("admin"), registry.operators.get("budi")

    return run_job(qtbot, worker, add)


def audit_actions(worker):
    return [r[0] for r in worker.readonly.db_for_tests.execute(
        "SELECT action FROM audit_log WHERE entity = 'operator' ORDER BY seq")]


def test_first_run_makes_the_admin_and_logs_it_in(qtbot, tmp_path, monkeypatch):
    def fill_and_accept(dialog):
        qtbot.addWidget(dialog)
        qtbot.keyClicks(dialog.username, "Kepala.Seksi")
        qtbot.keyClicks(dialog.display_name, "Ibu  Kepala Seksi")
        qtbot.keyClicks(dialog.password, "pendek")
        qtbot.keyClicks(dialog.repeat, "pendek")
        dialog.submit()
        assert "paling sedikit 8" in dialog.message.text()  # checked before anything is saved
        dialog.password.setText(PASSWORD)
        dialog.repeat.setText(PASSWORD + "x")
        dialog.submit()
        assert "tidak sama" in dialog.message.text()
        dialog.repeat.setText(PASSWORD)
        dialog.submit()
        qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=WAIT)
        return dialog.result()

    monkeypatch.setattr(FirstAdminDialog, "exec", fill_and_accept)
    monkeypatch.setattr(LoginDialog, "exec", lambda self: pytest.fail("no log-in dialog yet"))
    opened = app_module.log_in(tmp_path)
    operator = opened.operator
    assert (operator.username, operator.display_name, operator.role) == (
        "kepala.seksi", "Ibu Kepala Seksi", "admin")
    db = opened.registry.db_for_tests
    assert [r[0] for r in db.execute("SELECT action FROM audit_log WHERE entity = 'operator' "
                                     "ORDER BY seq")] == ["operator.create", "operator.login"]
    stored = db.execute("SELECT password_hash FROM operators").fetchone()[0]
    assert PASSWORD not in stored and stored.startswith("scrypt$")
    # The database was created encrypted, with its key file and a recovery key to show once.
    assert (tmp_path / "registry.key").exists()
    assert not (tmp_path / "registry.sqlite3").read_bytes().startswith(b"SQLite format 3")
    assert len(opened.recovery_key.split("-")) == 6
    opened.registry.close()


def test_the_login_dialog_never_says_which_part_was_wrong(qtbot, worker):
    add_operators(qtbot, worker)
    dialog = LoginDialog(worker)
    qtbot.addWidget(dialog)
    form = dialog.form

    def attempt(username, password):
        form.username.setText(username)
        form.password.setText(password)
        form.submit()
        assert form.password.text() == ""  # the typed password leaves the widget at once
        qtbot.waitUntil(lambda: form.submit_button.isEnabled(), timeout=WAIT)
        return form.message.text()

    unknown = attempt("siapa", PASSWORD)
    wrong = attempt("budi", "bukan-sandinya")
    assert unknown == wrong == "Nama pengguna atau kata sandi salah."
    assert dialog.result() != QDialog.DialogCode.Accepted
    attempt("BUDI", PASSWORD)
    qtbot.waitUntil(lambda: dialog.operator is not None, timeout=WAIT)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.operator.display_name == "Budi Santoso"


def test_run_app_builds_the_window_only_after_a_log_in(qtbot, tmp_path, monkeypatch):
    seed = DbWorker.for_path(tmp_path / "registry.sqlite3")
    seed.start()
    add_operators(qtbot, seed)
    seed.shutdown()

    built = []

    class Stop(Exception):
        pass

    def fake_build(worker, operator=None):
        built.append(operator)
        raise Stop

    monkeypatch.setattr(app_module, "build_window", fake_build)
    monkeypatch.setattr(LoginDialog, "exec", lambda self: QDialog.DialogCode.Rejected)
    assert app_module.run_app(Namespace(data_dir=str(tmp_path))) == 0
    assert built == []  # closing the log-in dialog never shows the window

    def log_in_as_budi(dialog):
        dialog.form.username.setText("budi")
        dialog.form.password.setText(PASSWORD)
        dialog.form.submit()
        qtbot.waitUntil(lambda: dialog.operator is not None, timeout=WAIT)
        return dialog.result()

    monkeypatch.setattr(LoginDialog, "exec", log_in_as_budi)
    with pytest.raises(Stop):
        app_module.run_app(Namespace(data_dir=str(tmp_path)))
    assert [o.username for o in built] == ["budi"]
    # That first log-in upgraded the plain database: encrypted now, and the log-in again works
    # through the key file (for the admin too, whose old password became a wrap).
    assert (tmp_path / "registry.key").exists()
    assert not (tmp_path / "registry.sqlite3").read_bytes().startswith(b"SQLite format 3")
    built.clear()
    with pytest.raises(Stop):
        app_module.run_app(Namespace(data_dir=str(tmp_path)))
    assert [o.username for o in built] == ["budi"]


@pytest.fixture
def window(qtbot, worker):
    admin, _budi = add_operators(qtbot, worker)
    win = app_module.build_window(worker, admin)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.sync_panel.shutdown()
    win.idle.remove()


def unlock_with(qtbot, window, username, password):
    form = window.lock_screen.form
    form.username.setText(username)
    form.password.setText(password)
    form.submit()
    qtbot.waitUntil(lambda: form.submit_button.isEnabled() or not window.locked, timeout=WAIT)


def test_the_logged_in_operator_is_recorded_on_saves(qtbot, window):
    form = window.form
    form._operator = "Nama dari pengaturan"
    assert form.operator_name() == "Ibu Admin"
    assert form.to_registration().operator == "Ibu Admin"
    assert "Ibu Admin" in window.operator_label.text()


def test_idle_lock_keeps_the_form_and_asks_the_password(qtbot, window, worker):
    qtbot.keyClicks(window.form.full_name, "Siti Aminah")
    window.idle.set_interval_ms(150)
    qtbot.waitUntil(lambda: window.locked, timeout=WAIT)
    assert not window.tabs.isVisible() and window.lock_screen.isVisible()
    assert not window.menuBar().isEnabled()
    assert window.lock_screen.form.username.text() == "admin"
    assert "Ibu Admin" in window.lock_screen.text.text()

    unlock_with(qtbot, window, "admin", "bukan-sandinya")
    assert window.locked
    assert window.lock_screen.form.message.text() == "Nama pengguna atau kata sandi salah."
    unlock_with(qtbot, window, "admin", PASSWORD)
    qtbot.waitUntil(lambda: not window.locked, timeout=WAIT)
    assert window.tabs.isVisible() and window.menuBar().isEnabled()
    assert window.form.full_name.text() == "Siti Aminah"  # nothing typed was lost
    assert window.idle.active

    # Another operator unlocks: the window now records that operator.
    window.idle.set_interval_ms(60_000)
    window.lock()
    assert window.locked
    unlock_with(qtbot, window, "budi", PASSWORD)
    qtbot.waitUntil(lambda: not window.locked, timeout=WAIT)
    assert window.session.username == "budi"
    assert window.form.operator_name() == "Budi Santoso"
    assert not window.operators_action.isEnabled()  # budi is no admin
    qtbot.waitUntil(lambda: "operator.screen_locked" in audit_actions(worker), timeout=WAIT)


def test_log_out_leaves_the_window_locked_for_anyone(qtbot, window, worker, monkeypatch):
    monkeypatch.setattr("ui.main_window.QMessageBox.warning", lambda *a, **k: None)
    window.log_out()
    assert window.locked and window.session.operator is None
    assert window.lock_screen.form.username.text() == ""
    unlock_with(qtbot, window, "budi", PASSWORD)
    qtbot.waitUntil(lambda: not window.locked, timeout=WAIT)
    assert window.session.display_name == "Budi Santoso"
    assert window.manage_operators() is None  # only an admin manages operators
    qtbot.waitUntil(lambda: "operator.logout" in audit_actions(worker), timeout=WAIT)


def test_the_admin_manages_operators(qtbot, window, worker):
    dialog = window.manage_operators()
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: len(dialog.operators) == 2, timeout=WAIT)

    dialog.add("sari", "Sari Dewi", "verifikator", "sandi-sari-1")
    qtbot.waitUntil(lambda: len(dialog.operators) == 3, timeout=WAIT)
    assert "Sari Dewi" in dialog.message.text()

    for _ in range(5):
        run_job(qtbot, worker, lambda r: r.operators.log_in("sari", "salah-salah", T0.now(UTC)))
    dialog.reload()
    qtbot.waitUntil(lambda: any(o.username == "sari" and o.locked_until for o in
                                dialog.operators), timeout=WAIT)
    dialog.select("sari")
    dialog.unlock_selected()
    qtbot.waitUntil(lambda: "dibuka" in dialog.message.text(), timeout=WAIT)
    dialog.reset_password("sari", "sandi-sari-2")
    qtbot.waitUntil(lambda: "diganti" in dialog.message.text(), timeout=WAIT)
    result = run_job(qtbot, worker, lambda r: r.operators.log_in("sari", "sandi-sari-2",
                                                                 datetime.now(UTC)))
    assert result.ok
    dialog.deactivate("sari")
    qtbot.waitUntil(lambda: "dinonaktifkan" in dialog.message.text(), timeout=WAIT)
    dialog.deactivate("admin")
    qtbot.waitUntil(lambda: "terakhir" in dialog.message.text(), timeout=WAIT)
    actions = audit_actions(worker)
    for action in ("operator.create", "operator.unlock", "operator.password_reset",
                   "operator.deactivate", "operator.locked"):
        assert action in actions
    rows = worker.readonly.db_for_tests.execute(
        "SELECT operator FROM audit_log WHERE action = 'operator.deactivate'").fetchall()
    assert rows == [("admin",)]


def test_demo_operators_and_the_hint_only_in_demo_mode(qtbot, worker, tmp_path):
    add_operators(qtbot, worker)
    made = run_job(qtbot, worker, create_demo_operators, T0)
    assert made == [u for u, _n, _r in DEMO_OPERATORS]
    assert run_job(qtbot, worker, create_demo_operators, T0) == []  # once
    assert demo_hint(worker.readonly, tmp_path) == ""  # no demo here
    DemoChoice(local_server=True, port=1, seeded=True).save(tmp_path)
    assert (tmp_path / CHOICE_FILE).exists()
    hint = demo_hint(worker.readonly, tmp_path)
    assert "contoh.petugas" in hint and DEMO_PASSWORD in hint
    result = run_job(qtbot, worker, lambda r: r.operators.log_in("contoh.kartu", DEMO_PASSWORD,
                                                                 T0))
    assert result.ok and result.operator.role == "loket_kartu"
    dialog = LoginDialog(worker, hint=hint)
    qtbot.addWidget(dialog)
    assert dialog.form.hint.text() == hint and not dialog.form.hint.isHidden()


def test_dialogs_of_the_window_hide_while_it_is_locked(qtbot, window):
    dialog = QDialog(window)
    dialog.open()  # window-modal, as a record opened from the list
    qtbot.waitUntil(dialog.isVisible, timeout=WAIT)
    window.lock()
    assert window.locked and not dialog.isVisible()
    unlock_with(qtbot, window, "admin", PASSWORD)
    qtbot.waitUntil(lambda: not window.locked, timeout=WAIT)
    assert dialog.isVisible()
    dialog.close()


def test_password_dialogs_refuse_a_mismatch_and_accept_a_match(qtbot):
    from ui.login import PasswordDialog
    from ui.operators_dialog import AddOperatorDialog

    change = PasswordDialog("Ganti kata sandi", ask_old=True)
    qtbot.addWidget(change)
    change.old.setText("lama-sekali")
    change.new.setText("baru-sekali")
    change.repeat.setText("baru-sekalI")
    change._check()
    assert change.result() == 0 and change.message.text()
    change.repeat.setText("baru-sekali")
    change._check()
    assert change.result() == 1 and change.values() == ("lama-sekali", "baru-sekali")

    add = AddOperatorDialog()
    qtbot.addWidget(add)
    add.password.setText("pendek")
    add.repeat.setText("pendek")
    add._check()
    assert add.result() == 0 and "8" in add.message.text()


def test_the_recovery_key_is_shown_once_and_opens_the_database_again(qtbot, tmp_path,
                                                                     monkeypatch):
    from storage.unlock import set_up
    from ui.login import RecoveryDialog, RecoveryKeyDialog

    opened = set_up(tmp_path, "admin", "Ibu Admin", PASSWORD, T0)
    recovery = opened.recovery_key
    opened.registry.close()

    shown = RecoveryKeyDialog(recovery)
    qtbot.addWidget(shown)
    assert shown.key.text().split() == recovery.split("-")  # groups, easy to copy
    assert not shown.ok.isEnabled()
    shown.show()
    shown.reject()  # Escape before "copied" is ticked does not close it
    assert shown.isVisible()
    shown.copied.setChecked(True)
    assert shown.ok.isEnabled()
    shown.ok.click()
    assert not shown.isVisible() and shown.result() == QDialog.DialogCode.Accepted

    dialog = RecoveryDialog(tmp_path)
    qtbot.addWidget(dialog)
    dialog.key.setText("AAAAA-BBBBB-CCCCC-DDDDD-EEEEE-FFFFF")
    dialog.username.setText("admin")
    dialog.new.setText("sandi-baru-99")
    dialog.repeat.setText("sandi-baru-99")
    dialog._check()
    assert "Kunci pemulihan salah" in dialog.message.text()
    assert dialog.result() != QDialog.DialogCode.Accepted
    dialog.key.setText(recovery.lower())
    dialog._check()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.opened.operator.username == "admin"
    dialog.opened.registry.close()

    login = LoginDialog(folder=tmp_path)
    qtbot.addWidget(login)
    login.form.username.setText("admin")
    login.form.password.setText(PASSWORD)
    login.form.submit()
    assert login.form.message.text() == "Nama pengguna atau kata sandi salah."
    login.form.password.setText("sandi-baru-99")
    login.form.submit()
    assert login.result() == QDialog.DialogCode.Accepted
    login.opened.registry.close()
