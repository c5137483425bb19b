"""The registration form, driven with the keyboard as an enumerator would drive it."""

from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from storage.registry import RegistrationFilter
from ui.registration_form import RegistrationForm


@pytest.fixture
def form(qtbot, worker):
    f = RegistrationForm(worker, operator="Petugas Uji")
    qtbot.addWidget(f)
    f.show()
    f.activateWindow()
    qtbot.waitExposed(f)
    f.nik.setFocus()
    return f


def focused():
    # The window's own focus widget: the offscreen platform may leave a closed popup as the
    # "active window", which makes QApplication.focusWidget() unreliable here.
    window = QApplication.activeWindow()
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, RegistrationForm) and widget.isVisible():
            window = widget
    return window.focusWidget() if window else None


def type_and_enter(qtbot, text="", expect=None):
    """Type into whatever has the focus, then press Enter (optionally checking the field)."""
    widget = focused()
    if expect is not None:
        assert widget is expect, f"focus is on {widget.objectName()}, not {expect.objectName()}"
    if text:
        qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def test_sixteen_nik_digits_fill_birth_date_and_sex(qtbot, form):
    qtbot.keyClicks(form.nik, "157109451285990")
    assert form.birth_date.text() == ""
    assert "15 dari 16" in form.nik_verdict.text()
    qtbot.keyClicks(form.nik, "2")
    assert form.birth_date.text() == "05-12-1985"
    assert form.sex.currentData() == "P"
    assert "NIK sah" in form.nik_verdict.text()


def test_a_bad_nik_gets_its_reason_inline(qtbot, form):
    qtbot.keyClicks(form.nik, "1571043002969911")  # 30 February
    assert form.nik_verdict.isVisible()
    assert "NIK sah" not in form.nik_verdict.text()
    assert form.birth_date.text() == ""


def test_an_entered_birth_date_is_not_overwritten_by_the_nik(qtbot, form):
    qtbot.keyClicks(form.birth_date, "06-12-1985")
    qtbot.keyClicks(form.nik, "1571094512859902")
    assert form.birth_date.text() == "06-12-1985"
    assert form.sex.currentData() == "P"


def test_kecamatan_narrows_kelurahan_and_fills_postal_code(qtbot, form, worker):
    regions = worker.readonly.regions
    form.kecamatan.setCurrentIndex(form.kecamatan.findData("15.71.09"))
    codes = [form.kelurahan.itemData(i) for i in range(1, form.kelurahan.count())]
    assert codes == [k.code for k in regions.kelurahan_list("15.71.09")]
    assert all(regions.kelurahan_belongs_to(c, "15.71.09") for c in codes)
    rawa_sari = next(k for k in regions.kelurahan_list("15.71.09") if k.name == "Rawa Sari")
    form.kelurahan.setCurrentIndex(form.kelurahan.findData(rawa_sari.code))
    assert form.postal_code.text() == rawa_sari.postal_code
    form.kecamatan.setCurrentIndex(form.kecamatan.findData("15.71.01"))
    assert form.kelurahan.findData(rawa_sari.code) == -1
    assert form.postal_code.text() == ""


