"""Every text of the window goes through the labels: the English build of every panel shows no
Indonesian text of the labels table, no widget is handed a literal text in ui/, every label has
both languages with the same placeholders, and the Indonesian window's standard buttons speak
Indonesian (Ya/Tidak/Batal/OK)."""

from __future__ import annotations

import ast
import re
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QDialogButtonBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QTabWidget,
    QTextEdit,
    QWidget,
)
from test_ui_sizes import FACTORIES

from storage.config import load_program_config
from storage.regions import load_regions
from sync.engine import SyncReport
from ui import app as app_module
from ui import labels
from ui.login import PasswordDialog

UI = Path(__file__).resolve().parent.parent / "ui"
WAIT = 10_000
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)

# --- the labels table ------------------------------------------------------------------------


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_every_label_has_both_languages_with_the_same_placeholders():
    assert len(labels.TEXT) > 500  # the window's own texts, each part's and the programme's
    for key, (indonesian, english) in labels.TEXT.items():
        assert indonesian.strip() and english.strip(), key
        assert _fields(indonesian) == _fields(english), key


# --- no literal texts in ui/ -----------------------------------------------------------------

# Qt calls that show their text argument (name → the argument's position; None: every one).
TEXT_CALLS = {
    "setText": 0, "setPlaceholderText": 0, "setToolTip": 0, "setWindowTitle": 0, "setTitle": 0,
    "setStatusTip": 0, "addTab": 1, "insertTab": 2, "setTabText": 1, "addItem": 0,
    "insertItem": 1, "addMenu": 0, "addAction": 0, "showMessage": 0, "addRow": 0,
    "setHorizontalHeaderLabels": 0, "setHeaderLabels": 0, "setLabelText": 0,
    "setCancelButtonText": 0, "setHtml": 0, "setPlainText": 0, "setInformativeText": 0,
    "add_lazy_panel": 0, "add_panel": 0, "addButton": 0,
    "QLabel": 0, "QPushButton": 0, "QCheckBox": 0, "QRadioButton": 0, "QGroupBox": 0,
    "QAction": 0, "QToolButton": 0, "QProgressDialog": None, "QMessageBox": None,
}
DIALOG_CALLS = {  # static dialogs, by their class
    "QMessageBox": {"information", "warning", "critical", "question", "about"},
    "QInputDialog": {"getText", "getItem", "getInt", "getDouble"},
    "QFileDialog": {"getSaveFileName", "getOpenFileName", "getExistingDirectory"},
}
NOT_WORDS = {"NIK", "RT", "RW", "OK", "PDF", "QR", "KPJ", "BPJS", "PDP"}
# Files that hold texts rather than show them: the table itself, Qt's own button texts, and
# the documentation's screenshots (a script that stages sample data).
NOT_CHECKED = {"labels.py", "standard_buttons.py", "screenshots.py"}


def _literal_parts(node: ast.AST):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.JoinedStr):
        for value in node.values:
            yield from _literal_parts(value)
    elif isinstance(node, ast.BinOp):
        yield from _literal_parts(node.left)
        yield from _literal_parts(node.right)
    elif isinstance(node, ast.IfExp):
        yield from _literal_parts(node.body)
        yield from _literal_parts(node.orelse)
    elif isinstance(node, ast.Tuple | ast.List):
        for element in node.elts:
            yield from _literal_parts(element)


def _read_by_people(text: str) -> bool:
    """Words (not a code such as "a4", an object name or an input mask like XXXXX-XXXXX)."""
    words = [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in NOT_WORDS]
    if not words or re.fullmatch(r"[X-]+", text):
        return False
    return len(words) > 1 or text.lstrip("&")[:1].isupper() or not re.fullmatch(r"[\w.]+", text)


def _shown_arguments(call: ast.Call) -> list[ast.AST]:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    owner = getattr(func.value, "id", "") if isinstance(func, ast.Attribute) else ""
    if owner in DIALOG_CALLS:
        return list(call.args) if name in DIALOG_CALLS[owner] else []
    if name not in TEXT_CALLS:
        return []
    at = TEXT_CALLS[name]
    return list(call.args) if at is None else list(call.args[at:at + 1])


