"""The card desk: members ready to print, batch printing with preview, the system's print dialog
or "Simpan sebagai PDF", hand-over and reprints.

The panel builds the tab, filters its list and starts the steps; each concern is a module of its
own: the list is `ui/card_model.py`, the steps (print a batch, hand over, reprint) are
`ui/card_steps.py`, printing off the main thread `ui/card_printing.py` (the reprint's request and the
batch run through `ui/tasks.py`), and every question and message to the operator `ui/card_dialogs.py`.

Every print, hand-over and reprint names the operator logged in to the window (ui/session.py),
read on the main thread when the step starts, never inside a background job. Only an operator
whose role (and this device's role) allows the card desk may use it: the buttons are disabled
for anyone else and each step refuses even when reached another way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cards import desk
from storage import roles
from storage.models import COHORT_LABELS
from ui import card_dialogs
from ui.card_model import VIEWS, CardRowsModel
from ui.card_steps import CardSteps
from ui.combos import choices, kelurahan_choices, refill
from ui.labels import t, term

COLUMN_WIDTHS = (260, 150, 170, 140, 160, 90, 100)  # the last column stretches


class CardDeskPanel(QWidget):
    """The card desk tab. `worker` is the DbWorker; reads use `worker.readonly`."""

    printed = Signal(int)  # cards recorded as printed

    def __init__(self, worker: Any, parent: QWidget | None = None, *, data_dir: Path | None = None,
                 operator: str = "petugas cetak"):
        super().__init__(parent)
        self.worker = worker
        self.operator = operator  # recorded only outside a logged-in window (tests, scripts)
        self._data_dir = data_dir
        self.model = CardRowsModel(worker.readonly, self)
        self.steps = CardSteps(self)
        self._build()
        self.refresh()

    # -- building -------------------------------------------------------------------------

    def _build(self) -> None:
        self._build_filters()
        self._build_table()
        self.count_label = QLabel(self)
        self.note = QLabel(self)  # the outcome of the last reprint (the count is refreshed)
        self.note.setObjectName("card_note")
        self._build_actions()
        root = QVBoxLayout(self)
        root.addLayout(_row(self.view_box, self.kecamatan, self.kelurahan, self.cohort,
                            self.event, (self.search, 1)))
        root.addWidget(self.table, 1)
        root.addWidget(self.count_label)
        root.addWidget(self.note)
        root.addLayout(_row(self.layout_box, self.select_all_button, self.preview_button,
                            self.print_button, self.save_button, None, self.handover_button,
                            self.reprint_button))
        self._connect()

    def _build_filters(self) -> None:
        self.view_box = self._combo([(t(f"desk.view.{key}"), key) for key in VIEWS])
        self.kecamatan = self._combo([(t("desk.all_kecamatan"), "")] + [
            (kec.name, kec.code) for kec in self.worker.readonly.regions.kecamatan_list()])
        self.kelurahan = QComboBox(self)
        self.cohort = self._combo([(t("desk.all_cohorts"), "")] + [
            (term("cohort", value.value), value.value) for value in COHORT_LABELS])
        self.event = QComboBox(self)
        self._fill_events()
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(t("desk.search"))
        self.search.setClearButtonEnabled(True)
        refill(self.kelurahan, kelurahan_choices(self.worker.readonly.regions, "",
                                                 t("desk.all_kelurahan")))

    def _combo(self, items: list[tuple[str, Any]]) -> QComboBox:
        combo = QComboBox(self)
        for label, data in items:
            combo.addItem(label, data)
        return combo

    def _build_table(self) -> None:
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate(COLUMN_WIDTHS):
            self.table.setColumnWidth(column, width)

    def _build_actions(self) -> None:
        self.layout_box = self._combo([(t("desk.layout.a4"), "a4"),
                                       (t("desk.layout.cr80"), "cr80")])
        self.select_all_button = QPushButton(t("desk.select_all"), self)
        self.preview_button = QPushButton(t("desk.preview"), self)
        self.print_button = QPushButton(t("desk.print"), self)
        self.save_button = QPushButton(t("desk.save_pdf"), self)
        self.handover_button = QPushButton(t("desk.hand_over"), self)
        self.reprint_button = QPushButton(t("desk.reprint"), self)

    def _connect(self) -> None:
        self.kecamatan.currentIndexChanged.connect(self._fill_kelurahan)
        for box in (self.view_box, self.kelurahan, self.cohort, self.event):
            box.currentIndexChanged.connect(self.refresh)
        self.search.returnPressed.connect(self.refresh)
        for button, action in ((self.select_all_button, self.select_all),
                               (self.preview_button, self.preview),
                               (self.print_button, self.print_dialog),
                               (self.save_button, self.save_dialog),
                               (self.handover_button, self.hand_over_dialog),
                               (self.reprint_button, self.reprint_dialog)):
            button.clicked.connect(action)
        self.worker.changed.connect(self.refresh)

    def _fill_kelurahan(self) -> None:
        refill(self.kelurahan, kelurahan_choices(
            self.worker.readonly.regions, self.kecamatan.currentData(), t("desk.all_kelurahan")))
        self.refresh()

    def _fill_events(self) -> None:
        """The kegiatan of the cards this desk holds (most registered on other devices, whose
        kegiatan names this device may not know). Refilled as cards arrive in sync."""
        events = [(t("desk.all_events"), "")] + [
            (name or t("desk.other_event", code=event_id[-8:]), event_id)
            for event_id, name in desk.card_events(self.worker.readonly)
        ]
        if events != choices(self.event):
            refill(self.event, events)

    # -- list -----------------------------------------------------------------------------

    def filters(self) -> desk.CardFilter:
        return desk.CardFilter(
            kecamatan_code=self.kecamatan.currentData() or "",
            kelurahan_code=self.kelurahan.currentData() or "",
            cohort=self.cohort.currentData() or "",
            event_id=self.event.currentData() or "",
            text=self.search.text(),
        )

    def refresh(self) -> None:
        if not hasattr(self, "table"):
            return
        self._fill_events()
        self.model.reload(self.view_box.currentData(), self.filters())
        view = self.view_box.currentData()
        self.count_label.setText(t("desk.count", view=t(f"desk.view.{view}"),
                                   n=self.model.total()))
        for button in (self.preview_button, self.print_button, self.save_button):
            button.setEnabled(view == "ready")
        self.handover_button.setEnabled(view == "hand_over")
        self.apply_roles()

    def select_all(self) -> None:
        self.model.fetch_all()
        self.table.selectAll()

    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.rows[r].registration_id for r in rows]

    # -- who acts, and may they -----------------------------------------------------------

    def allowed(self) -> bool:
        """Whether the operator of the window may use the card desk (a panel outside a window
        with a session, as in tests and scripts, is limited by the server alone)."""
        from ui.session import may

        return may(self, roles.CARDS)

    def who(self) -> dict[str, str] | str:
        """Who a step is recorded for: the logged-in operator (`{"username",
        "display_name"}`), read on the main thread; outside a logged-in window the name the
        panel was given."""
        from ui.session import session_of

        session = session_of(self)
        if session is not None and session.operator is not None:
            return session.operator_ref()
        return self.operator

    def apply_roles(self) -> None:
        """Disable every step for an operator who may not use the desk (the window hides the
        tab too; this holds when the panel is reached anyway)."""
        if self.allowed():
            # refresh() sets what the current view allows; these two depend on nothing else.
            self.select_all_button.setEnabled(True)
            self.reprint_button.setEnabled(not self.steps.reprinting)
            return
        for button in (self.preview_button, self.print_button, self.save_button,
                       self.handover_button, self.reprint_button, self.select_all_button):
            button.setEnabled(False)
        self.note.setText(t("desk.not_allowed"))

    def _refuse(self) -> bool:
        """True (and says why) when the operator may not use the desk."""
        if self.allowed():
            return False
        self.apply_roles()
        card_dialogs.say_not_allowed(self)
        return True

    def _chosen(self, *, one: bool = False) -> list[str] | None:
        """The cards chosen, when the operator may act on them and chose some (or exactly
        one); else None, and the operator is told why."""
        if self._refuse():
            return None
        ids = self.selected_ids()
        if (len(ids) != 1) if one else (not ids):
            card_dialogs.tell(self, "desk.choose_one" if one else "desk.choose_some")
            return None
        return ids

    def _need_selection(self) -> list[str] | None:
        return self._chosen()

    def _one_selected(self) -> str | None:
        return ids[0] if (ids := self._chosen(one=True)) else None

    # -- printing -------------------------------------------------------------------------

    def _printable(self) -> list[str] | None:
        """The cards chosen, once any short validity was accepted."""
        if (ids := self._need_selection()) is None:
            return None
        ends = {r.registration_id: r.valid_until for r in self.model.rows}
        short_ok = card_dialogs.short_validity_accepted(self, [ends[i] for i in ids if i in ends])
        return ids if short_ok else None

    def save_dialog(self) -> None:
        if (ids := self._printable()) is not None and (path := card_dialogs.ask_pdf_path(self)):
            self.start_batch(ids, path)

    def print_dialog(self) -> None:
        if (ids := self._printable()) is None:
            return
        printer = card_dialogs.ask_printer(self, self.layout_box.currentData())
        if printer is not None:
            self.start_batch(ids, None, printer=printer)

    def preview(self) -> None:
        """Shows the first sheet (or card) of the selection; nothing is recorded."""
        if (ids := self._need_selection()) is None:
            return
        layout = self.layout_box.currentData()
        per_page = 10 if layout == "a4" else 1
        self.worker.call(desk.load_print_cards, ids[:per_page],
                         on_result=lambda cards: self._show_preview(cards, layout),
                         on_error=lambda exc: card_dialogs.show_error(self, exc))

    def _show_preview(self, cards: list, layout: str) -> None:
        self.preview_dialog = card_dialogs.open_preview(self, cards, layout)

    def start_batch(self, ids: list[str], out: Path | None, *, printer: QPrinter | None = None,
                    on_finished: Callable[[bool], None] | None = None) -> None:
        """Make the PDF (and print it) off the main thread, then record the cards.
        `on_finished(recorded)` is for callers that wait (tests, batch scripts)."""
        if self._refuse():
            if on_finished:
                on_finished(False)
            return
        self.steps.print_batch(ids, out, self.layout_box.currentData(), self.who(),
                               printer=printer, on_finished=on_finished)

    # -- hand-over and reprint ----------------------------------------------------------

    def _ask_about_one(self, ask: Callable, then: Callable) -> None:
        """For the one card chosen: ask the operator, then act on the answer (None: cancelled)."""
        if (reg_id := self._one_selected()) is not None and (answer := ask(self)) is not None:
            then(reg_id, answer)

    def hand_over_dialog(self) -> None:
        self._ask_about_one(card_dialogs.ask_received_by, self.hand_over)

    def hand_over(self, reg_id: str, received_by: str, on_done=None) -> None:
        if not self._refuse():
            self.steps.hand_over(reg_id, received_by, self.who(), on_done)

    def reprint_dialog(self) -> None:
        self._ask_about_one(card_dialogs.ask_reprint_reason, self.reprint)

    def reprint(self, reg_id: str, reason: str, on_done=None, on_error=None) -> None:
        """Reprint the current card; `on_done((serial, version))` once the new card is kept,
        `on_error(exc)` after the error was shown (nothing changed then)."""
        if not self._refuse():
            self.steps.reprint(reg_id, reason, self.who(), self._data_dir, on_done, on_error)

    def busy(self) -> bool:
        return self.steps.calls.busy()

    def shutdown(self) -> None:
        self.steps.calls.wait()


def _row(*items: QWidget | tuple[QWidget, int] | None) -> QHBoxLayout:
    """A line of widgets; `(widget, stretch)` stretches one, None is a stretch between."""
    row = QHBoxLayout()
    for item in items:
        if item is None:
            row.addStretch(1)
        elif isinstance(item, tuple):
            row.addWidget(*item)
        else:
            row.addWidget(item)
    return row