def test_a_whole_registration_typed_with_the_keyboard(qtbot, form, worker):
    # Sixteen good digits move on by themselves; an Enter out of habit does not skip the name.
    qtbot.keyClicks(form.nik, "1571094512859902")
    assert focused() is form.full_name
    type_and_enter(qtbot, expect=form.full_name)
    assert focused() is form.full_name
    type_and_enter(qtbot, "Siti  Aminah", expect=form.full_name)
    type_and_enter(qtbot, "Jambi", expect=form.birth_place)
    # Enter passes the birth date and sex the NIK filled; Tab still reaches them. The KTP says
    # the 6th: the operator goes back and corrects the date the NIK offered (a warning).
    assert focused() is form.phone
    assert form.birth_date.text() == "05-12-1985"
    qtbot.keyClick(focused(), Qt.Key.Key_Backtab)
    qtbot.keyClick(focused(), Qt.Key.Key_Backtab)
    assert focused() is form.birth_date
    form.birth_date.selectAll()
    qtbot.keyClicks(form.birth_date, "06-12-1985")
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    type_and_enter(qtbot, "0812 3456 7890", expect=form.phone)
    type_and_enter(qtbot, "Jl. Kapt. Pattimura No. 5", expect=form.street)
    qtbot.keyClicks(form.rt, "005")  # three digits fill RT and RW: on to the next field
    assert focused() is form.rw
    qtbot.keyClicks(form.rw, "002")
    type_and_enter(qtbot, "Alam", expect=form.kecamatan)
    assert form.kecamatan.currentText() == "Alam Barajo"
    type_and_enter(qtbot, "Rawa", expect=form.kelurahan)
    assert form.kelurahan.currentText() == "Rawa Sari"
    assert form.postal_code.text()  # filled from the kelurahan, passed by Enter

    # Arrow keys walk the occupation list (the completer popup is tested on its own below:
    # the offscreen platform mishandles window activation around popups).
    assert focused() in (form.occupation, form.occupation.lineEdit())
    for _ in range(form.occupation.count()):
        if form.occupation.selected_data() == "pedagang_kaki_lima":
            break
        qtbot.keyClick(focused(), Qt.Key.Key_Down)
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert form.occupation.selected_data() == "pedagang_kaki_lima"

    type_and_enter(qtbot, "1500000", expect=form.income)  # the cohort goes with it
    assert form.income.text() == "1.500.000"
    heir = form.heirs.rows[0]
    type_and_enter(qtbot, "Ahmad Yani", expect=heir.name)
    qtbot.keyClicks(focused(), "Suami")
    assert heir.relationship.currentData() == "suami"
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)  # the optional phone: Tab reaches it, Enter not
    type_and_enter(qtbot, "081298765432", expect=heir.phone)
    assert focused() is form.consent  # the empty optional NIK is passed
    qtbot.keyClick(form.consent, Qt.Key.Key_Space)
    assert form.consent.isChecked()
    type_and_enter(qtbot, expect=form.consent)
    type_and_enter(qtbot, expect=form.event)
    type_and_enter(qtbot, "Daftar di balai RT", expect=form.notes)  # Enter on the last: save

    # The birth date differs from the NIK: the save waits for an explicit confirmation.
    qtbot.waitUntil(lambda: form.confirm_warnings.isVisible(), timeout=5000)
    assert "06-12-1985" in form.warnings_box.text()
    assert worker.readonly.count(RegistrationFilter()) == 0
    qtbot.waitUntil(lambda: focused() is form.confirm_warnings, timeout=5000)
    qtbot.keyClick(form.confirm_warnings, Qt.Key.Key_Space)
    qtbot.keyClick(form.confirm_warnings, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: "Tersimpan" in form.feedback.text(), timeout=5000)
    assert "157109******9902" in form.feedback.text()
    assert "1571094512859902" not in form.feedback.text()
    assert form.nik.text() == "" and form.full_name.text() == ""  # ready for the next person

    rows = worker.readonly.query(RegistrationFilter(text="1571094512"))
    assert len(rows) == 1
    reg = worker.readonly.get(rows[0].id)
    assert reg.full_name == "Siti Aminah"
    assert reg.birth_date == date(1985, 12, 6)
    assert reg.sex == "P"
    assert reg.kelurahan_code.startswith("15.71.09.")
    assert reg.occupation_code == "pedagang_kaki_lima"
    assert reg.monthly_income == 1_500_000
    assert [(h.name, h.relationship) for h in reg.heirs] == [("Ahmad Yani", "suami")]
    assert reg.consent_given and reg.consent_version
    assert reg.operator == "Petugas Uji"
    qtbot.waitUntil(lambda: worker.readonly.load_draft("registration_form") is None, timeout=3000)


def test_tab_follows_the_same_order_as_enter(qtbot, form):
    order = [form.nik, form.full_name, form.birth_place, form.birth_date, form.sex, form.phone,
             form.street, form.rt, form.rw, form.kecamatan, form.kelurahan, form.postal_code]
    for following in order[1:]:
        qtbot.keyClick(focused(), Qt.Key.Key_Tab)
        assert focused() is following


def test_occupation_is_found_by_any_part_of_its_name(form):
    completer = form.occupation.completer()
    completer.setCompletionPrefix("dagang")
    matches = [completer.completionModel().index(i, 0).data()
               for i in range(completer.completionCount())]
    assert "Pedagang kaki lima" in matches
    form.occupation.setEditText("pedagang KAKI lima")
    assert form.occupation.selected_data() == "pedagang_kaki_lima"


def test_a_search_with_no_match_selects_nothing(qtbot, form):
    edit = form.occupation.lineEdit()
    edit.setFocus()
    cohort = form.cohort.currentData()
    qtbot.keyClicks(edit, "cuci")
    for key in (Qt.Key.Key_Down, Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown):
        qtbot.keyClick(edit, key)
    assert form.occupation.selected_data() == ""
    assert form.occupation.currentText() == "cuci"  # what was typed stays, to be corrected
    assert form.occupation.currentIndex() == 0
    assert form.cohort.currentData() == cohort
    assert not form.occupation.choose_typed()
    # A search that names one item chooses it; one that fits several chooses none of them.
    edit.clear()
    qtbot.keyClicks(edit, "kaki")
    assert form.occupation.choose_typed()
    assert form.occupation.selected_data() == "pedagang_kaki_lima"
    form.occupation.setEditText("pedagang")
    assert not form.occupation.choose_typed()
    assert form.occupation.selected_data() == ""


