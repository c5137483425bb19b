"""The registration form's save flow and drafts, mixed into the form.

A save goes through the database worker; findings keep the form and show where to look, and
warnings wait for their confirmation. What is typed for a new registration is kept as a draft
of the operator logged in (`draft_key_for`), written shortly after the last change, when the
window closes and when the operator leaves (lock, log-out, another operator).
"""

from __future__ import annotations

import getpass
from typing import Any

from storage.models import Issue, Registration, mask_nik
from ui import errors
from ui.form_behaviours import ERROR_COLOR, OK_COLOR, WARNING_COLOR
from ui.form_declarations import BY_RECORD
from ui.labels import plain, t
from ui.standard_buttons import confirm

DRAFT_KEY = "registration_form"


def draft_key_for(username: str) -> str:
    """The draft key of an operator ("registration_form:budi"); the plain key without one."""
    return f"{DRAFT_KEY}:{username.lower()}" if username else DRAFT_KEY


def _session(widget: Any) -> Any:
    from ui.session import session_of

    return session_of(widget)


class FormSaving:
    """Saving, Kosongkan and drafts (the form's `_worker`, `_editing`, `_draft_timer`)."""

    @property
    def operator(self) -> str:
        """Who is recorded as having saved (and imported) registrations from this window."""
        return self.operator_name()

    def operator_name(self) -> str:
        """Who is recorded on a save: the operator logged in to this window wins; without one,
        the name given, the `operator_name` setting, then the OS user."""
        session = _session(self)
        if session is not None and session.operator is not None:
            return session.display_name
        return self._operator or self._setting("operator_name") or getpass.getuser()

    def operator_username(self) -> str:
        session = _session(self)
        return session.username if session is not None else ""

    # -- saving ---------------------------------------------------------------------------

    def submit(self) -> None:
        """Save the record through the worker; on findings, show them and keep the form."""
        if self._saving:
            return
        self._validate_timer.stop()
        self._touched.add("*")  # from now on every error shows
        if self.local_issues():
            self._show_issues()
            self._say(plain("err.fix"), ERROR_COLOR)
            return
        reg = self.to_registration()
        confirmed = set(self._warning_codes) if self.confirm_warnings.isChecked() else set()
        operator = self.operator_name()
        self._saving = True
        self.save_button.setEnabled(False)
        self._validate_seq += 1  # answers to earlier checks are stale now
        self._worker.call(
            lambda r, reg, conf: r.save(reg, operator=operator, confirmed_warnings=conf),
            reg, frozenset(confirmed),
            on_result=self._save_done, on_error=self._save_failed, changes=True,
        )

    def _save_done(self, result: Any) -> None:
        self._saving = False
        self.save_button.setEnabled(True)
        self._validation = result.validation
        if result.saved:
            self._after_save(result.registration)
            return
        self._show_issues()
        if result.validation.errors:
            self._say(plain("err.fix"), ERROR_COLOR)
            self._focus_first_issue(result.validation.errors)
        else:
            self._say(plain("warn.need_confirm"), WARNING_COLOR)
            self.confirm_warnings.setFocus()

    def _after_save(self, reg: Registration) -> None:
        if self._editing is None:
            self._discard_draft()
            text = plain("saved.new", name=reg.full_name, nik=mask_nik(reg.nik))
            self.clear()
        else:
            self._editing = reg
            text = plain("saved.correction", name=reg.full_name, nik=mask_nik(reg.nik),
                         version=reg.version)
            self._reset_messages()
        self._say(text, OK_COLOR)
        self.message.emit(text)
        self.saved.emit(reg)

    def _save_failed(self, exc: BaseException) -> None:
        self._saving = False
        self.save_button.setEnabled(True)
        self._show_error(exc)

    def _show_error(self, exc: BaseException) -> None:
        errors.show_error(self, exc)

    def _focus_first_issue(self, issues: list[Issue]) -> None:
        for issue in issues:
            declared = BY_RECORD.get(issue.field.split("[")[0].split(".")[0])
            if declared is not None:
                declared.kind.focus(getattr(self, declared.name))
                return

    def _say(self, text: str, color: str) -> None:
        self.feedback.setText(text)
        self.feedback.setStyleSheet(f"color: {color}; font-weight: bold;")

    def _clear_clicked(self) -> None:
        if not self.is_empty():
            if not confirm(self, plain("btn.clear"), t("clear.confirm")):
                return
        if self._editing is None:
            self._discard_draft()
            self.clear()
        else:
            self.load_registration(self._editing)

    # -- drafts ---------------------------------------------------------------------------

    def draft_key(self) -> str:
        """Drafts belong to their operator: the key names the logged-in operator (the plain
        key without a log-in)."""
        return draft_key_for(self.operator_username())

    def _discard_draft(self) -> None:
        key = self.draft_key()
        self._worker.call(lambda r: r.discard_draft(key))

    def save_draft_now(self) -> None:
        """Keep what is typed (only for a new registration; a correction has its record)."""
        if self._editing is not None:
            return
        if self.is_empty():
            self._discard_draft()
            return
        key = self.draft_key()
        self._worker.call(lambda r, data: r.save_draft(key, data), self.draft_data())

    def flush_draft(self) -> None:
        """Write a pending draft at once (the window is closing)."""
        if self._draft_timer.isActive():
            self._draft_timer.stop()
            self.save_draft_now()

    def clear_for_operator_change(self) -> dict | None:
        """The operator leaves (lock, log-out, another operator): keep what is typed as their
        draft and empty the form. Returns the draft (None when nothing was typed)."""
        if self._editing is not None:
            return None
        self._draft_timer.stop()
        data = None if self.is_empty() else self.draft_data()
        self.save_draft_now()
        self.clear()
        return data
