"""The verifier's decisions: the buttons under the detail (`DecisionBar`) and what they do
(`Decisions`): verify, fund, reject with a reason, resolve a duplicate or a conflict, approve or
reject a waiting correction.

Who decides is the operator logged in to the window (ui/session.py), read on the main thread
before the request starts and sent as `{"username", "display_name"}`; nobody types a name. Only
an operator whose role (and this device's role) allows verifying may decide: the buttons are
disabled for anyone else, and the decision methods refuse even when called. Each decision but
*Verifikasi* is asked first (ui/verifier_confirm.py), with *Batal* as the default. A decision
carries the revision the verifier saw, so the server refuses it when the registration changed
in the meantime; the panel then says so and shows the registration as it is now.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from storage import roles
from storage.models import Status
from sync import verifier as api
from ui import verifier_confirm
from ui.labels import t, term
from ui.timefmt import format_date
from ui.verifier_corrections import fill_reasons, rejection_inputs
from ui.verifier_detail import changed_labels, saved_text


class DecisionBar(QWidget):
    """Verify, fund, reject (reason and note), and keep one of a duplicate group or conflict."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.verify_button = QPushButton(t("ver.verify"), self)
        self.fund_button = QPushButton(t("ver.fund"), self)
        self.reason_combo, self.reason_edit, self.reject_button = rejection_inputs(
            self, "reject_reason", t("ver.reject"))
        self.keep_combo = QComboBox(self)
        self.resolve_button = QPushButton(t("ver.resolve_duplicate"), self)
        self._place()

    def _place(self) -> None:
        actions = QGridLayout(self)
        actions.setContentsMargins(0, 0, 0, 0)
        actions.addWidget(self.verify_button, 0, 0)
        actions.addWidget(self.fund_button, 0, 1)
        rejection = (QLabel(t("ver.reject_reason"), self), self.reason_combo, self.reason_edit,
                     self.reject_button)
        for column, widget in enumerate(rejection):
            actions.addWidget(widget, 1, column)
        # Only when there is something to keep: a duplicate group or versions in conflict.
        self.keep_row = QWidget(self)
        keep = QHBoxLayout(self.keep_row)
        keep.setContentsMargins(0, 0, 0, 0)
        keep.addWidget(QLabel(t("ver.keep"), self.keep_row))
        keep.addWidget(self.keep_combo, 1)
        keep.addWidget(self.resolve_button)
        actions.addWidget(self.keep_row, 2, 0, 1, 4)
        actions.setColumnStretch(2, 1)
        self.keep_row.hide()

    def fill_reasons(self, reasons: dict[str, str]) -> None:
        fill_reasons(self.reason_combo, t("ver.choose_reason"), reasons)

    def fill_keep(self, detail: dict, duplicates: list[dict], conflicts: list[dict]) -> None:
        """What "keep" may choose: a version in a conflict, else a member of a duplicate group."""
        self.keep_combo.clear()
        if conflicts:
            self.resolve_button.setText(t("ver.resolve_conflict"))
            self._keep_versions(detail, conflicts)
            return
        self.resolve_button.setText(t("ver.resolve_duplicate"))
        if detail.get("possible_duplicate"):
            self._keep_members(detail, duplicates)

    def _keep_versions(self, detail: dict, conflicts: list[dict]) -> None:
        self.keep_combo.addItem(t("ver.keep_current", version=detail["version"]),
                                (detail["version"], ""))
        for c in conflicts:
            self.keep_combo.addItem(
                t("ver.keep_right", version=c["version"], day=format_date(c.get("received_at"))),
                (c["version"], c.get("device_id") or ""))

    def _keep_members(self, detail: dict, duplicates: list[dict]) -> None:
        self.keep_combo.addItem(t("ver.keep_this", name=detail["full_name"]), detail["id"])
        for other in duplicates:
            if other["status"] != Status.REJECTED.value:
                self.keep_combo.addItem(
                    t("ver.keep_other", name=other["full_name"],
                      day=format_date(other.get("received_at"))), other["id"])

    def set_actions(self, detail: dict | None, allowed: bool) -> None:
        """What the registration shown allows (and the operator may do)."""
        detail = detail or {}
        status = detail.get("status", "")
        flagged = bool(detail.get("possible_duplicate") or detail.get("conflict"))
        received, verified = Status.RECEIVED.value, Status.VERIFIED.value
        waiting = bool(detail.get("correction_pending"))
        open_ = status in (received, verified) and allowed and not waiting
        self.verify_button.setEnabled(allowed and status == received and not flagged
                                      and not waiting)
        self.fund_button.setEnabled(allowed and status == verified and not waiting)
        self.reason_combo.setEnabled(open_)
        self.reason_edit.setEnabled(open_)
        self.reject_button.setEnabled(open_ and bool(self.reason_combo.currentData()))
        self.resolve_button.setEnabled(allowed and self.keep_combo.count() > 0)
        self.keep_combo.setEnabled(allowed)
        self.keep_row.setVisible(self.keep_combo.count() > 0)

    def sending(self) -> None:
        for button in (self.verify_button, self.fund_button, self.reject_button,
                       self.resolve_button):
            button.setEnabled(False)

    def reset_reason(self) -> None:
        """After a decision the next rejection's reason is chosen anew."""
        self.reason_edit.clear()
        self.reason_combo.setCurrentIndex(0)