def test_the_current_event_is_remembered_between_registrations(qtbot, form, worker):
    done = []
    worker.call(lambda r: r.add_event("Kampung Bahagia RT 05", date(2026, 11, 24)),
                on_result=done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=3000)
    form._load_events()
    form.event.setCurrentIndex(form.event.findData(done[0].id))
    form.event.activated.emit(form.event.currentIndex())
    qtbot.waitUntil(lambda: worker.readonly.get_setting("current_event_id") == done[0].id,
                    timeout=3000)
    form.clear()
    assert form.event.currentData() == done[0].id
    second = RegistrationForm(worker)
    qtbot.addWidget(second)
    assert second.event.currentData() == done[0].id


def test_a_religious_occupation_suggests_its_cohort(qtbot, form):
    cohorts = form._occupation_cohorts
    religious = next(code for code, cohort in cohorts.items() if cohort == "petugas_keagamaan")
    form.occupation.setCurrentIndex(form.occupation.findData(religious))
    assert form.cohort.currentData() == "petugas_keagamaan"
    # Once the operator has chosen the cohort, the occupation no longer changes it.
    form.cohort.setCurrentIndex(form.cohort.findData("pekerja_rentan"))
    form.cohort.activated.emit(form.cohort.currentIndex())
    form.occupation.setCurrentIndex(0)
    form.occupation.setCurrentIndex(form.occupation.findData(religious))
    assert form.cohort.currentData() == "pekerja_rentan"


def test_an_already_registered_nik_is_flagged_while_typing(qtbot, form, worker):
    from storage.models import Heir, Registration

    existing = Registration(
        nik="1571010101909901", full_name="Budi Santoso", birth_date=date(1990, 1, 1), sex="L",
        street="Jl. Sumatera 1", rt="001", rw="002", phone="081234567890", birth_place="Jambi",
        kecamatan_code="15.71.01", kelurahan_code="15.71.01.1001", occupation_code="ojek_online",
        monthly_income=2_000_000, heirs=[Heir("Rina", "istri")], consent_given=True,
        consent_version=worker.readonly.config.current_consent().version)
    saved = []
    worker.call(lambda r, reg: r.save(reg, operator="x", confirmed_warnings=(
        w.code for w in r.validate(reg).warnings)), existing, on_result=saved.append)
    qtbot.waitUntil(lambda: bool(saved), timeout=5000)
    assert saved[0].saved

    qtbot.keyClicks(form.nik, "1571010101909901")
    label = form._issue_labels["nik"]
    qtbot.waitUntil(lambda: "sudah terdaftar" in label.text(), timeout=5000)
    assert label.isVisible()
    assert "1571010101909901" not in label.text()  # the other record is named, its NIK masked


def test_a_new_event_is_created_and_becomes_the_current_one(qtbot, form, worker, monkeypatch):
    from ui import form_event_consent

    monkeypatch.setattr(form_event_consent.QInputDialog, "getText",
                        lambda *args, **kwargs: ("  Kampung Bahagia   Legok ", True))
    qtbot.mouseClick(form.event_new, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.event.currentText().startswith("Kampung Bahagia Legok"),
                    timeout=3000)
    event_id = form.event.currentData()
    assert event_id
    assert worker.readonly.get_setting("current_event_id") == event_id
    assert [e.name for e in worker.readonly.events()] == ["Kampung Bahagia Legok"]


def test_a_nik_with_an_unknown_region_is_not_called_valid(qtbot, form):
    qtbot.keyClicks(form.nik, "1571124512859902")  # kecamatan 15.71.12 does not exist
    verdict = form.nik_verdict.text()
    assert "NIK sah" not in verdict
    assert "perlu diperiksa" in verdict and "15.71.12" in verdict
    assert "#8a5a00" in form.nik_verdict.styleSheet()  # orange, never green


