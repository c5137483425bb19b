"""The main window: a tab per job (registration form, list, and the panels others add)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QInputDialog,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ui import errors
from ui.labels import LANGUAGES, language, plain, t
from ui.long_task import LongTask
from ui.registration_form import RegistrationForm
from ui.registrations_view import RegistrationsView
from ui.status_bar import RegistryStatusBar


class LazyPanel(QWidget):
    """A tab's holder that builds the real widget on first use."""

    def __init__(self, factory: Callable[[], QWidget], parent: QWidget | None = None):
        super().__init__(parent)
        self._factory = factory
        self._widget: QWidget | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def widget(self) -> QWidget:
        if self._widget is None:
            self._widget = self._factory()
            self._layout.addWidget(self._widget)
        return self._widget

    @property
    def built(self) -> bool:
        return self._widget is not None


class MainWindow(QMainWindow):
    """Owns the tabs and the status bar; refreshes what shows data after every write."""

    def __init__(self, worker: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.worker = worker
        self.setWindowTitle(t("app.title"))
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("tabs")
        self.setCentralWidget(self.tabs)

        self.form = RegistrationForm(worker, parent=self)
        scroll = QScrollArea(self)
        scroll.setWidget(self.form)
        scroll.setWidgetResizable(True)
        self.tabs.addTab(scroll, t("tab.form"))
        self.registrations = RegistrationsView(worker, self)
        self.tabs.addTab(self.registrations, t("tab.list"))
        # Built when first shown (or first used): their imports (PDF, HTTP) would slow the start.
        self._card_desk = self.add_lazy_panel("Kartu", self._make_card_desk)
        self._verify_panel = self.add_lazy_panel("Periksa kartu", self._make_verify_panel)
        self._verifier = self.add_lazy_panel("Verifikasi", self._make_verifier)
        from ui.record_dialog import open_record
        from ui.sync_panel import SyncPanel

        self.sync_panel = SyncPanel(worker, self)
        self.sync_panel.open_record.connect(lambda rid: open_record(self, worker, rid))
        self.add_panel("Sinkronisasi", self.sync_panel)
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
        self.resize(1280, 860)

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

        return CardDeskPanel(self.worker, self)

    def _make_verify_panel(self) -> QWidget:
        from ui.verify_panel import VerifyPanel

        return VerifyPanel(self.worker, self)

    def _make_verifier(self) -> QWidget:
        from ui.verifier_panel import VerifierPanel

        return VerifierPanel(self.worker, self)

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
        demo = QAction(t("menu.demo"), self)
        demo.triggered.connect(self.create_demo_data)
        file_menu.addAction(demo)
        import_csv = QAction(t("menu.import"), self)
        import_csv.triggered.connect(lambda: self.import_csv())
        file_menu.addAction(import_csv)
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

        help_menu = self.menuBar().addMenu(t("menu.help"))
        about = QAction(t("menu.about"), self)
        about.triggered.connect(
            lambda: QMessageBox.about(self, plain("menu.about"), t("about.text")))
        help_menu.addAction(about)

    def _choose_language(self, code: str) -> None:
        self.worker.call(lambda r, c: r.set_setting("language", c), code)
        QMessageBox.information(self, plain("menu.language"), t("language.restart"))

    def create_demo_data(self, count: int | None = None) -> LongTask | None:
        """Fill the database with fictitious workers, off the main thread, with progress."""
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
        from ui.csv_import import start_import

        return start_import(self, path, **options)

    def _demo_done(self, task: LongTask, result: Any) -> None:
        created = result if isinstance(result, int) else getattr(result, "created", 0)
        text = t("progress.cancelled") if task.cancelled else t("demo.done", n=created)
        self.status.showMessage(text, 10_000)

    # -- closing --------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self.form.flush_draft()  # the draft timer may not have fired yet
        self.sync_panel.shutdown()  # a running sync stops after its batch; nothing is lost
        if self._card_desk.built:
            self._card_desk.widget().shutdown()  # a reprint under way gets its answer stored
        super().closeEvent(event)
