"""The verifier's list model on its own, without a window or a server: the cells of a page of
summaries as the server sends them (masked NIK, names for codes, flags, status reasons)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt

from storage.regions import load_regions
from ui.labels import t, term
from ui.verifier_detail import Names
from ui.verifier_model import COLUMNS, SummaryModel

ITEMS = [
    {"id": "r1", "full_name": "Siti Aminah", "nik_masked": "157101******0001",
     "kelurahan_code": "", "cohort": "pekerja_rentan", "occupation_code": "OJK",
     "status": "rejected", "status_reason": "Dokumen tidak lengkap: KK buram",
     "possible_duplicate": True, "correction_pending": True, "event_id": "ev1",
     "event_name": "", "received_at": "2026-03-02T09:15:00+07:00"},
    {"id": "r2", "full_name": "Budi", "nik_masked": "157102******0002", "kelurahan_code": "X",
     "cohort": "", "occupation_code": "ZZZ", "status": "received", "event_id": "ev2",
     "event_name": "Pasar Angso Duo", "received_at": ""},
]


def _model() -> SummaryModel:
    regions = load_regions()
    kel = regions.kelurahan_list(regions.kecamatan_list()[0].code)[0]
    items = [{**ITEMS[0], "kelurahan_code": kel.code}, ITEMS[1]]
    model = SummaryModel(Names(regions, {"OJK": "Ojek"}, {"ev1": "Posyandu Mawar"}))
    model.set_items(items)
    return model, kel.name


def _cells(model: SummaryModel, row: int) -> dict[str, str]:
    return {name: model.index(row, column).data() for column, name in enumerate(COLUMNS)}


def test_a_page_of_summaries_reads_in_names_never_a_full_nik(qapp):
    model, kelurahan = _model()
    assert model.rowCount() == 2 and model.columnCount() == len(COLUMNS)
    assert model.rowCount(model.index(0, 0)) == 0  # a flat list
    first = _cells(model, 0)
    assert first["name"] == "Siti Aminah"
    assert first["nik"] == "157101******0001"
    assert first["kelurahan"] == kelurahan
    assert first["cohort"] == term("cohort", "pekerja_rentan")
    assert first["occupation"] == "Ojek"
    assert first["status"] == f"{term('status', 'rejected')}: Dokumen tidak lengkap: KK buram"
    assert first["notes"] == f"{t('ver.flag.duplicate')}, {t('ver.flag.correction')}"
    assert first["event"] == "Posyandu Mawar"  # this device's name for the kegiatan
    assert first["received"].startswith("02")


def test_codes_without_a_name_show_the_code_and_the_servers_names_win(qapp):
    model, _ = _model()
    second = _cells(model, 1)
    assert second["kelurahan"] == "X" and second["occupation"] == "ZZZ"
    assert second["event"] == "Pasar Angso Duo"  # the server named it
    assert second["notes"] == "" and second["received"] == ""
    assert second["status"] == term("status", "received")


def test_the_tooltip_repeats_the_cell_and_other_roles_are_empty(qapp):
    model, _ = _model()
    index = model.index(0, COLUMNS.index("status"))
    assert model.data(index, Qt.ItemDataRole.ToolTipRole) == index.data()
    assert model.data(index, Qt.ItemDataRole.EditRole) is None
    assert model.data(QModelIndex()) is None
    assert model.headerData(0, Qt.Orientation.Horizontal) == t("ver.col.name")
    assert model.headerData(0, Qt.Orientation.Vertical) is None


def test_a_new_page_replaces_the_rows_and_rows_are_found_by_id(qapp):
    model, _ = _model()
    assert model.row_of("r2") == 1 and model.row_of("nope") is None
    resets = []
    model.modelReset.connect(lambda: resets.append(True))
    model.set_items(ITEMS[1:])
    assert resets == [True] and model.rowCount() == 1 and model.row_of("r2") == 0