def literal_texts(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            found += [f"{path.name}:{node.lineno}: {part!r}"
                      for arg in _shown_arguments(node) for part in _literal_parts(arg)
                      if _read_by_people(part)]
    return found


def test_no_widget_in_ui_is_handed_a_literal_text():
    found = [hit for path in sorted(UI.rglob("*.py")) if path.name not in NOT_CHECKED
             for hit in literal_texts(path)]
    assert found == []


def test_the_literal_check_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        'QPushButton("Simpan", self)\nQMessageBox.warning(self, "Kartu", f"Pilih {n} kartu")\n'
        'box.setPlaceholderText(t("ph.nik"))\ncombo.addItem(t("x"), "a4")\n'
        'log.warning("database job failed: %s", exc)\n', encoding="utf-8")
    assert literal_texts(sample) == ["sample.py:1: 'Simpan'", "sample.py:2: 'Kartu'",
                                     "sample.py:2: 'Pilih '", "sample.py:2: ' kartu'"]


# --- the English build of every panel --------------------------------------------------------


def _indonesian_patterns() -> list[tuple[str, re.Pattern]]:
    """The Indonesian of every label that differs from its English, as word-bounded patterns of
    its literal parts (the parts between placeholders). A part shorter than four letters, or a
    single word left between placeholders ("{n} peserta"), says too little to look for (it
    stands in data as well: a file named peserta-rt05.csv); one the English itself uses
    (kelurahan, kecamatan: the city's own names for its areas) is no sign of a missing
    translation."""
    english_texts = " | ".join(e.replace("&", "") for _i, e in labels.TEXT.values()).lower()
    patterns = []
    for key, (indonesian, english) in labels.TEXT.items():
        if indonesian.replace("&", "") == english.replace("&", ""):
            continue
        pieces = list(string.Formatter().parse(indonesian.replace("&&", "&")))
        for literal, *_rest in pieces:
            part = literal.replace("&", "").strip(" .,:;—–-·()\n")
            too_little = len(re.sub(r"\W", "", part)) < 4 or (len(pieces) > 1 and " " not in part)
            if too_little or re.search(rf"\b{re.escape(part.lower())}\b", english_texts):
                continue
            pattern = re.escape(part)
            pattern = (r"\b" if part[0].isalnum() else "") + pattern
            pattern += r"\b" if part[-1].isalnum() else ""
            patterns.append((f"{key}: {part}", re.compile(pattern)))
    return patterns


def _view_texts(view: QAbstractItemView) -> list[str]:
    """A view's column titles and the cells of its first rows."""
    if isinstance(view, QListWidget):
        return [view.item(i).text() for i in range(min(view.count(), 50))]
    model = view.model()
    if model is None:
        return []
    top = QModelIndex()
    columns, rows = model.columnCount(top), min(model.rowCount(top), 50)
    texts = [str(model.headerData(c, Qt.Orientation.Horizontal) or "") for c in range(columns)]
    return texts + [str(model.index(r, c, top).data() or "")
                    for r in range(rows) for c in range(columns)]


def _texts_of(widget: QWidget) -> list[str]:
    """Everything a person reads on one widget (texts, tooltips, placeholders, items, headers,
    titles)."""
    texts = [widget.toolTip(), widget.windowTitle(), widget.statusTip()]
    if isinstance(widget, QLabel | QAbstractButton):
        texts.append(widget.text())
    if isinstance(widget, QLineEdit | QPlainTextEdit | QTextEdit):
        texts.append(widget.placeholderText())
    if isinstance(widget, QTextEdit):
        texts.append(widget.toPlainText())
    if isinstance(widget, QComboBox):
        texts += [widget.itemText(i) for i in range(widget.count())]
    if isinstance(widget, QGroupBox):
        texts.append(widget.title())
    if isinstance(widget, QTabWidget):
        texts += [widget.tabText(i) for i in range(widget.count())]
    if isinstance(widget, QAbstractItemView):
        texts += _view_texts(widget)
    if isinstance(widget, QMenu):
        texts += [a.text() for a in widget.actions()] + [widget.title()]
    texts += [a.text() for a in widget.actions()]
    return [text.replace("&&", "&") for text in texts if text]


def data_texts() -> set[str]:
    """Texts that are data in the programme's configuration or the city's regions, shown as
    they are in any language: occupations, the documents BPJS asks for, area names, and each
    language's own name in the language menu."""
    config = load_program_config()
    regions = load_regions()
    names = {o.name for o in config.occupations} | {d.label for d in config.office.claim_documents}
    names |= {k.name for k in regions.kecamatan_list()} | set(labels.LANGUAGES.values())
    for kecamatan in regions.kecamatan_list():
        names |= {k.name for k in regions.kelurahan_list(kecamatan.code)}
    return names


