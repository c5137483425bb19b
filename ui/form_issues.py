"""The registration form's findings, mixed into the form.

The whole record is validated in the background (through the database worker, so the duplicate
check never blocks typing) and the findings appear next to their fields: an error once its field
was left (or at save), a warning at once. Warnings are listed together and must be confirmed
with a checkbox before the save goes through; input the form cannot read says how to write it.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtWidgets import QLabel

from storage.models import Issue, ValidationResult
from ui.form_behaviours import ERROR_COLOR, WARNING_COLOR
from ui.form_declarations import touched_name
from ui.form_fields import parse_date
from ui.labels import plain, t

Message = tuple[str, str]  # (text, colour)


def _color_of(items: list[Message]) -> str:
    return ERROR_COLOR if any(c == ERROR_COLOR for _, c in items) else WARNING_COLOR


class FormIssues:
    """Validation and its messages (the form's `_issue_labels`, `_touched`, `_validation`)."""

    def validate_now(self) -> None:
        """Ask the registry (on the writer thread) for the record's findings, duplicates too."""
        self._validate_seq += 1
        seq = self._validate_seq
        self._worker.call(lambda r, reg: r.validate(reg), self.to_registration(),
                          on_result=lambda result: self._validated(seq, result),
                          on_error=lambda _exc: None)

    def _validated(self, seq: int, result: ValidationResult) -> None:
        if not shiboken6.isValid(self):
            return  # the form's window closed while the registry checked the record
        if seq != self._validate_seq or self._saving:
            return  # an older answer: the form has changed since
        self._validation = result
        self._show_issues()

    def local_issues(self) -> list[Issue]:
        """Problems the form itself finds before storage sees the record (unreadable input)."""
        issues = []
        try:
            parse_date(self.birth_date.text())
        except ValueError:
            issues.append(Issue("birth_date", "form.date", plain("err.date")))
        try:
            self.income.value()
        except ValueError:
            issues.append(Issue("monthly_income", "form.income", plain("err.income")))
        typed = self.occupation.currentText().strip()
        if typed and not self.occupation.selected_data() and not self.occupation.matches():
            issues.append(Issue("occupation_code", "form.occupation",
                                plain("err.occupation", text=typed)))
        return issues

    def _field_touched(self, field_name: str) -> bool:
        if field_name.startswith("heirs["):  # one heir's field: once that field was reached
            return bool({field_name, "heirs", "*"} & self._touched)
        return touched_name(field_name) in self._touched or "*" in self._touched

    def _shown_errors(self) -> list[Issue]:
        """The errors of touched fields; what was typed but cannot be read says that, not
        that the field is empty ("wajib diisi")."""
        local = self.local_issues()
        unreadable = {issue.field for issue in local}
        found = [e for e in self._validation.errors if e.field not in unreadable]
        return [e for e in [*found, *local] if self._field_touched(e.field)]

    def _show_issues(self) -> None:
        warnings = list(self._validation.warnings)
        by_field = self._messages_by_field(self._shown_errors(), warnings)
        for field_name, label in self._issue_labels.items():
            self._set_issue_label(label, by_field.pop(field_name, []))
        heir_messages: list[Message] = []
        for field_name, items in by_field.items():
            if field_name.startswith("heirs"):
                heir_messages += items
            else:
                self._set_issue_label(self._issue_labels[""], items, append=True)
        self.heirs.show_issues([m for m, _ in heir_messages], _color_of(heir_messages))
        self._show_warnings_panel(warnings)

    def _messages_by_field(self, errors: list[Issue],
                           warnings: list[Issue]) -> dict[str, list[Message]]:
        verdict = self.nik_verdict.text()
        by_field: dict[str, list[Message]] = {}
        for issue, color in [*((e, ERROR_COLOR) for e in errors),
                             *((w, WARNING_COLOR) for w in warnings)]:
            if issue.field == "nik" and issue.message in verdict:
                continue  # already said by the NIK verdict line
            by_field.setdefault(issue.field, []).append((issue.message, color))
        return by_field

    @staticmethod
    def _set_issue_label(label: QLabel, items: list[Message], append: bool = False) -> None:
        if append and label.isVisible() and label.text():
            text = label.text() + "\n" + "\n".join(m for m, _ in items)
        else:
            text = "\n".join(m for m, _ in items)
        label.setText(text)
        label.setStyleSheet(f"color: {_color_of(items)};")
        label.setVisible(bool(text))

    def _show_warnings_panel(self, warnings: list[Issue]) -> None:
        codes = sorted({w.code for w in warnings})
        if codes != self._warning_codes:
            self.confirm_warnings.setChecked(False)  # new findings need a new confirmation
        self._warning_codes = codes
        if warnings:
            lines = [t("warn.title"), *(f"• {w.message}" for w in warnings)]
            self.warnings_box.setText("\n".join(lines))
        self.warnings_box.setVisible(bool(warnings))
        was_visible = not self.confirm_warnings.isHidden()
        self.confirm_warnings.setVisible(bool(warnings))
        if was_visible != bool(warnings):
            self._rebuild_focus_chain()

    def _reset_messages(self) -> None:
        for label in self._issue_labels.values():
            label.clear()
            label.hide()
        self.nik_verdict.hide()
        self.heirs.show_issues([], WARNING_COLOR)
        self.warnings_box.hide()
        self.confirm_warnings.hide()
        self._warning_codes = []
        self._rebuild_focus_chain()
