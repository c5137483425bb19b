"""The main window: a tab per job (registration form, list, and the panels others add)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from storage import roles
from ui import dashboard_link, errors, screen_fit, tab_keys
from ui.labels import LANGUAGES, language, plain, t
from ui.long_task import LongTask
from ui.registration_form import RegistrationForm
from ui.registrations_view import RegistrationsView
from ui.session import IdleWatcher, Session, role_label
from ui.status_bar import RegistryStatusBar


class LazyPanel(QWidget):
    """A tab's holder that builds the real widget on first use. The widget sits in a scroll
    area: a panel taller or wider than a 1366×768 screen scrolls inside its tab instead of
    making the window larger than the screen (ui/screen_fit.py)."""

    def __init__(self, factory: Callable[[], QWidget], parent: QWidget | None = None):
        super().__init__(parent)
        self._factory = factory
        self._widget: QWidget | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._scroll = QScrollArea(self)
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._layout.addWidget(self._scroll)

    def widget(self) -> QWidget:
        if self._widget is None:
            self._widget = self._factory()
            self._scroll.setWidget(self._widget)
        return self._widget

    @property
    def built(self) -> bool:
        return self._widget is not None


class MainWindow(QMainWindow):
    """Owns the tabs and the status bar; refreshes what shows data after every write.

    With `operator` (the one who logged in, from ui/app.py) the window records that operator on
    saves, locks itself after `idle_lock_minutes` without input, and has the operator menu
    (lock, log out, change password, manage operators for an admin). Without one (tests, the
    benchmarks, screenshots) it behaves as before: no lock.

    Tabs and menu actions follow what the operator may do (storage/roles.py: the operator's
    role and the device's enrolled role): `apply_roles()` hides and disables the rest, each
    time the operator or the device's role changes."""

    def __init__(self, worker: Any, parent: QWidget | None = None, *, operator: Any = None):
        super().__init__(parent)
        self.worker = worker
        self.session = Session(operator, self)
        self.setWindowTitle(t("app.title"))
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("tabs")
        # The lock screen takes the tabs' place: hidden tabs show nothing and take no shortcut,
        # and every widget keeps what was typed in it.
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.tabs)
        self.setCentralWidget(self.stack)
        self.lock_screen: Any = None
        self.idle: IdleWatcher | None = None
        # What the form held when the window locked, for the same operator's return:
        # (username, draft) — another operator gets an empty form.
        self._parked: tuple[str, dict | None] | None = None
        self.ask_draft: Callable[[str], bool] | None = None  # replaces the question (tests)

        self.form = RegistrationForm(worker, parent=self)
        scroll = QScrollArea(self)
        scroll.setWidget(self.form)
        scroll.setWidgetResizable(True)
        self.tabs.addTab(scroll, t("tab.form"))
        self.registrations = RegistrationsView(worker, self)
        self.tabs.addTab(self.registrations, t("tab.list"))
        # Built when first shown (or first used): their imports (PDF, HTTP) would slow the start.
        self._card_desk = self.add_lazy_panel(t("tab.cards"), self._make_card_desk)
        self._verify_panel = self.add_lazy_panel(t("tab.card_check"), self._make_verify_panel)
        self._verifier = self.add_lazy_panel(t("tab.verifier"), self._make_verifier)
        self._claims = self.add_lazy_panel(t("tab.claims"), self._make_claims)
        from ui.record_dialog import open_record
        from ui.sync_panel import SyncPanel

        self.sync_panel = SyncPanel(worker, self)
        self.sync_panel.open_record.connect(lambda rid: open_record(self, worker, rid))
        self.add_panel(t("tab.sync"), self.sync_panel)
        # The capability each tab needs (storage/roles.py); tabs others add need none.
        self._tab_capability: dict[QWidget, str] = {
            scroll: roles.REGISTER, self.registrations: roles.LIST,
            self._card_desk: roles.CARDS, self._verify_panel: roles.CHECK_CARDS,
            self._verifier: roles.VERIFY, self._claims: roles.VERIFY,
            self.sync_panel: roles.SYNC,
        }
        self.sync_panel.start_watching()  # sync starts by itself when the server is reachable

        self.status = RegistryStatusBar(worker, self)
        self.setStatusBar(self.status)
        self._list_stale = False
        worker.changed.connect(self.data_changed)
        worker.error.connect(lambda exc: errors.show_error(self, exc))
        worker.busy_changed.connect(self.status.set_busy)
        self.form.message.connect(lambda text: self.status.showMessage(text, 10_000))
        self.tabs.currentChanged.connect(self._tab_changed)
        self._build_menus()
        tab_keys.install(self, self.tabs)  # Ctrl+Tab, Ctrl+PgUp/PgDown from any widget
        self.operator_label = QLabel(self)
        self.operator_label.setObjectName("operator_label")
        self.status.addPermanentWidget(self.operator_label)
        self.session.changed.connect(self._operator_changed)
        self._read_device_role()
        if operator is not None:
            self._start_session()
        self.apply_roles()
        screen_fit.fit(self, screen_fit.MAIN_WINDOW)  # fits a 1366×768 laptop

    # -- for other panels -----------------------------------------------------------------

    def add_panel(self, title: str, widget: QWidget) -> int:
        """Add a tab (card desk, verification, sync…); returns its index."""
        return self.tabs.addTab(widget, title)

    def add_lazy_panel(self, title: str, factory: Callable[[], QWidget]) -> LazyPanel:
        """Add a tab whose widget `factory()` makes the first time the tab is shown."""
        panel = LazyPanel(factory, self)
        self.tabs.addTab(panel, title)
        return panel

    def _make_card_desk(self) -> QWidget:
        from ui.card_desk import CardDeskPanel

        return CardDeskPanel(self.worker, self)  # names the session's operator on each step

    def _make_verify_panel(self) -> QWidget:
        from ui.verify_panel import VerifyPanel

        return VerifyPanel(self.worker, self)

    def _make_verifier(self) -> QWidget:
        from ui.verifier_panel import VerifierPanel

        return VerifierPanel(self.worker, self)  # decides as the session's operator

    def _make_claims(self) -> QWidget:
        from ui.claims_panel import ClaimsPanel

        return ClaimsPanel(self.worker, self)  # JKM claims and PDP requests, as the operator

    @property
    def card_desk(self) -> Any:
        return self._card_desk.widget()

    @property
    def verify_panel(self) -> Any:
        return self._verify_panel.widget()

    @property
    def verifier(self) -> Any:
        return self._verifier.widget()

    def data_changed(self) -> None:
        """Something was written (a save, a sync, an import): refresh counts and the list."""
        self._read_device_role()  # an enrolment or a sync may have changed it
        self.status.refresh()
        if self.tabs.currentWidget() is self.registrations:
            self.registrations.refresh()
        else:
            self._list_stale = True  # refreshed when the list is next shown

    def _tab_changed(self, _index: int) -> None:
        current = self.tabs.currentWidget()
        if isinstance(current, LazyPanel):
            current.widget()
        if self._list_stale and self.tabs.currentWidget() is self.registrations:
            self._list_stale = False
            self.registrations.refresh()

    # -- menus ----------------------------------------------------------------------------

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu(t("menu.file"))
        self.demo_action = QAction(t("menu.demo"), self)
        self.demo_action.triggered.connect(lambda: self.create_demo_data())
        file_menu.addAction(self.demo_action)
        self.import_action = QAction(t("menu.import"), self)
        self.import_action.triggered.connect(lambda: self.import_csv())
        file_menu.addAction(self.import_action)
        file_menu.addSeparator()
        quit_action = QAction(t("menu.quit"), self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        language_menu = self.menuBar().addMenu(t("menu.language"))
        for code, name in LANGUAGES.items():
            action = QAction(name, self, checkable=True, checked=code == language())
            action.triggered.connect(lambda _checked, c=code: self._choose_language(c))
            language_menu.addAction(action)

        from ui import help as guides  # *Bantuan*: a guide per role, the version

        guides.build_menu(self, self.menuBar().addMenu(t("menu.help")))

        self._build_operator_menu()

    def _build_operator_menu(self) -> None:
        menu = self.menuBar().addMenu(t("menu.operator"))
        self.operator_menu = menu
        self.lock_action = QAction(t("menu.lock"), self)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_action.triggered.connect(self.lock)
        self.logout_action = QAction(t("menu.logout"), self)
        self.logout_action.triggered.connect(self.log_out)
        self.password_action = QAction(t("menu.password"), self)
        self.password_action.triggered.connect(self.change_own_password)
        self.operators_action = QAction(t("menu.operators"), self)
        self.operators_action.triggered.connect(self.manage_operators)
        for action in (self.lock_action, self.logout_action, self.password_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.operators_action)
        dashboard_link.add_to(menu, self)  # verifiers and admins: the office's dashboard
        self._update_operator_actions()

    def _update_operator_actions(self) -> None:
        logged_in = self.session.operator is not None
        for action in (self.lock_action, self.logout_action, self.password_action):
            action.setEnabled(logged_in)
        self.operators_action.setEnabled(self.session.may(roles.MANAGE_OPERATORS))
        self.operators_action.setVisible(self.session.may(roles.MANAGE_OPERATORS))
        self.operator_menu.menuAction().setVisible(logged_in or self.lock_screen is not None)

    # -- roles ----------------------------------------------------------------------------

    def _read_device_role(self) -> None:
        """The role the server gave this device at enrolment ("" before it is enrolled)."""
        from sync.state import get_meta

        try:
            role = get_meta(self.worker.readonly, "device_role")
        except Exception:  # noqa: BLE001 - a database without sync tables: not enrolled
            role = ""
        self.session.set_device_role(role)

    def apply_roles(self) -> None:
        """Show and enable only the tabs and actions the operator may use. A hidden tab is
        also disabled, so none of its shortcuts fire."""
        session = self.session
        before = self.tabs.currentWidget()
        for index in range(self.tabs.count()):
            widget = self.tabs.widget(index)
            capability = self._tab_capability.get(widget)
            allowed = capability is None or session.may(capability)
            self.tabs.setTabVisible(index, allowed)
            widget.setEnabled(allowed)
        # The tab in use went away (another role): the new role's first tab, not a neighbour.
        kept = before is not None and self.tabs.isTabVisible(self.tabs.indexOf(before))
        if not kept:
            visible = [i for i in range(self.tabs.count()) if self.tabs.isTabVisible(i)]
            if visible:
                self.tabs.setCurrentIndex(visible[0])
        for action, capability in ((self.import_action, roles.REGISTER),
                                   (self.demo_action, roles.DEMO_DATA)):
            action.setVisible(session.may(capability))
            action.setEnabled(session.may(capability))
        self._update_operator_actions()

    def visible_tabs(self) -> list[str]:
        """The titles of the tabs shown, in order (for tests and the user guide)."""
        return [self.tabs.tabText(i) for i in range(self.tabs.count())
                if self.tabs.isTabVisible(i)]

    # -- the logged-in operator, locking --------------------------------------------------

    def _start_session(self) -> None:
        from ui.lock_screen import LockScreen

        self.lock_screen = LockScreen(self.worker, self)
        self.lock_screen.unlocked.connect(self.unlock)
        self.stack.addWidget(self.lock_screen)
        minutes = int(self.worker.readonly.get_setting("idle_lock_minutes"))
        self.idle = IdleWatcher(minutes * 60_000, self)
        self.idle.idle.connect(self.lock)
        self.idle.start()
        self._operator_changed(self.session.operator)

    @property
    def locked(self) -> bool:
        return self.lock_screen is not None and self.stack.currentWidget() is self.lock_screen

    def lock(self) -> None:
        """Cover the window until the operator (or another one) logs in. Nothing typed is
        lost: the form's draft is written for its operator and the form is emptied; the same
        operator gets it back on unlocking, another operator never sees it."""
        if self.lock_screen is None or self.locked:
            return
        from PySide6.QtWidgets import QApplication

        modal = QApplication.activeModalWidget()
        if modal is not None and modal.windowModality() == Qt.WindowModality.ApplicationModal:
            # A question waits in its own event loop (exec); hiding it would answer it. The
            # lock comes after the next pause instead.
            if self.idle is not None:
                self.idle.start()
            return
        self._parked = (self.session.username, self.form.clear_for_operator_change())
        if self.session.operator is not None:
            self._record_event("operator.screen_locked")
        self._cover(self.session.operator)

    def log_out(self) -> None:
        """The operator leaves: the window stays locked until someone logs in."""
        if self.lock_screen is None:
            return
        self.form.clear_for_operator_change()  # kept as that operator's draft, offered to them
        self._parked = None
        if self.session.operator is not None:
            self._record_event("operator.logout")
        self.session.set_operator(None)
        self._cover(None)

    def _cover(self, operator: Any) -> None:
        if self.idle is not None:
            self.idle.stop()
        # Dialogs opened from the window (a record, the operator list) hide with it and come
        # back, as they were, after the log-in.
        self._hidden_dialogs = [d for d in self.findChildren(QDialog)
                                if d.isVisible() and d.isWindow()]
        for dialog in self._hidden_dialogs:
            dialog.hide()
        self.lock_screen.show_for(operator)
        self.stack.setCurrentWidget(self.lock_screen)
        self.menuBar().setEnabled(False)
        self.lock_screen.form.focus()

    def unlock(self, operator: Any) -> None:
        """After a successful log-in on the lock screen (the same operator or another). The
        same operator finds the window as they left it; another one gets an empty form, the
        offer of their own draft, and none of the previous operator's dialogs."""
        parked, self._parked = self._parked, None
        same = parked is not None and parked[0] == getattr(operator, "username", None)
        self.stack.setCurrentWidget(self.tabs)
        self.menuBar().setEnabled(True)
        self.session.set_operator(operator)  # another operator may have logged in
        for dialog in getattr(self, "_hidden_dialogs", []):
            if same:
                dialog.show()
            else:
                dialog.reject()  # a correction half-typed by someone else is not theirs
        self._hidden_dialogs = []
        if same and parked[1]:
            self.form.apply_draft(parked[1])
        elif not same:
            from ui.draft_recovery import offer_draft

            offer_draft(self, self.worker, self.form, ask=self.ask_draft)
        if self.idle is not None:
            self.idle.start()
        self.form.setFocus()

    def _record_event(self, action: str) -> None:
        from ui.login_parts import now_utc

        username = self.session.username
        self.worker.call(lambda r, u, a, now: r.operators.record_event(u, a, now=now),
                         username, action, now_utc(), on_error=lambda exc: None)

    def _operator_changed(self, operator: Any) -> None:
        if operator is None:
            self.operator_label.clear()
        else:
            self.operator_label.setText(t("status.operator", name=operator.display_name,
                                          role=role_label(operator.role)))
        self.apply_roles()
        for panel in (self._card_desk, self._verifier, self._claims):
            if panel.built and hasattr(panel.widget(), "apply_roles"):
                panel.widget().apply_roles()

    def change_own_password(self) -> None:
        from ui.login import ask_password, change_password_job
        from ui.login_parts import error_text, now_utc

        if self.session.operator is None:
            return
        answer = ask_password(self, plain("password.title"), ask_old=True)
        if answer is None:
            return
        old, new = answer
        self.worker.call(
            change_password_job, self.session.username, old or "", new, now_utc(),
            on_result=lambda _r: QMessageBox.information(self, plain("password.title"),
                                                         t("password.done")),
            on_error=lambda exc: QMessageBox.warning(self, plain("password.title"),
                                                     error_text(exc)),
            changes=True,
        )

    def manage_operators(self) -> Any:
        """The admin's operator list (modeless; returned for tests)."""
        if not self.session.is_admin or not self.session.may(roles.MANAGE_OPERATORS):
            QMessageBox.warning(self, plain("ops.title"), t("ops.admin_only"))
            return None
        from ui.operators_dialog import OperatorsDialog

        dialog = OperatorsDialog(self.worker, self.session, self)
        dialog.open()
        return dialog

    def _choose_language(self, code: str) -> None:
        self.worker.call(lambda r, c: r.set_setting("language", c), code)
        QMessageBox.information(self, plain("menu.language"), t("language.restart"))

    def create_demo_data(self, count: int | None = None) -> LongTask | None:
        """Fill the database with fictitious workers, off the main thread, with progress."""
        if not self.session.may(roles.DEMO_DATA):
            return None
        if count is None:
            count, ok = QInputDialog.getInt(self, t("demo.title"), t("demo.prompt"),
                                            1000, 1, 300_000, 1000)
            if not ok:
                return None
        from storage.demo import fill_demo_data

        task = LongTask(self, self.worker, t("demo.title"), t("demo.progress"),
                        fill_demo_data, count)
        task.finished.connect(lambda result: self._demo_done(task, result))
        return task

    def import_csv(self, path: str | None = None, **options: Any) -> LongTask | None:
        """Berkas → Impor CSV…: see ui/csv_import.py."""
        if not self.session.may(roles.REGISTER):
            return None
        from ui.csv_import import start_import

        return start_import(self, path, **options)

    def _demo_done(self, task: LongTask, result: Any) -> None:
        created = result if isinstance(result, int) else getattr(result, "created", 0)
        text = t("progress.cancelled") if task.cancelled else t("demo.done", n=created)
        self.status.showMessage(text, 10_000)

    # -- closing --------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self.form.flush_draft()  # the draft timer may not have fired yet
        if self.idle is not None:
            self.idle.remove()
        self.sync_panel.shutdown()  # a running sync stops after its batch; nothing is lost
        if self._card_desk.built:
            self._card_desk.widget().shutdown()  # a reprint under way gets its answer stored
        if self._claims.built:
            self._claims.widget().shutdown()
        super().closeEvent(event)
