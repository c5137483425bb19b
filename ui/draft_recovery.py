"""Offer back the form that was being typed when the app last closed (or crashed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget

from ui.labels import t
from ui.registration_form import DRAFT_KEY, RegistrationForm


def describe_when(saved_at: str) -> str:
    """ "2026-11-24T14:05:00" → "24-11-2026 pukul 14:05" (or the text as it is)."""
    try:
        moment = datetime.fromisoformat(saved_at)
    except (TypeError, ValueError):
        return saved_at or "?"
    return t("draft.when", day=moment.strftime("%d-%m-%Y"), clock=moment.strftime("%H:%M"))


def offer_text(draft: dict) -> str:
    name = " ".join(str(draft.get("full_name", "")).split())
    who = f" ({name})" if name else ""
    return t("draft.offer", when=describe_when(str(draft.get("saved_at", ""))), who=who)


def offer_draft(parent: QWidget, worker: Any, form: RegistrationForm,
                ask: Any = None) -> None:
    """Look for a draft (through the worker) and ask whether to continue with it.

    `ask(text) -> bool` replaces the question box (tests)."""

    def found(draft: dict | None) -> None:
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
        else:
            worker.call(lambda r: r.discard_draft(DRAFT_KEY))

    worker.call(lambda r: r.load_draft(DRAFT_KEY), on_result=found)
