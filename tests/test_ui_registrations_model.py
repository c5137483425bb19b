"""The list model alone, without a window: lazy pages, filters, masked NIKs (5,000 workers)."""

import re

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester

from storage.demo import fill_demo_data
from storage.registry import RegistrationFilter, Registry
from ui.registrations_model import COLUMNS, RegistrationsModel

COUNT = 5000
MASKED = re.compile(r"^\d{6}\*{6}\d{4}$")


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    path = tmp_path_factory.mktemp("list") / "registry.sqlite3"
    writer = Registry.open(path)
    fill_demo_data(writer, COUNT, seed=7)
    writer.close()
    registry = Registry.open_readonly(path)
    yield registry
    registry.close()


def fetch_all(model):
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())


def column(model, name):
    col = COLUMNS.index(name)
    return [model.data(model.index(r, col)) for r in range(model.rowCount())]


def test_the_first_page_only_then_more_on_demand(qapp, reader):
    model = RegistrationsModel(reader, page_size=200)
    assert model.rowCount() == 200
    assert model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    assert model.rowCount() == 400
    fetch_all(model)
    assert model.rowCount() == COUNT
    assert not model.canFetchMore(QModelIndex())
    assert len({model.id_at(r) for r in range(COUNT)}) == COUNT
    assert model.total() == COUNT


def test_the_model_keeps_qt_model_rules(qapp, reader):
    model = RegistrationsModel(reader, page_size=300)
    # The tester also calls fetchMore and checks every change it makes.
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    model.fetchMore(QModelIndex())
    model.set_filter(RegistrationFilter(status="registered"))
    model.refresh()


def test_nik_is_masked_everywhere(qapp, reader):
    model = RegistrationsModel(reader, page_size=1000)
    fetch_all(model)
    assert all(MASKED.match(v) for v in column(model, "nik"))
    full = re.compile(r"\d{16}")
    for r in range(0, COUNT, 97):
        for c in range(len(COLUMNS)):
            assert not full.search(str(model.data(model.index(r, c)) or ""))


def test_filters_by_kelurahan_event_status_and_search(qapp, reader):
    model = RegistrationsModel(reader, page_size=500)
    first = model.row_at(0)
    code = reader.get(first.id).kelurahan_code
    model.set_filter(RegistrationFilter(kelurahan_code=code))
    fetch_all(model)
    assert 0 < model.rowCount() < COUNT
    assert model.rowCount() == model.total() == reader.count(RegistrationFilter(kelurahan_code=code))
    assert set(column(model, "kelurahan")) == {first.kelurahan_name}

    event = reader.events()[0]
    model.set_filter(RegistrationFilter(event_id=event.id))
    fetch_all(model)
    assert 0 < model.rowCount() < COUNT
    assert set(column(model, "event")) == {event.name}

    model.set_filter(RegistrationFilter(status="funded"))
    assert model.rowCount() == 0 and not model.canFetchMore(QModelIndex())

    prefix = first.nik_masked[:6]
    model.set_filter(RegistrationFilter(text=prefix))
    fetch_all(model)
    assert model.rowCount() > 0
    assert all(v.startswith(prefix) for v in column(model, "nik"))

    word = first.full_name.split()[0]
    model.set_filter(RegistrationFilter(text=word))
    fetch_all(model)
    assert model.rowCount() > 0
    assert all(word.casefold() in v.casefold() for v in column(model, "full_name"))


def test_headers_and_display_texts_are_indonesian(qapp, reader):
    model = RegistrationsModel(reader)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(len(COLUMNS))]
    assert headers[:2] == ["NIK", "Nama"]
    assert model.data(model.index(0, COLUMNS.index("status"))) == "Terdaftar (di perangkat)"
    assert model.data(model.index(0, COLUMNS.index("sync"))) == "Menunggu"
    assert re.match(r"^\d\d-\d\d-\d{4}$", model.data(model.index(0, COLUMNS.index("birth_date"))))