def indonesian_in(root: QWidget) -> list[str]:
    patterns, data = _indonesian_patterns(), data_texts()
    found = set()
    for widget in [root, *root.findChildren(QWidget)]:
        for text in _texts_of(widget):
            plain = text.replace("&", "")
            if plain in data:
                continue
            found |= {f"{type(widget).__name__} {widget.objectName()!r}: {plain!r} ← {name}"
                      for name, pattern in patterns if pattern.search(plain)}
    return sorted(found)


@pytest.fixture
def window_in(qtbot, worker):
    """The whole window as an admin would see it, in `language`, with every tab built."""
    windows = []

    def make(language: str):
        def prepare(registry):
            registry.set_setting("language", language)
            if registry.operators.get("admin") is None:
                registry.operators.add("admin", "Ibu Admin", "admin", "rahasia-jambi", now=T0,
                                       by="admin")
            return registry.operators.get("admin")

        with qtbot.waitCallback(timeout=WAIT) as answered:
            worker.call(prepare, on_result=answered, on_error=answered)
        admin = answered.args[0]
        if isinstance(admin, BaseException):
            raise admin
        window = app_module.build_window(worker, admin)
        qtbot.addWidget(window)
        window.ask_draft = lambda text: False
        windows.append(window)
        window.show()
        qtbot.waitExposed(window)
        for index in range(window.tabs.count()):  # each lazy panel is made when first shown
            window.tabs.setCurrentIndex(index)
            qtbot.wait(20)
        qtbot.wait(300)  # the panels' first answers (not enrolled, empty lists) arrive
        return window

    yield make
    labels.set_language("id")
    for window in windows:
        window.sync_panel.shutdown()
        if window.idle is not None:
            window.idle.remove()


def test_the_english_window_shows_no_indonesian_label(qtbot, window_in):
    window = window_in("en")
    assert labels.language() == "en"
    assert window.visible_tabs() == ["Registration", "Registered Workers", "Cards",
                                     "Check a card", "Verification", "Claims && PDP", "Sync"]
    # A sync's outcome is said in the window's language too.
    window.sync_panel._succeeded(SyncReport(pushed=3, accepted=1, duplicates=1, rejected=1,
                                            refused=1, corrections=1, card_steps=1, remaining=2,
                                            cancelled=True))
    assert window.sync_panel.status_label.text().startswith("Sent 3 records")
    assert indonesian_in(window) == []
    operators = window.manage_operators()
    assert operators is not None and indonesian_in(operators) == []
    operators.close()


# Where the sizes test hands a dialog a text, the window hands it a label.
ENGLISH_FACTORIES = {
    "PasswordDialog": lambda worker, parent: PasswordDialog(labels.plain("password.title"),
                                                            ask_old=True, parent=parent),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_every_dialog_in_english_shows_no_indonesian_label(qtbot, worker, name):
    """Each dialog of the window (the same list tests/test_ui_sizes.py keeps complete), built
    in English. A guide's own text is an Indonesian document (README): only its frame is
    checked."""
    parent = QWidget()
    qtbot.addWidget(parent)
    labels.set_language("en")
    try:
        dialog = ENGLISH_FACTORIES.get(name, FACTORIES[name])(worker, parent)
        dialog.show()
        qtbot.wait(300)  # what the dialog loads through the worker has arrived
        if name == "GuideDialog":
            dialog.text.clear()
        assert indonesian_in(dialog) == []
    finally:
        labels.set_language("id")


def test_the_check_sees_an_indonesian_label_left_in_an_english_window(qtbot, window_in):
    window = window_in("en")
    window.sync_panel.status_label.setText(labels.TEXT["syncp.running"][0])
    window.card_desk.count_label.setText("Siap cetak: 3 kartu")
    found = indonesian_in(window)
    assert {line.split(": ", 1)[1].split(" ← ")[0] for line in found} == {
        "'Siap cetak: 3 kartu'", "'Sinkronisasi berjalan…'"}
    assert {"desk.view.ready: Siap cetak", "syncp.running: Sinkronisasi berjalan…"} <= {
        line.split(" ← ")[1] for line in found}


def test_the_indonesian_window_speaks_indonesian_with_indonesian_standard_buttons(
        qtbot, window_in):
    window = window_in("id")
    assert window.visible_tabs()[2:] == ["Kartu", "Periksa kartu", "Verifikasi",
                                         "Klaim && PDP", "Sinkronisasi"]
    box = QMessageBox(QMessageBox.Icon.Question, "t", "x",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
                      | QMessageBox.StandardButton.Cancel, window)
    assert sorted(b.text() for b in box.buttons()) == ["&Tidak", "&Ya", "Batal"]
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                               | QDialogButtonBox.StandardButton.Cancel, window)
    assert sorted(b.text() for b in buttons.buttons()) == ["Batal", "OK"]


