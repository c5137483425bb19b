"""The keyboard path of a whole registration with one heir, counted key by key.

Every key is a real key event sent to the widget that has the focus. Keys that type what is on
the KTP (letters, digits, a kecamatan's first letters) are data; every other key (Enter, Tab,
Space on the consent box, Ctrl+S) is counted. The goal of issue 12: at most 12 such keys.
"""

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from storage.registry import RegistrationFilter
from ui.registration_form import RegistrationForm

MAX_OTHER_KEYS = 12


class Keyboard:
    """Types into the focused widget and counts data characters and other keys apart."""

    def __init__(self, qtbot, form):
        self.qtbot, self.form = qtbot, form
        self.data = 0
        self.other = 0

    def focused(self):
        return self.form.window().focusWidget()

    def type(self, text: str, into) -> None:
        widget = self.focused()
        expected = (into, getattr(into, "lineEdit", lambda: None)())
        assert widget in expected, f"focus on {widget.objectName()}, not {into.objectName()}"
        for char in text:
            self.qtbot.keyClick(self.focused(), char)
        self.data += len(text)

    def press(self, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
        self.qtbot.keyClick(self.focused(), key, modifier)
        self.qtbot.wait(1)  # let a queued move of the focus happen, as between real key presses
        self.other += 1


def test_a_registration_with_one_heir_takes_at_most_twelve_other_keys(qtbot, worker):
    form = RegistrationForm(worker, operator="Petugas Uji")
    qtbot.addWidget(form)
    form.show()
    qtbot.waitExposed(form)
    form.activateWindow()
    form.nik.setFocus()
    keys = Keyboard(qtbot, form)
    enter = Qt.Key.Key_Return
    heir = form.heirs.rows[0]

    keys.type("1571094512859902", form.nik)  # sixteen good digits move on by themselves
    keys.type("Siti Aminah", form.full_name)
    keys.press(enter)
    keys.type("Jambi", form.birth_place)
    keys.press(enter)  # birth date and sex came from the NIK: Enter passes them
    keys.type("081234567890", form.phone)
    keys.press(enter)
    keys.type("Jl. Kapt. Pattimura No. 5", form.street)
    keys.press(enter)
    keys.type("005", form.rt)  # three digits fill RT: on to RW, then to the kecamatan
    keys.type("002", form.rw)
    keys.type("Alam", form.kecamatan)
    keys.press(enter)
    keys.type("Rawa", form.kelurahan)
    keys.press(enter)  # the postal code came from the kelurahan
    keys.type("kaki lima", form.occupation)
    keys.press(enter)  # the one occupation the search names; its cohort goes with it
    keys.type("1500000", form.income)
    keys.press(enter)
    keys.type("Ahmad Yani", heir.name)
    keys.press(enter)
    keys.type("Suami", heir.relationship)
    keys.press(enter)  # the heir's phone and NIK are optional: Enter passes them
    assert keys.focused() is form.consent
    keys.press(Qt.Key.Key_Space)
    keys.press(Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)

    qtbot.waitUntil(lambda: "Tersimpan" in form.feedback.text(), timeout=5000)
    print(f"\nkeyboard path: {keys.data} data characters, {keys.other} other keys")
    assert keys.other <= MAX_OTHER_KEYS
    rows = worker.readonly.query(RegistrationFilter(text="1571094512"))
    reg = worker.readonly.get(rows[0].id)
    assert (reg.full_name, reg.birth_place, reg.birth_date, reg.sex) == (
        "Siti Aminah", "Jambi", date(1985, 12, 5), "P")
    assert (reg.phone, reg.street, reg.rt, reg.rw) == (
        "081234567890", "Jl. Kapt. Pattimura No. 5", "005", "002")
    assert reg.kelurahan_code.startswith("15.71.09.") and reg.postal_code
    assert (reg.occupation_code, reg.cohort, reg.monthly_income) == (
        "pedagang_kaki_lima", "pekerja_rentan", 1_500_000)
    assert [(h.name, h.relationship) for h in reg.heirs] == [("Ahmad Yani", "suami")]
    assert reg.consent_given
    assert QApplication.activeModalWidget() is None  # no question was needed
