"""What the registration form does by itself while the operator types, mixed into the form.

Sixteen NIK digits fill birth date and sex (as defaults the operator may change) and show the
NIK's verdict at once; a kecamatan narrows the kelurahan list and a kelurahan fills the postal
code; an occupation suggests its cohort until the operator picks one, and Enter on Pekerjaan
chooses the one item a search names.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QTimer

from storage.nik import check_nik, strip_separators
from ui.combos import kelurahan_choices, refill
from ui.form_fields import format_date
from ui.labels import t

ERROR_COLOR = "#b00020"
WARNING_COLOR = "#8a5a00"
OK_COLOR = "#1b6e20"
TYPING_COLOR = "#555555"


def occupation_cohorts(config: Any) -> dict[str, str]:
    """Occupation code → the cohort it usually belongs to (a default the operator can change)."""
    try:
        entries = config.for_date(date.today()).occupations
    except Exception:  # noqa: BLE001 - without the table the cohort simply is not defaulted
        return {}
    return {o.code: o.cohort for o in entries if getattr(o, "cohort", "")}


class FieldBehaviours:
    """The NIK, the kecamatan and kelurahan, the occupation (the form's widgets, `_derived`,
    `_touched`, `_user_changed`, `_enter_pressed`)."""

    # -- NIK ------------------------------------------------------------------------------

    def _nik_typed(self, text: str) -> None:
        self._nik_edited(text)
        digits = strip_separators(text)
        if len(digits) == 16 and self.nik.cursorPosition() == len(text) and (
                check_nik(text, date.today(), self._regions).valid):
            self._advance_by_itself(self.nik)  # sixteen good digits: on to the name

    def _nik_edited(self, text: str) -> None:
        self._user_changed("nik")
        digits = strip_separators(text)
        if len(digits) < 16 and digits.isdigit():
            self._forget_derived()
            self._show_verdict(t("nik.typing", n=len(digits)), TYPING_COLOR)
            return
        check = check_nik(text, date.today(), self._regions)
        if not check.valid:
            self._forget_derived()
            self._show_verdict("\n".join(e.message for e in check.errors), ERROR_COLOR)
            return
        self._fill_from_nik(check.birth_date, check.sex)
        self._show_valid_nik(check)
        self._validate_timer.stop()
        self.validate_now()  # the duplicate check, at once

    def _show_valid_nik(self, check: Any) -> None:
        sex = t(f"sex.{check.sex}") if check.sex else "?"
        values = dict(date=format_date(check.birth_date), sex=sex)
        if check.warnings:  # readable, but not "sah" while something needs a look
            lines = [t("nik.check", **values), *(w.message for w in check.warnings)]
            self._show_verdict("\n".join(lines), WARNING_COLOR)
        else:
            self._show_verdict(t("nik.ok", **values), OK_COLOR)

    def _forget_derived(self) -> None:
        """The NIK no longer gives a birth date and sex: take back what an earlier NIK filled
        (what the operator typed stays)."""
        if self.birth_date.text() and self.birth_date.text() == self._derived.get("birth_date"):
            self.birth_date.clear()
        if self.sex.currentData() and self.sex.currentData() == self._derived.get("sex"):
            self.sex.setCurrentIndex(0)
        self._derived.clear()

    def _show_verdict(self, text: str, color: str) -> None:
        self.nik_verdict.setText(text)
        self.nik_verdict.setStyleSheet(f"color: {color};")
        self.nik_verdict.setVisible(bool(text))

    def _fill_from_nik(self, birth: date | None, sex: str) -> None:
        """Offer the NIK's birth date and sex unless the operator typed something else."""
        new_date = format_date(birth)
        current = self.birth_date.text().strip()
        if not current or current == self._derived.get("birth_date"):
            self.birth_date.setText(new_date)
            self._derived["birth_date"] = new_date
        current_sex = self.sex.currentData() or ""
        if sex and (not current_sex or current_sex == self._derived.get("sex")):
            self.sex.setCurrentIndex(max(self.sex.findData(sex), 0))
            self._derived["sex"] = sex

    # -- kecamatan, kelurahan, postal code ------------------------------------------------

    def _kecamatan_changed(self, _index: int) -> None:
        """The kelurahan list holds only the chosen kecamatan's kelurahan."""
        code = self.kecamatan.currentData() or ""
        refill(self.kelurahan, kelurahan_choices(self._regions, code, t("choose")))
        self._fill_postal_code()
        self._user_changed("kecamatan")  # the kelurahan's own findings wait for the operator

    def _kelurahan_changed(self, _index: int) -> None:
        self._fill_postal_code()
        self._user_changed("kelurahan")

    def _fill_postal_code(self) -> None:
        if self._loading:
            return
        code = self.kelurahan.currentData() or ""
        if code:
            self.postal_code.setText(self._regions.postal_code(code))
        else:
            self.postal_code.clear()

    # -- occupation and cohort ------------------------------------------------------------

    def _occupation_changed(self) -> None:
        """A religious worker's occupation suggests that cohort, unless the cohort was chosen."""
        if self._loading:
            return
        cohort = self._occupation_cohorts.get(self.occupation.selected_data())
        if cohort and "cohort" not in self._touched:
            self.cohort.setCurrentIndex(max(self.cohort.findData(cohort), 0))
        self._user_changed("occupation")

    def _occupation_enter(self) -> None:
        """Enter on Pekerjaan: the item the search names is chosen and the form moves on; a
        search that fits several items opens them; one that fits none stays to be corrected."""
        combo = self.occupation
        if not combo.currentText().strip() or combo.choose_typed():
            self._enter_pressed(combo)
        elif combo.matches():
            combo.completer().setCompletionPrefix(combo.currentText().strip())
            combo.completer().complete()
        else:
            self._touched.add("occupation")
            self._show_issues()

    def _occupation_return(self) -> None:
        # Enter in the completer's list: the list has set the text; choose it and move on.
        if self.occupation.choose_typed():
            QTimer.singleShot(0, lambda: self._enter_pressed(self.occupation))
