"""Filling a filter's combo box again without announcing it: the panels refill kelurahan when
the kecamatan changes and kegiatan or occupations when they arrive, and only the operator's own
choice fetches the list again."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtWidgets import QComboBox


def refill(combo: QComboBox, items: Iterable[tuple[str, Any]]) -> None:
    """Replace the choices with (label, data) pairs, silently; the choice stays when it is
    still offered, else the first entry is chosen."""
    chosen = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    for label, data in items:
        combo.addItem(label, data)
    combo.setCurrentIndex(max(0, combo.findData(chosen)))
    combo.blockSignals(False)


def choices(combo: QComboBox) -> list[tuple[str, Any]]:
    return [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]


def kelurahan_choices(regions: Any, kecamatan_code: str, all_label: str) -> list[tuple[str, str]]:
    """"All kelurahan", then those of the kecamatan chosen (none when no kecamatan is)."""
    found = regions.kelurahan_list(kecamatan_code) if kecamatan_code else []
    return [(all_label, ""), *((kel.name, kel.code) for kel in found)]
