"""The card desk's steps, each named for the operator who started it: printing a batch (the PDF
or the print job made off the main thread, then the cards recorded as printed through the
DbWorker), handing a card over, and reprinting one.

Hand-over and reprint are ops/cards.py, shared with the command line. A reprint on a desk
enrolled with the server is asked of the server on the desk's pool (a `ui.tasks.Tasks`; the
database worker only reads the card version before and keeps the answer after); a device
without a server signs it locally with its demo key. The batch's PDF and printing run as a
`LongRun` (ui/card_printing.py `make_cards`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QProgressDialog

from cards import desk
from cards.pdf import BatchCancelled
from ops import cards as card_ops
from ui import card_dialogs
from ui.card_printing import make_cards
from ui.labels import t
from ui.tasks import LongRun, Tasks

if TYPE_CHECKING:
    from ui.card_desk import CardDeskPanel

Finished = Callable[[bool], None] | None


class CardSteps:
    """`print_batch`, `hand_over` and `reprint` for the desk `panel` (its worker, layout choice,
    labels and buttons); the operator is read by the caller, on the main thread."""

    def __init__(self, panel: CardDeskPanel):
        self.panel = panel
        self.worker = panel.worker
        self.calls = Tasks(panel, threads=1)  # the reprint asked of the server
        self._job: LongRun | None = None  # the batch being made
        self._progress: QProgressDialog | None = None
        self.reprinting = False  # a reprint asked of the server waits for its answer

    # -- printing -------------------------------------------------------------------------

    def print_batch(self, ids: list[str], out: Path | None, layout: str, operator: Any, *,
                    printer: QPrinter | None = None, on_finished: Finished = None) -> None:
        """Load the cards, make the PDF (and print it) off the main thread, then record them."""
        def loaded(cards: list) -> None:
            target = out or Path(tempfile.mkdtemp(prefix="cetak-kartu-")) / "kartu.pdf"
            job = LongRun(make_cards, cards, target, layout, printer, parent=self.panel,
                          start=False)
            self._run_job(job, cards, on_finished, operator)

        self.worker.call(desk.load_print_cards, ids, on_result=loaded,
                         on_error=lambda exc: self._finish_error(exc, on_finished))

    def _run_job(self, job: LongRun, cards: list, on_finished: Finished, operator: Any) -> None:
        self._progress = self._progress_dialog(len(cards))
        self._progress.canceled.connect(job.cancel)
        job.progress.connect(lambda done, total, _phase: self._progress.setValue(done))
        job.finished.connect(lambda pages: self._job_done(cards, on_finished, operator))
        job.failed.connect(lambda exc: self._finish_error(exc, on_finished))
        self._job = job
        job.start()

    def _progress_dialog(self, total: int) -> QProgressDialog:
        progress = QProgressDialog(t("desk.preparing"), t("progress.cancel"), 0, total,
                                   self.panel)
        progress.setWindowTitle(t("desk.print_title"))
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(300)
        progress.setAutoClose(False)
        return progress

    def _close_progress(self) -> None:
        if self._progress is not None:
            self._progress.reset()
            self._progress.deleteLater()
            self._progress = None

    def _job_done(self, cards: list, on_finished: Finished, operator: Any) -> None:
        self._close_progress()
        keys = [(c.serial, c.version) for c in cards]

        def recorded(count: int) -> None:
            self.panel.count_label.setText(t("desk.printed", n=count))
            self.panel.printed.emit(count)
            if on_finished:
                on_finished(True)

        self.worker.call(lambda registry: desk.record_printed(registry, keys, operator=operator),
                         on_result=recorded, on_error=lambda e: self._finish_error(e, on_finished),
                         changes=True)

    def _finish_error(self, exc: BaseException, on_finished: Finished) -> None:
        self._close_progress()
        if isinstance(exc, BatchCancelled):
            self.panel.count_label.setText(t("desk.cancelled"))
        else:
            card_dialogs.show_error(self.panel, exc)
        if on_finished:
            on_finished(False)

    # -- hand-over and reprint ----------------------------------------------------------

    def hand_over(self, reg_id: str, received_by: str, operator: Any, on_done=None) -> None:
        self.worker.call(
            lambda registry: card_ops.hand_over(registry, reg_id, received_by=received_by,
                                                operator=operator),
            on_result=on_done, on_error=lambda exc: card_dialogs.show_error(self.panel, exc),
            changes=True,
        )

    def reprint(self, reg_id: str, reason: str, operator: Any, data_dir: Path | None,
                on_done=None, on_error=None) -> None:
        """Reprint the current card; `on_done((serial, version))` once the new card is kept,
        `on_error(exc)` after the error was shown (nothing changed then)."""
        failed = lambda exc: self._reprint_failed(exc, on_error)  # noqa: E731

        def planned(plan: card_ops.ReprintPlan) -> None:
            if plan.on_server:
                self._send_reprint(plan, reason, operator, on_done, on_error)
                return
            self.worker.call(
                lambda registry: card_ops.reprint_locally(registry, reg_id, reason,
                                                          operator=operator, data_dir=data_dir),
                on_result=lambda result: self._reprinted(result, on_done),
                on_error=failed, changes=True)

        self.worker.call(card_ops.plan_reprint, reg_id, on_result=planned, on_error=failed)

    def _send_reprint(self, plan: card_ops.ReprintPlan, reason: str, operator: Any,
                      on_done, on_error) -> None:
        self._set_reprinting(True, t("desk.reprint_asking"))
        failed = lambda exc: self._reprint_failed(exc, on_error)  # noqa: E731

        def answered(answer: dict) -> None:
            self.worker.call(
                lambda registry: card_ops.keep_answer(registry, plan, answer, reason,
                                                      operator=operator),
                on_result=lambda result: self._reprinted(result, on_done),
                on_error=failed, changes=True)

        self.calls.run(lambda: card_ops.ask_server(plan, reason, operator=operator),
                       on_result=answered, on_error=failed)

    def _set_reprinting(self, waiting: bool, note: str) -> None:
        self.reprinting = waiting
        self.panel.reprint_button.setEnabled(not waiting)
        self.panel.note.setText(note)

    def _reprinted(self, result: tuple[int, int], on_done) -> None:
        serial, version = result
        self._set_reprinting(False, t("desk.reprinted", serial=serial, version=version))
        if on_done:
            on_done(result)

    def _reprint_failed(self, exc: BaseException, on_error) -> None:
        self._set_reprinting(False, t("desk.reprint_not_done"))
        card_dialogs.show_error(self.panel, exc)
        if on_error:
            on_error(exc)
