"""The registration form's declared fields (ui/form_declarations.py): every one of them loads from
a record, reads back, goes into a draft and comes back from it, and is emptied by `clear`.

The values are made from each field's widget (its last choice, a date, an amount, a heir, a
ticked box, digits that fit), so a field declared tomorrow is covered without a change here."""

import json
from dataclasses import replace
from datetime import date

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit

from storage.models import Heir, Registration
from ui.form_declarations import BY_RECORD, DATE, FIELDS, touched_name
from ui.form_fields import RupiahEdit
from ui.heirs_editor import HeirsEditor
from ui.registration_form import RegistrationForm

WAIT = 5000

# A draft as saved before the fields were declared (the keys every saved draft has used).
OLD_DRAFT = {
    "nik": "1571094512859902", "full_name": "Siti Aminah", "birth_place": "Jambi",
    "street": "Jl. Kapt. Pattimura No. 5", "rt": "005", "rw": "002", "postal_code": "36129",
    "phone": "0812 3456 7890", "notes": "Daftar di balai RT", "birth_date": "06-12-1985",
    "sex": "P", "kecamatan_code": "15.71.09", "kelurahan_code": "", "occupation": "kaki lima",
    "cohort": "pekerja_rentan", "income": "1.500.000",
    "heirs": [{"name": "Ahmad Yani", "relationship": "suami", "phone": "", "nik": "",
               "extra": "left out"}],
    "consent_given": True, "event_id": "", "saved_at": "2026-11-24T14:05:00+07:00",
    "operator": "Petugas Uji",
}


@pytest.fixture
def event_id(qtbot, worker):
    done = []
    worker.call(lambda r: r.add_event("Posyandu Mayang", date(2026, 11, 20)),
                on_result=done.append, changes=True)
    qtbot.waitUntil(lambda: bool(done), timeout=WAIT)
    return done[0].id


def new_form(qtbot, worker) -> RegistrationForm:
    form = RegistrationForm(worker, operator="Petugas Uji")
    qtbot.addWidget(form)
    return form


def sample_for(form, declared, index: int):
    """A value that is not the widget's empty state, made from the widget itself."""
    widget = getattr(form, declared.name)
    if declared.kind is DATE:
        return date(1985, 12, 6)
    if isinstance(widget, RupiahEdit):
        return 1_500_000
    if isinstance(widget, HeirsEditor):
        return [Heir("Ahmad Yani", "suami", "081298765432", ""), Heir("Rina", "anak")]
    if isinstance(widget, QCheckBox):
        return True
    if isinstance(widget, QComboBox):
        assert widget.count() > 1, f"{declared.name} has nothing to choose"
        return widget.itemData(widget.count() - 1)
    assert isinstance(widget, QLineEdit), f"no sample for {declared.name}"
    return f"{index + 1:03d}"[: widget.maxLength()]


def load_samples(form) -> dict:
    """Load a record with a sample in every declared field (in the declared order, so that a
    list that depends on an earlier field, the kelurahan, is filled first)."""
    samples = {}
    for index, declared in enumerate(FIELDS):
        samples[declared.record] = sample_for(form, declared, index)
        widget = getattr(form, declared.name)
        declared.kind.write(widget, samples[declared.record])
    form.load_registration(replace(Registration(nik="", full_name=""), **samples))
    return samples


def declared_values(form) -> dict:
    reg = form.to_registration()
    return {declared.record: getattr(reg, declared.record) for declared in FIELDS}


def test_every_declared_field_loads_and_reads_back(qtbot, worker, event_id):
    form = new_form(qtbot, worker)
    samples = load_samples(form)
    assert declared_values(form) == samples
    empty = declared_values(new_form(qtbot, worker))
    assert all(samples[name] != empty[name] for name in samples), "a sample is the empty value"


def test_every_declared_field_goes_through_a_draft_and_back(qtbot, worker, event_id):
    form = new_form(qtbot, worker)
    samples = load_samples(form)
    draft = json.loads(json.dumps(form.draft_data()))  # as the registry keeps it
    assert {declared.draft_key for declared in FIELDS} <= set(draft)
    again = new_form(qtbot, worker)
    again.apply_draft(draft)
    assert declared_values(again) == samples
    assert again.draft_data() | {"saved_at": ""} == draft | {"saved_at": ""}


def test_clear_empties_every_declared_field_but_those_that_stay(qtbot, worker, event_id):
    form = new_form(qtbot, worker)
    samples = load_samples(form)
    assert not form.is_empty()
    form.clear()
    empty = declared_values(new_form(qtbot, worker))
    for declared in FIELDS:
        expected = samples if declared.kind.clear is None else empty  # None: it stays
        assert declared_values(form)[declared.record] == expected[declared.record], declared.name
    assert form.is_empty()


@pytest.mark.parametrize("declared", [d for d in FIELDS if d.counts], ids=lambda d: d.name)
def test_a_counted_field_alone_makes_the_form_not_empty(qtbot, worker, declared):
    form = new_form(qtbot, worker)
    assert form.is_empty()
    if declared.name == "kelurahan":  # its list follows the kecamatan
        form.kecamatan.setCurrentIndex(form.kecamatan.count() - 1)
    widget = getattr(form, declared.name)
    declared.kind.write(widget, sample_for(form, declared, 0))
    assert not form.is_empty()


def test_a_draft_saved_by_an_older_version_still_loads(qtbot, worker):
    form = new_form(qtbot, worker)
    form.apply_draft(OLD_DRAFT)
    reg = form.to_registration()
    assert (reg.nik, reg.full_name, reg.birth_date, reg.sex) == (
        "1571094512859902", "Siti Aminah", date(1985, 12, 6), "P")
    assert (reg.rt, reg.rw, reg.kecamatan_code, reg.monthly_income) == (
        "005", "002", "15.71.09", 1_500_000)
    assert form.occupation.currentText() == "kaki lima"  # the search as it was typed
    assert [(h.name, h.relationship) for h in reg.heirs] == [("Ahmad Yani", "suami")]
    assert reg.consent_given and reg.notes == "Daftar di balai RT"
    assert set(form.draft_data()) == set(OLD_DRAFT)  # drafts are still saved under these keys


def test_findings_belong_to_the_declared_field_they_name():
    assert touched_name("kecamatan_code") == "kecamatan"
    assert touched_name("monthly_income") == "income"
    assert touched_name("consent_version") == "consent"
    assert touched_name("heirs[0].name") == "heirs"
    assert touched_name("nik") == "nik"
    assert all(BY_RECORD[declared.record] is declared for declared in FIELDS)
    assert len({declared.name for declared in FIELDS}) == len(FIELDS)
