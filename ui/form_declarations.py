"""The registration form's fields, each declared once.

A declaration names the field's widget (the form's attribute, the widget's object name and the
name the form marks as touched), the `Registration` field it fills, its key in a draft, how its
widget is made, and its kind: how the widget is read into the record, filled from a record, put
into and taken from a draft, and emptied. The form reads, loads, keeps drafts and clears by
walking `FIELDS`, in the order Enter walks them; a new field is one more declaration here (and
its row in ui/form_layout.py).

Draft keys are the ones drafts have always been saved under ("occupation" holds the typed text,
"income" the amount as typed): drafts saved by older versions still load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QWidget

from storage.models import COHORT_LABELS, Heir
from ui.form_fields import RupiahEdit, SearchableCombo, format_date, parse_date
from ui.heirs_editor import HEIR_PARTS, HeirsEditor
from ui.labels import t, term


@dataclass(frozen=True)
class Kind:
    """How one sort of widget is read into the record, filled from a record, put into a draft,
    taken from one and emptied. `clear` None: clearing for the next person leaves the field as
    it is. `touched_by_draft`: a draft's non-empty value marks the field touched (its findings
    show at once)."""

    read: Callable[[Any], Any]
    write: Callable[[Any, Any], None]
    to_draft: Callable[[Any], Any]
    from_draft: Callable[[Any, Any], None]
    clear: Callable[[Any], None] | None
    touched_by_draft: bool = False
    focus: Callable[[Any], None] = lambda widget: widget.setFocus()
    focus_chain: Callable[[Any], list[QWidget]] = lambda widget: [widget]


def _date(widget: QLineEdit) -> date | None:
    try:
        return parse_date(widget.text())
    except ValueError:
        return None  # unreadable: the form says how to write it


def _rupiah(widget: RupiahEdit) -> int | None:
    try:
        return widget.value()
    except ValueError:
        return None  # unreadable: the form says how to write it


def _choose(widget: QComboBox, value: Any) -> None:
    widget.setCurrentIndex(max(widget.findData(value), 0))


def _choose_given(widget: QComboBox, value: Any) -> None:
    if value:  # a draft without a kegiatan leaves the current one
        _choose(widget, value)


def _clear_search(widget: SearchableCombo) -> None:
    widget.setCurrentIndex(0)
    widget.setEditText("")


def _heirs_from_draft(widget: HeirsEditor, value: Any) -> None:
    widget.set_heirs([Heir(**{k: str(v) for k, v in heir.items() if k in HEIR_PARTS})
                      for heir in value or []])


def _focus_first_heir(widget: HeirsEditor) -> None:
    if widget.rows:
        widget.rows[0].name.setFocus()


# A line edit: the record gets the text without surrounding spaces, the draft as typed.
LINE = Kind(read=lambda w: w.text().strip(), write=lambda w, v: w.setText(v or ""),
            to_draft=lambda w: w.text(), from_draft=lambda w, v: w.setText(str(v)),
            clear=lambda w: w.clear(), touched_by_draft=True)
LINE_AS_TYPED = replace(LINE, read=lambda w: w.text())
DATE = replace(LINE, read=_date, write=lambda w, v: w.setText(format_date(v)),
               touched_by_draft=False)
RUPIAH = replace(LINE, read=_rupiah, write=lambda w, v: w.set_value(v), touched_by_draft=False)
# A combo box whose items carry codes; the first item is the empty choice.
CHOICE = Kind(read=lambda w: w.currentData() or "", write=_choose,
              to_draft=lambda w: w.currentData() or "", from_draft=_choose,
              clear=lambda w: w.setCurrentIndex(0))
# The kegiatan: none is None in the record; the next person keeps the current kegiatan.
KEGIATAN = replace(CHOICE, read=lambda w: w.currentData() or None,
                   write=lambda w, v: _choose(w, v or ""), from_draft=_choose_given, clear=None)
# The searchable occupation list: the record gets the code of the item named, the draft the
# text as typed (a search that fits nothing comes back to be corrected).
OCCUPATION = Kind(read=lambda w: w.selected_data(), write=lambda w, v: w.select_data(v),
                  to_draft=lambda w: w.currentText(), from_draft=lambda w, v: w.setEditText(str(v)),
                  clear=_clear_search)
# The heirs' rows: `Heir`s in the record, plain dicts in the draft.
HEIRS = Kind(read=lambda w: w.heirs(), write=lambda w, v: w.set_heirs(v),
             to_draft=lambda w: [vars(heir) for heir in w.heirs()], from_draft=_heirs_from_draft,
             clear=lambda w: w.set_heirs([]), focus=_focus_first_heir,
             focus_chain=lambda w: w.focus_chain())
CHECK = Kind(read=lambda w: w.isChecked(), write=lambda w, v: w.setChecked(v),
             to_draft=lambda w: w.isChecked(), from_draft=lambda w, v: w.setChecked(bool(v)),
             clear=lambda w: w.setChecked(False))


# -- widget factories: each takes the form (the parent, with its regions and reader) ----------

def line(placeholder: str = "", max_length: int = 0, max_width: int = 0) -> Callable:
    def make(form: Any) -> QLineEdit:
        edit = QLineEdit(form)
        if placeholder:
            edit.setPlaceholderText(t(placeholder))
        if max_length:
            edit.setMaxLength(max_length)
        if max_width:
            edit.setMaximumWidth(max_width)
        return edit
    return make


def choice(items: Callable[[Any], list[tuple[str, str]]]) -> Callable:
    def make(form: Any) -> QComboBox:
        box = QComboBox(form)
        for label, code in items(form):
            box.addItem(label, code)
        return box
    return make


def _sexes(_form: Any) -> list[tuple[str, str]]:
    return [(t("sex.none"), ""), (t("sex.L"), "L"), (t("sex.P"), "P")]


def _kecamatan(form: Any) -> list[tuple[str, str]]:
    return [(t("choose"), ""), *((kec.name, kec.code) for kec in form._regions.kecamatan_list())]


def _kelurahan(_form: Any) -> list[tuple[str, str]]:
    return [(t("choose"), "")]  # filled when a kecamatan is chosen


def _cohorts(_form: Any) -> list[tuple[str, str]]:
    return [(term("cohort", cohort.value), cohort.value) for cohort in COHORT_LABELS]


def _occupation(form: Any) -> SearchableCombo:
    box = SearchableCombo(form)
    box.lineEdit().setPlaceholderText(t("ph.search_occupation"))
    box.addItem("", "")
    for occ in form._reader.occupations():
        box.addItem(occ.name, occ.code)
    return box


def _income(form: Any) -> RupiahEdit:
    edit = RupiahEdit(form)
    edit.setPlaceholderText(t("ph.income"))
    return edit


def _consent(form: Any) -> QCheckBox:
    return QCheckBox(t("consent.check"), form)


@dataclass(frozen=True)
class Field:
    """One field of the form. `counts`: something typed here makes the form non-empty (kept
    as a draft, Kosongkan asks first); `also`: other record fields whose findings are this
    widget's; `issues_inside`: the widget shows its own findings (no label of the form)."""

    name: str
    record: str
    kind: Kind
    make: Callable[[Any], QWidget]
    draft: str = ""
    counts: bool = False
    also: tuple[str, ...] = ()
    issues_inside: bool = False

    @property
    def draft_key(self) -> str:
        return self.draft or self.record