def test_the_english_verifier_shows_a_registration_and_its_duplicate_in_english(
        qtbot, tmp_path, server):
    """Against the real server: the list, the quota, the server's reasons and the detail of a
    registration beside its same-NIK duplicate, all in English."""
    from sync_util import enrolled_device

    from storage.demo import fill_demo_data
    from storage.operators import Operator
    from sync.engine import run_sync
    from sync.enrol import client_for
    from ui.db_worker import DbWorker
    from ui.session import Session
    from ui.verifier_panel import VerifierPanel

    url, server_dir = server
    for name, count in (("a", 2), ("b", 1)):  # b's worker is a's first: a same-NIK pair
        device = enrolled_device(tmp_path / f"{name}.sqlite3", url, server_dir)
        fill_demo_data(device, count, seed=21)
        client = client_for(device)
        run_sync(device, client)
        client.close()
        device.close()
    enrolled_device(tmp_path / "v.sqlite3", url, server_dir, "verifier").close()
    worker = DbWorker.for_path(tmp_path / "v.sqlite3")
    worker.start()
    verifier = Operator(id=7, username="sari.v", display_name="Sari", role="verifikator",
                        active=True, failed_attempts=0, locked_until=None, created_at="")
    labels.set_language("en")
    try:
        panel = VerifierPanel(worker, session=Session(verifier))
        qtbot.addWidget(panel)
        panel.reload()
        qtbot.waitUntil(lambda: panel.model.rowCount() == 3, timeout=WAIT)
        qtbot.waitUntil(lambda: panel.reason_combo.count() > 1, timeout=WAIT)
        row = next(i for i, item in enumerate(panel.model.items) if item["possible_duplicate"])
        panel.table.selectRow(row)
        qtbot.waitUntil(lambda: bool(panel.duplicates), timeout=WAIT)
        assert "Possible duplicate" in panel.other_view.toPlainText()
        assert "Registered twice (duplicate)" in [panel.reason_combo.itemText(i)
                                                  for i in range(panel.reason_combo.count())]
        assert indonesian_in(panel) == []
        panel.shutdown()
    finally:
        labels.set_language("id")
        worker.shutdown()


def test_the_english_card_desk_and_card_check_with_funded_members(qtbot, tmp_path):
    """With cards to print: the desk's rows, and a scanned card's verdict, in English."""
    from datetime import date

    from cards import desk
    from cards.demo import fund_demo_members
    from storage.demo import fill_demo_data
    from storage.registry import Registry
    from ui.card_desk import CardDeskPanel
    from ui.db_worker import DbWorker
    from ui.verify_panel import VerifyPanel

    path = tmp_path / "registry.sqlite3"
    registry = Registry.open(path)
    fill_demo_data(registry, 6, seed=5, as_of=date.today())
    fund_demo_members(registry, tmp_path, share=0.5, seed=2, today=date.today())
    registry.close()
    worker = DbWorker.for_path(path)
    worker.start()
    labels.set_language("en")
    try:
        cards = CardDeskPanel(worker)
        check = VerifyPanel(worker)
        for panel in (cards, check):
            qtbot.addWidget(panel)
        assert cards.model.rowCount() > 0
        reg_id = desk.members_ready_to_print(worker.readonly)[0].registration_id
        check.input.setText(desk.load_print_cards(worker.readonly, [reg_id])[0].qr_text)
        assert check.submit().valid
        assert check.title.text() == "VALID CARD"
        assert check.message.text().startswith("Valid card. Valid ")
        assert indonesian_in(cards) == [] and indonesian_in(check) == []
    finally:
        labels.set_language("id")
        worker.shutdown()


def test_the_desks_short_validity_question_in_english(qtbot, monkeypatch):
    from datetime import date, timedelta

    from ui import card_dialogs

    asked = []

    def question(parent, title, text, buttons, default):
        asked.append((title, text))
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(card_dialogs.QMessageBox, "question", question)
    parent = QWidget()
    qtbot.addWidget(parent)
    soon = (date.today() + timedelta(days=10)).isoformat()
    labels.set_language("en")
    try:
        assert not card_dialogs.short_validity_accepted(parent, [soon])
        assert not card_dialogs.short_validity_accepted(parent, [soon, soon])
    finally:
        labels.set_language("id")
    assert asked[0][0] == "Cards"
    assert re.match(r"This card is valid for only 1[01] more days \(until ", asked[0][1])
    assert asked[1][1].startswith("2 of 2 cards are valid for fewer than")
    assert all(text.endswith("Print anyway?") for _title, text in asked)
