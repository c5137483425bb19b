"""Offer back the form that was being typed when the app last closed (or crashed), or when its
operator last locked the window or logged out.

Drafts belong to their operator: each is kept under the operator's own key
(`registration_form:<username>`, ui/registration_form.py `draft_key_for`) and offered only to
that operator. A draft from before drafts had owners (the plain key) is offered only to the
operator whose name it recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget

from ui.labels import t
from ui.registration_form import DRAFT_KEY, RegistrationForm
from ui.timefmt import format_date


def describe_when(saved_at: str) -> str:
    """ "2026-11-24T14:05:00" → "24-11-2026 pukul 14:05" (or the text as it is)."""
    try:
        moment = datetime.fromisoformat(saved_at)
    except (TypeError, ValueError):
        return saved_at or "?"
    return t("draft.when", day=format_date(moment), clock=moment.strftime("%H:%M"))


def offer_text(draft: dict) -> str:
    name = " ".join(str(draft.get("full_name", "")).split())
    who = f" ({name})" if name else ""
    return t("draft.offer", when=describe_when(str(draft.get("saved_at", ""))), who=who)


def offer_draft(parent: QWidget, worker: Any, form: RegistrationForm,
                ask: Any = None) -> None:
    """Look for the operator's draft (through the worker) and ask whether to continue with it.

    `ask(text) -> bool` replaces the question box (tests)."""
    key = form.draft_key()  # read here, on the main thread: whoever is logged in now
    own_name = form.operator_name() if key != DRAFT_KEY else ""

    def load(registry) -> tuple[str, dict | None]:
        draft = registry.load_draft(key)
        if draft or key == DRAFT_KEY:
            return key, draft
        legacy = registry.load_draft(DRAFT_KEY)  # kept before drafts had owners
        if legacy and own_name and legacy.get("operator") == own_name:
            return DRAFT_KEY, legacy
        return key, None

    def found(answer: tuple[str, dict | None]) -> None:
        used_key, draft = answer
        if not draft:
            return
        text = offer_text(draft)
        if ask is not None:
            keep = ask(text)
        else:
            box = QMessageBox(QMessageBox.Icon.Question, t("draft.title"), text,
                              QMessageBox.StandardButton.NoButton, parent)
            yes = box.addButton(t("draft.continue"), QMessageBox.ButtonRole.AcceptRole)
            box.addButton(t("draft.discard"), QMessageBox.ButtonRole.DestructiveRole)
            box.setDefaultButton(yes)
            box.exec()
            keep = box.clickedButton() is yes
        if keep:
            form.apply_draft(draft)
            if used_key != key:  # from now on it is this operator's draft
                worker.call(lambda r: (r.save_draft(key, draft), r.discard_draft(used_key)))
        else:
            worker.call(lambda r: r.discard_draft(used_key))

    worker.call(load, on_result=found)