def test_a_new_invalid_nik_takes_back_the_birth_date_and_sex_of_the_previous(qtbot, form):
    qtbot.keyClicks(form.nik, "1571094512859902")
    assert form.birth_date.text() == "05-12-1985" and form.sex.currentData() == "P"
    form.nik.setFocus()
    form.nik.selectAll()
    qtbot.keyClicks(form.nik, "1571043002969911")  # 30 February: not a NIK
    assert form.birth_date.text() == "" and form.sex.currentData() == ""
    # What the operator typed is theirs: a new NIK does not take it back.
    form.nik.clear()
    qtbot.keyClicks(form.birth_date, "06-12-1985")
    qtbot.keyClicks(form.nik, "1571094512859902")
    form.nik.selectAll()
    qtbot.keyClicks(form.nik, "1571043002969911")
    assert form.birth_date.text() == "06-12-1985"


def test_kelurahan_is_asked_for_only_once_it_is_left_or_at_save(qtbot, form):
    label = form.findChild(type(form.nik_verdict), "kelurahan_code_issues")
    form.kecamatan.setFocus()
    qtbot.keyClicks(form.kecamatan, "Alam")
    form.validate_now()
    qtbot.wait(300)
    assert form.kecamatan.currentText() == "Alam Barajo"
    assert not label.isVisible()
    qtbot.keyClick(form.kecamatan, Qt.Key.Key_Return)  # into the kelurahan, then out again
    assert focused() is form.kelurahan
    qtbot.keyClick(form.kelurahan, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: label.isVisible(), timeout=3000)
    assert "Kelurahan wajib dipilih" in label.text()


def test_income_in_words_is_asked_for_in_digits(qtbot, form):
    label = form.findChild(type(form.nik_verdict), "monthly_income_issues")
    qtbot.keyClicks(form.income, "satu juta")
    form.validate_now()
    qtbot.waitUntil(lambda: label.isVisible(), timeout=3000)
    qtbot.wait(200)  # the registry's answer (income empty: "wajib diisi") has come back too
    assert "angka" in label.text()
    assert "wajib diisi" not in label.text()


def test_an_occupation_search_that_finds_nothing_says_so(qtbot, form):
    label = form.findChild(type(form.nik_verdict), "occupation_code_issues")
    form.occupation.lineEdit().setFocus()
    qtbot.keyClicks(form.occupation.lineEdit(), "cuci")
    qtbot.keyClick(form.occupation.lineEdit(), Qt.Key.Key_Return)
    assert focused() in (form.occupation, form.occupation.lineEdit())  # stays to be corrected
    qtbot.waitUntil(lambda: label.isVisible(), timeout=3000)
    assert '"cuci"' in label.text()


def test_kegiatan_made_elsewhere_join_the_list_without_a_restart(qtbot, form, worker, tmp_path):
    from storage.registry import Registry

    assert form.event.count() == 1  # "— tanpa kegiatan —"
    done = []
    worker.call(lambda r: r.add_event("Posyandu Mayang", date(2026, 11, 20)),
                on_result=done.append, changes=True)
    qtbot.waitUntil(lambda: form.event.findData(done[0].id) >= 0 if done else False,
                    timeout=3000)
    form.event.setCurrentIndex(form.event.findData(done[0].id))
    # Written by another connection (a sync thread, the demo): seen after its `changed`.
    other = Registry.open(worker.readonly.db_for_tests.conn.execute("PRAGMA database_list")
                          .fetchone()[2])
    pulled = other.add_event("Kampung Bahagia RT 05", date(2026, 11, 24))
    other.close()
    worker.changed.emit()
    assert form.event.findData(pulled.id) >= 0
    assert form.event.currentData() == done[0].id  # the chosen one stays chosen


def test_an_heirs_relationship_is_asked_for_only_once_it_is_left(qtbot, form):
    heir = form.heirs.rows[0]
    heir.name.setFocus()
    qtbot.keyClicks(heir.name, "Ahmad Yani")
    form.validate_now()
    qtbot.wait(300)
    assert "hubungan keluarga" not in form.heirs.issues.text()
    qtbot.keyClick(heir.name, Qt.Key.Key_Return)
    assert focused() is heir.relationship
    qtbot.keyClick(heir.relationship, Qt.Key.Key_Tab)  # left without choosing
    qtbot.waitUntil(lambda: "hubungan keluarga wajib dipilih" in form.heirs.issues.text(),
                    timeout=3000)


def test_a_check_answered_after_the_form_closed_is_dropped(qtbot, worker):
    import shiboken6

    f = RegistrationForm(worker, operator="Petugas Uji")
    f.birth_date.setText("01-02-1990")
    f.validate_now()
    shiboken6.delete(f)  # the window closes while the registry checks the record
    qtbot.waitUntil(lambda: worker.pending() == 0, timeout=10_000)
    qtbot.wait(50)  # the answer reached the main thread and was dropped without an error
