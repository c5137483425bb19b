"""BPJS's KPJ number after it reached devices in pull: in Daftar Peserta's model, in the card
desk's model and the record window's status, and on the back of a card printed for the member
(absent on a card of a member without one). Real server on loopback, real device databases,
models without a window."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from sync_util import VERIFIER, enrol_code, enrolled_device, sync_once, verify_and_fund

from cards import desk
from storage.demo import fill_demo_data
from sync import claims as c
from sync.client import SyncClient
from ui import card_model, registrations_model
from ui.card_model import CardRowsModel
from ui.registrations_model import RegistrationsModel

KPJ = "KPJ26000077"
LINE = "No. KPJ BPJS Ketenagakerjaan"


@pytest.fixture
def pulled(tmp_path, server):
    """A field laptop and a card desk that both pulled the KPJ of one of two funded members."""
    url, server_dir = server
    field = enrolled_device(tmp_path / "field.sqlite3", url, server_dir)
    fill_demo_data(field, 2, seed=31)
    sync_once(field)
    with_kpj, without = [r[0] for r in field.db_for_tests.execute(
        "SELECT id FROM workers ORDER BY seq")]
    verifier = SyncClient(url, SyncClient(url).enrol(enrol_code(server_dir, "verifier"),
                                                     "Meja verifikasi")["token"])
    for rid in (with_kpj, without):
        verify_and_fund(verifier, rid)
    answer = tmp_path / "jawaban.csv"
    answer.write_text(f"NIK;No KPJ;Tanggal Mulai\n{field.get(with_kpj).nik};{KPJ};2026-12-01\n",
                      encoding="utf-8")
    assert c.kpj_import(verifier, answer, operator=VERIFIER)["taken"] == 1
    verifier.close()
    card_desk = enrolled_device(tmp_path / "desk.sqlite3", url, server_dir, "card_desk")
    sync_once(field)
    sync_once(card_desk)  # the desk never held the registrations: credentials and KPJ by pull
    yield field, card_desk, with_kpj, without
    field.close()
    card_desk.close()


def _cells(model, columns, name: str, id_of) -> dict[str, str]:
    col = columns.index(name)
    return {id_of(r): model.data(model.index(r, col)) for r in range(model.rowCount())}


def test_the_kpj_shows_in_daftar_peserta_and_the_record_status(qapp, pulled):
    field, _, with_kpj, without = pulled
    model = RegistrationsModel(field)
    kpj = _cells(model, registrations_model.COLUMNS, "kpj", model.id_at)
    assert kpj == {with_kpj: KPJ, without: ""}
    header = model.headerData(registrations_model.COLUMNS.index("kpj"),
                              registrations_model.Qt.Orientation.Horizontal)
    assert header == "No. KPJ"
    assert field.kpj_of(with_kpj) == (KPJ, "2026-12-01")
    assert field.kpj_of(without) is None


def test_the_record_window_status_names_the_kpj(qtbot, pulled, tmp_path):
    from PySide6.QtWidgets import QDialog, QWidget

    from ui.db_worker import DbWorker
    from ui.record_dialog import open_record

    _, _, with_kpj, without = pulled
    worker = DbWorker.for_path(tmp_path / "field.sqlite3")
    worker.start()
    try:
        for rid, line in ((with_kpj, f"{LINE}: {KPJ} (mulai 01-12-2026)"), (without, None)):
            parent = QWidget()
            qtbot.addWidget(parent)
            open_record(parent, worker, rid)
            qtbot.waitUntil(lambda p=parent: p.findChild(QDialog, "record_dialog") is not None,
                            timeout=30_000)
            status = parent.findChild(QDialog, "record_dialog").status.text()
            assert status.startswith("Status:")
            if line:
                assert line in status.splitlines()
            else:
                assert "KPJ" not in status
    finally:
        worker.shutdown()


def test_the_kpj_shows_in_the_card_desk_list(qapp, pulled):
    _, card_desk, with_kpj, without = pulled
    model = CardRowsModel(card_desk)
    model.reload("all")
    kpj = _cells(model, card_model.COLUMNS, "kpj",
                 lambda r: model.rows[r].registration_id)
    assert kpj == {with_kpj: KPJ, without: ""}
    assert model.headerData(card_model.COLUMNS.index("kpj"),
                            card_model.Qt.Orientation.Horizontal) == "No. KPJ"


def _backs(pdf: Path) -> list[str]:
    pages = PdfReader(io.BytesIO(pdf.read_bytes())).pages
    return [" ".join(pages[i].extract_text().split()) for i in range(1, len(pages), 2)]


@pytest.mark.parametrize("layout", ["cr80", "a4"])
def test_the_kpj_is_on_the_back_of_the_card_only_when_the_member_has_one(pulled, tmp_path,
                                                                          layout):
    _, card_desk, with_kpj, without = pulled
    out = tmp_path / f"kartu-{layout}.pdf"
    desk.print_to_pdf(card_desk, [with_kpj, without], out, layout=layout,
                      operator="Petugas cetak")
    backs = _backs(out)
    if layout == "cr80":
        assert f"{LINE}: {KPJ}" in backs[0] and "Call Center 175" in backs[0]
        assert LINE not in backs[1] and "Call Center 175" in backs[1]
    else:  # one sheet: both backs on its second page, the KPJ once
        (sheet,) = backs
        assert sheet.count(LINE) == 1 and f"{LINE}: {KPJ}" in sheet
        assert sheet.count("Call Center 175") == 2
    front = PdfReader(io.BytesIO(out.read_bytes())).pages[0].extract_text()
    assert KPJ not in front  # the front is full: the KPJ is on the back alone
