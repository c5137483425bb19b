"""Indonesian texts for Qt's own standard buttons (Ya/Tidak, OK/Batal, Tutup…).

Qt ships no Indonesian translation of its base library (there is no `qtbase_id.qm`), so message
boxes and button boxes would say Yes/No/Cancel in an Indonesian window. One translator, installed
once on the application, answers Qt's own requests for those texts while the window's language
(`ui.labels.language()`) is Indonesian; in English it answers nothing and Qt keeps its own.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QTranslator

from ui.labels import language

# Qt's source text → Indonesian. The contexts are those of Qt 6's platform themes (the generic
# one and the GNOME one, used on Linux desktops) and of QMessageBox's details button.
INDONESIAN: dict[str, str] = {
    "OK": "OK",
    "&OK": "&OK",
    "Save": "Simpan",
    "&Save": "&Simpan",
    "Save All": "Simpan semua",
    "Open": "Buka",
    "&Yes": "&Ya",
    "Yes to &All": "Ya untuk &semua",
    "&No": "&Tidak",
    "N&o to All": "T&idak untuk semua",
    "Abort": "Hentikan",
    "Retry": "Coba lagi",
    "Ignore": "Abaikan",
    "Close": "Tutup",
    "&Close": "&Tutup",
    "Cancel": "Batal",
    "&Cancel": "&Batal",
    "Discard": "Buang",
    "Close without Saving": "Tutup tanpa menyimpan",
    "Help": "Bantuan",
    "Apply": "Terapkan",
    "Reset": "Atur ulang",
    "Restore Defaults": "Kembalikan bawaan",
    "Show Details...": "Tampilkan rincian…",
    "Hide Details...": "Sembunyikan rincian…",
}
# Qt's own file dialog (used where the desktop offers none): its buttons and field names.
FILE_DIALOG: dict[str, str] = {
    "&Open": "&Buka",
    "&Save": "&Simpan",
    "&Choose": "&Pilih",
    "Cancel": "Batal",
    "Look in:": "Lihat di:",
    "File &name:": "&Nama berkas:",
    "Files of type:": "Jenis berkas:",
}
_CONTEXTS = frozenset({"QPlatformTheme", "QGnomeTheme", "QMessageBox", "QDialogButtonBox"})


class StandardButtonTranslator(QTranslator):
    """Answers only Qt's button texts, and only while the window speaks Indonesian."""

    def translate(self, context: str, source: str, disambiguation: str | None = None,
                  n: int = -1) -> str | None:
        if language() != "id":
            return None  # None: "not translated here", Qt keeps looking or uses its own text
        if context == "QFileDialog":
            return FILE_DIALOG.get(source)
        return INDONESIAN.get(source) if context in _CONTEXTS else None

    def isEmpty(self) -> bool:
        return False


def install(app: QCoreApplication | None = None) -> StandardButtonTranslator:
    """Install the translator once on the application (again: the same one is returned)."""
    app = app or QCoreApplication.instance()
    existing = app.findChild(StandardButtonTranslator)
    if existing is not None:
        return existing
    translator = StandardButtonTranslator(app)
    app.installTranslator(translator)
    return translator


def confirm(parent, title: str, text: str) -> bool:
    """Ask a yes/no question whose safe answer, *Tidak*, is the default: Enter or Esc keeps
    things as they are; only an explicit *Ya* goes ahead."""
    from PySide6.QtWidgets import QMessageBox

    yes, no = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
    box = QMessageBox(QMessageBox.Icon.Question, title, text, yes | no, parent)
    box.setObjectName("confirm_box")
    box.setDefaultButton(no)
    box.setEscapeButton(no)
    return box.exec() == yes