FIELDS: tuple[Field, ...] = (
    Field("nik", "nik", LINE, line("ph.nik", max_length=24), counts=True),  # pasted separators
    Field("full_name", "full_name", LINE_AS_TYPED, line(max_length=120), counts=True),
    Field("birth_place", "birth_place", LINE, line(), counts=True),
    Field("birth_date", "birth_date", DATE, line("ph.date"), counts=True),
    Field("sex", "sex", CHOICE, choice(_sexes)),
    Field("phone", "phone", LINE, line("ph.phone"), counts=True),
    Field("street", "street", LINE, line(), counts=True),
    Field("rt", "rt", LINE, line(max_length=3, max_width=60)),
    Field("rw", "rw", LINE, line(max_length=3, max_width=60)),
    Field("kecamatan", "kecamatan_code", CHOICE, choice(_kecamatan)),
    Field("kelurahan", "kelurahan_code", CHOICE, choice(_kelurahan), counts=True),
    Field("postal_code", "postal_code", LINE, line(max_length=5, max_width=80)),
    Field("occupation", "occupation_code", OCCUPATION, _occupation, draft="occupation",
          counts=True),
    Field("cohort", "cohort", CHOICE, choice(_cohorts)),
    Field("income", "monthly_income", RUPIAH, _income, draft="income", counts=True),
    Field("heirs", "heirs", HEIRS, HeirsEditor, counts=True, issues_inside=True),
    Field("consent", "consent_given", CHECK, _consent, also=("consent_version",)),
    Field("event", "event_id", KEGIATAN, choice(lambda _form: [])),  # filled by the form
    Field("notes", "notes", LINE, line(), counts=True),
)

# A record field's findings → the field they belong to ("kecamatan_code" → kecamatan).
BY_RECORD: dict[str, Field] = {name: f for f in FIELDS for name in (f.record, *f.also)}


def touched_name(record_field: str) -> str:
    """The name the form marks as touched for a finding's field ("heirs[0].name" → "heirs")."""
    base = record_field.split("[")[0].split(".")[0]
    return BY_RECORD[base].name if base in BY_RECORD else base


def has_input(draft_value: Any) -> bool:
    """Something typed (text other than spaces, a code, a ticked box, an heir)."""
    return bool(draft_value.strip()) if isinstance(draft_value, str) else bool(draft_value)