class Decisions:
    """The decisions on the registration shown, mixed into VerifierPanel: each reads the
    panel's state (`detail`, `duplicates`, `correction`) and its bar, asks, sends through the
    panel's requests and shows the answer."""

    # --- who decides -------------------------------------------------------------------------

    def may_decide(self) -> bool:
        """A logged-in operator whose role (and this device's) allows verifying."""
        session = self.session()
        return (session is not None and session.operator is not None
                and session.may(roles.VERIFY))

    def _refusal(self) -> str:
        from ui.session import role_label

        session = self.session()
        if session is None or session.operator is None:
            return t("ver.no_operator")
        return t("ver.not_allowed", role=role_label(session.operator.role).lower())

    def _may_or_say(self) -> bool:
        if self.may_decide():
            return True
        self.say(self._refusal(), error=True)
        self.set_actions()
        return False

    def operator_ref(self) -> dict[str, str] | None:
        """Who decides, read here on the main thread (never inside a job); None when nobody
        may decide (the refusal is shown)."""
        if not self._may_or_say():
            return None
        return self.session().operator_ref()

    # --- the decisions -----------------------------------------------------------------------

    def _ready(self) -> dict | None:
        """The registration shown, when there is one and the operator may decide on it."""
        detail = self.detail
        return detail if detail is not None and self._may_or_say() else None

    def _ask(self, what: str, text: str, yes: str) -> bool:
        return self.confirm(t(f"ver.ask.{what}"), text, t(f"ver.yes.{yes}"))

    def verify(self) -> None:
        self._decide(api.verify)

    def fund(self) -> None:
        if (detail := self._ready()) and self._ask("fund", verifier_confirm.fund_text(detail),
                                                 "fund"):
            self._decide(api.fund)

    def reject(self) -> None:
        bar = self.decision_bar
        if (detail := self._ready()) is None:
            return
        code = bar.reason_combo.currentData() or ""
        if not code:
            self.say(t("ver.choose_reason_first"), error=True)
            bar.reason_combo.setFocus()
            return
        note = bar.reason_edit.text().strip()
        text = verifier_confirm.reject_text(detail, bar.reason_combo.currentText(), note)
        if self._ask("reject", text, "reject"):
            self._decide(api.reject, code, reason_text=note)

    def resolve_duplicate(self) -> None:
        """Keep the choice of the combo: a version in a conflict, or one of a duplicate group."""
        combo = self.decision_bar.keep_combo
        keep = combo.currentData()
        if self.detail is None or not keep or (detail := self._ready()) is None:
            return
        if isinstance(keep, tuple):
            text = verifier_confirm.conflict_text(detail, combo.currentText())
            if self._ask("conflict", text, "resolve"):
                self._decide(api.resolve_conflict, keep[0], keep_device_id=keep[1])
            return
        group = [detail, *self.duplicates]
        others = [d for d in group if d["id"] != keep and d.get("status") != Status.REJECTED.value]
        kept = next((d for d in group if d["id"] == keep), detail)
        if self._ask("duplicate", verifier_confirm.duplicate_text(kept, others), "resolve"):
            self._decide(api.resolve_duplicate, keep)

    def approve_correction(self) -> None:
        correction = self.correction
        if self.detail is None or not correction or (detail := self._ready()) is None:
            return
        changed = changed_labels(list(correction.get("changed") or []))
        text = verifier_confirm.correction_text(detail, True, changed)
        if self._ask("approve_correction", text, "approve_correction"):
            self.corrections.set_busy()
            self._decide(api.approve_correction, int(correction["version"]))

    def reject_correction(self, code: str = "", note: str = "") -> None:
        correction = self.correction
        if self.detail is None or not correction or (detail := self._ready()) is None:
            return
        code = code or self.corrections.reason_combo.currentData() or ""
        if not code:
            self.say(t("ver.choose_correction_reason_first"), error=True)
            return
        label = term("reject", code, self.reject_reasons.get(code, code))
        changed = changed_labels(list(correction.get("changed") or []))
        reason = f"{label}: {note}" if note else label
        text = verifier_confirm.correction_text(detail, False, changed, reason)
        if self._ask("reject_correction", text, "reject_correction"):
            self.corrections.set_busy()
            self._decide(api.reject_correction, int(correction["version"]), code,
                        reason_text=note)

    # --- sending and the answer --------------------------------------------------------------

    def _decide(self, fn: Callable, *args: Any, **kwargs: Any) -> None:
        panel = self
        if panel.detail is None or (operator := self.operator_ref()) is None:
            return
        reg_id, revision = panel.detail["id"], int(panel.detail["revision"])
        panel.decision_bar.sending()
        panel.say(t("ver.sending"))
        panel.run("decision", lambda c: fn(c, reg_id, revision, *args, operator=operator,
                                           **kwargs),
                  on_done=self._decided, on_error=lambda exc: self._refused(reg_id, exc))

    def _decided(self, answer: dict) -> None:
        reg = answer["registration"]
        self.say(saved_text(reg))
        self.decision_bar.reset_reason()
        self.got_detail(answer)
        self.decided.emit(reg["id"], reg["status"])
        self.refresh_quota()
        self.refresh_list()

    def _refused(self, reg_id: str, exc: BaseException) -> None:
        self.show_error(exc)
        if isinstance(exc, api.DecisionRefused) and exc.stale:
            # Show what it is now, so the verifier decides on the current version.
            self.open_registration(reg_id)
            self.refresh_list()
        else:
            self.set_actions()
