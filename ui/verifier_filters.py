"""The verifier's filters: kecamatan and kelurahan, cohort, occupation, kegiatan, status, a
name, only possible duplicates, only waiting corrections. `changed` when the list must be
fetched again from its first page; `query()` is what the server is asked."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QWidget,
)

from storage.models import COHORT_LABELS, Status
from sync import verifier as api
from ui.combos import kelurahan_choices, refill
from ui.labels import t, term
from ui.timefmt import format_date

STATUSES = (Status.RECEIVED, Status.VERIFIED, Status.REJECTED, Status.FUNDED,
            Status.CARD_PRINTED, Status.CARD_HANDED_OVER)


class VerifierFilters(QGroupBox):
    """The filter box; `fill_lookup` refills the occupations and kegiatan when they arrive."""

    changed = Signal()

    def __init__(self, regions, parent: QWidget | None = None):
        super().__init__(t("ver.filters"), parent)
        self.regions = regions
        self._build()
        self._place()
        self._connect()

    def _combo(self, first: str) -> QComboBox:
        combo = QComboBox(self)
        combo.addItem(first, "")
        return combo

    def _build(self) -> None:
        self.kecamatan_combo = self._combo(t("ver.all_kecamatan"))
        for kec in self.regions.kecamatan_list():
            self.kecamatan_combo.addItem(kec.name, kec.code)
        self.kelurahan_combo = self._combo(t("ver.all_kelurahan"))
        self.cohort_combo = self._combo(t("ver.all_cohorts"))
        for code in COHORT_LABELS:
            self.cohort_combo.addItem(term("cohort", code.value), code.value)
        self.occupation_combo = self._combo(t("ver.all_occupations"))
        self.event_combo = self._combo(t("ver.all_events"))
        self.status_combo = self._combo(t("ver.all_statuses"))
        for status in STATUSES:
            self.status_combo.addItem(term("status", status.value), status.value)
        self.status_combo.setCurrentIndex(1)  # what waits for a decision
        self.duplicate_check = QCheckBox(t("ver.only_duplicates"), self)
        self.correction_check = QCheckBox(t("ver.only_corrections"), self)
        self.correction_check.setObjectName("correction_filter")
        self.correction_check.setToolTip(t("ver.only_corrections_tip"))
        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText(t("ver.search"))

    def _place(self) -> None:
        """Two rows of four: the filters take little height, the list keeps it."""
        grid = QGridLayout(self)
        widgets = (("kecamatan", self.kecamatan_combo), ("kelurahan", self.kelurahan_combo),
                   ("cohort", self.cohort_combo), ("occupation", self.occupation_combo),
                   ("event", self.event_combo), ("status", self.status_combo),
                   ("name", self.search_edit))
        for i, (name, widget) in enumerate(widgets):
            grid.addWidget(QLabel(t(f"ver.f.{name}"), self), i // 4, (i % 4) * 2)
            grid.addWidget(widget, i // 4, (i % 4) * 2 + 1)
        grid.addWidget(self.duplicate_check, 1, 6)
        grid.addWidget(self.correction_check, 1, 7)
        grid.setContentsMargins(6, 2, 6, 2)
        grid.setVerticalSpacing(2)

    def _connect(self) -> None:
        self.kecamatan_combo.currentIndexChanged.connect(self._fill_kelurahan)
        for combo in (self.kecamatan_combo, self.kelurahan_combo, self.cohort_combo,
                      self.occupation_combo, self.event_combo, self.status_combo):
            combo.currentIndexChanged.connect(self.changed)
        self.duplicate_check.toggled.connect(self.changed)
        self.correction_check.toggled.connect(self._corrections_toggled)
        self.search_edit.returnPressed.connect(self.changed)

    def _fill_kelurahan(self) -> None:
        refill(self.kelurahan_combo, kelurahan_choices(
            self.regions, self.kecamatan_combo.currentData(), t("ver.all_kelurahan")))

    def _corrections_toggled(self, checked: bool) -> None:
        """Corrections wait on decided registrations: any status, not only "diterima"."""
        if checked and self.status_combo.currentIndex() != 0:
            self.status_combo.blockSignals(True)
            self.status_combo.setCurrentIndex(0)
            self.status_combo.blockSignals(False)
        self.changed.emit()

    def fill_lookup(self, combo: QComboBox, values: dict[str, str], *,
                    ordered: bool = False) -> None:
        """Replace the choices after the first ("Semua …"); sorted by name unless `ordered`."""
        items = values.items() if ordered else sorted(values.items(), key=lambda kv: kv[1])
        refill(combo, [(combo.itemText(0), ""), *((name, code) for code, name in items)])

    def fill_server_events(self, events: list[dict]) -> None:
        """The kegiatan filter from the server (the latest first, each with its day)."""
        labels = {}
        for e in events:
            day = format_date(e.get("held_on"))
            name = e.get("name") or e["id"]
            labels[e["id"]] = f"{name} ({day})" if day else name
        self.fill_lookup(self.event_combo, labels, ordered=True)

    def query(self) -> api.RegistrationQuery:
        combos = {"kecamatan": self.kecamatan_combo, "kelurahan": self.kelurahan_combo,
                  "cohort": self.cohort_combo, "occupation": self.occupation_combo,
                  "event": self.event_combo, "status": self.status_combo}
        return api.RegistrationQuery(
            **{field: combo.currentData() or "" for field, combo in combos.items()},
            possible_duplicate=True if self.duplicate_check.isChecked() else None,
            correction_pending=True if self.correction_check.isChecked() else None,
            q=self.search_edit.text().strip(),
        )
