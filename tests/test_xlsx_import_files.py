"""Files that are not what they claim, cells Excel changed, column mapping and the command line:
a clear Indonesian message per file or per row, never a crash and never a wrong NIK."""

from __future__ import annotations

import io
from datetime import date

import pytest

import main
from storage.csv_import import ImportFileError, import_csv
from storage.import_cells import cell_text
from storage.import_mapping import (
    MappingError,
    apply_pairs,
    check,
    fingerprint,
    guess,
    initial,
    parse_pairs,
    remember,
)
from storage.import_table import load_table
from storage.registry import RegistrationFilter, Registry
from storage.sample_lists import HEADER, office_rows, write_xlsx
from tests.test_csv_import import make_device, open_device

AS_OF = date(2026, 11, 24)
NIK = "1571014101909901"


@pytest.fixture
def device(tmp_path, monkeypatch, capsys):
    return make_device(tmp_path, monkeypatch, capsys)


@pytest.fixture
def registry(tmp_path):
    reg = Registry.open(tmp_path / "r.sqlite3")
    yield reg
    reg.close()


# --- whole files -----------------------------------------------------------------------------


def _refused(path) -> str:
    with pytest.raises(ImportFileError) as info:
        load_table(path)
    return str(info.value)


def test_files_that_are_not_lists_are_refused_with_what_to_do(tmp_path):
    pdf = tmp_path / "daftar.xlsx"
    pdf.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 4)
    assert "bukan daftar CSV atau XLSX" in _refused(pdf)

    docx = tmp_path / "surat.xlsx"  # a ZIP, but a Word document
    import zipfile

    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert "bukan lembar kerja XLSX" in _refused(docx)

    broken = tmp_path / "rusak.xlsx"
    good = write_xlsx(tmp_path / "baik.xlsx", office_rows(3, seed=1, as_of=AS_OF))
    broken.write_bytes(good.read_bytes()[:2000])
    assert "bukan lembar kerja XLSX" in _refused(broken)

    old = tmp_path / "lama.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000)
    assert "format Excel lama (.xls)" in _refused(old)


def test_a_password_protected_workbook_is_named_as_such(tmp_path):
    import msoffcrypto.format.ooxml

    plain = write_xlsx(tmp_path / "a.xlsx", office_rows(3, seed=1, as_of=AS_OF))
    locked = tmp_path / "terkunci.xlsx"
    with open(plain, "rb") as source, open(locked, "wb") as target:
        msoffcrypto.format.ooxml.OOXMLFile(source).encrypt("rahasia", target)
    message = _refused(locked)
    assert "dilindungi kata sandi" in message and "hapus kata sandinya" in message


def test_a_csv_named_xlsx_is_read_as_csv(tmp_path, registry):
    from storage.sample_lists import write_csv

    path = write_csv(tmp_path / "daftar.xlsx", office_rows(2, seed=2, as_of=AS_OF))
    assert load_table(path).kind == "csv"
    assert import_csv(registry, path, operator="Budi", as_of=AS_OF).imported == 2


def test_hidden_sheets_are_never_imported(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Catatan"
    book.active.sheet_state = "hidden"
    book.active.append(HEADER)
    book.create_sheet("Kosong")
    book.active = 1
    path = tmp_path / "tersembunyi.xlsx"
    book.save(path)
    message = _refused(path)
    assert "lembar tersembunyi 'Catatan'" in message and "tampilkan" in message
    with pytest.raises(ImportFileError) as info:
        load_table(path, sheet="Catatan")
    assert "tersembunyi" in str(info.value)
    with pytest.raises(ImportFileError) as info:
        load_table(path, sheet="Lain")
    assert "Lembar yang ada: 'Kosong'" in str(info.value)


def test_a_merged_heading_without_names_below_asks_for_the_mapping(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.append(["NIK", "Nama", "Ahli Waris", None])
    ws.merge_cells("C1:D1")
    ws.append([NIK, "Siti Aminah", "Budi", "suami"])
    path = tmp_path / "gabung.xlsx"
    book.save(path)
    table = load_table(path)
    assert table.headers == ["NIK", "Nama", "Ahli Waris", "Ahli Waris"]
    assert any("C1:D1" in n for n in table.notices)
    mapping = guess(table.headers)
    assert mapping == ["nik", "nama_lengkap", "ahli_waris_nama", ""]
    mapping = apply_pairs(table.headers, parse_pairs("D=ahli_waris_hubungan"), mapping)
    assert mapping[3] == "ahli_waris_hubungan"


# --- cells -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value, text, problem", [
    (1571014101909901, NIK, None),  # exact: 16 digits below 2**53, last one not 0
    (1571014101909901.0, NIK, None),
    (1571014101909900, "", "15 angka pertama"),  # what Excel keeps of a typed NIK
    (1.57101e15, "", "15 angka pertama"),
    ("1.57101E+15", "", "notasi ilmiah"),
    ("1,57101E+15", "", "notasi ilmiah"),
    (157101410190990, "", "15 angka, bukan 16"),
    (9171014101909901, "", "terlalu besar"),
    (1571014101909901.5, "", "pecahan"),
    ("1571014101909901.0", NIK, None),
    (" 1571 0141 0190 9901 ", "1571 0141 0190 9901", None),  # separators: the rules clean
    (date(1990, 1, 1), "", "tanggal atau jam"),
])
def test_a_nik_is_taken_only_when_every_digit_is_certain(value, text, problem):
    got_text, got_problem = cell_text("nik", value)
    assert got_text == text
    if problem is None:
        assert got_problem is None
    else:
        assert problem in got_problem and NIK not in got_problem


@pytest.mark.parametrize("field, value, text", [
    ("no_hp", 81234567890, "081234567890"),
    ("no_hp", 6281234567890, "+6281234567890"),
    ("rt", 3.0, "3"),
    ("penghasilan", 1500000, "1500000"),
    ("persetujuan", True, "ya"),
    ("tanggal_lahir", date(1985, 12, 5), "1985-12-05"),
])
def test_typed_cells_become_the_text_the_rules_expect(field, value, text):
    assert cell_text(field, value) == (text, None)


def test_text_dates_in_indonesian_orders_and_words(tmp_path, registry):
    rows = office_rows(3, seed=5, as_of=AS_OF)
    born = [date(*map(int, reversed(r["tanggal_lahir"].split("-")))) for r in rows]
    rows[0]["tanggal_lahir"] = born[0].strftime("%d/%m/%Y")
    rows[1]["tanggal_lahir"] = f"{born[1].day} {('Januari', 'Februari', 'Maret', 'April', 'Mei', 'Juni', 'Juli', 'Agustus', 'September', 'Oktober', 'November', 'Desember')[born[1].month - 1]} {born[1].year}"  # noqa: E501
    rows[2]["tanggal_lahir"] = born[2].isoformat()
    path = write_xlsx(tmp_path / "tanggal.xlsx", rows)
    report = import_csv(registry, path, operator="Budi", as_of=AS_OF)
    assert (report.imported, report.skipped) == (3, [])


# --- mapping ---------------------------------------------------------------------------------


CITY_HEADERS = ["No", "No KTP", "Nama Pekerja", "Tgl Lahir", "RT", "RW", "Kec", "Kel",
                "Jenis Pekerjaan", "Pendapatan", "Nama Ahli Waris", "Hubungan", "Setuju",
                "Kolom Lain"]


def test_common_city_headers_are_recognised_and_the_rest_mapped_by_hand():
    mapping = guess(CITY_HEADERS)
    assert mapping == ["", "nik", "nama_lengkap", "tanggal_lahir", "rt", "rw", "kecamatan",
                       "kelurahan", "pekerjaan", "penghasilan", "ahli_waris_nama",
                       "ahli_waris_hubungan", "persetujuan", ""]
    check(mapping)
    with pytest.raises(MappingError) as info:
        check(apply_pairs(CITY_HEADERS, parse_pairs("No KTP=-"), mapping))
    assert "nik" in str(info.value)
    with pytest.raises(MappingError) as info:
        apply_pairs(CITY_HEADERS, parse_pairs("Tidak Ada=nik"), mapping)
    assert "'No KTP'" in str(info.value)
    with pytest.raises(MappingError):
        apply_pairs(CITY_HEADERS, parse_pairs("No=nomor_urut"), mapping)
    moved = apply_pairs(CITY_HEADERS, parse_pairs("Kolom Lain=nik"), mapping)
    assert moved.count("nik") == 1 and moved[13] == "nik"  # the operator's choice wins


def test_a_mapping_is_remembered_for_the_same_headers(registry):
    mapping = apply_pairs(CITY_HEADERS, parse_pairs("Kolom Lain=catatan"), guess(CITY_HEADERS))
    assert initial(registry, CITY_HEADERS) == (guess(CITY_HEADERS), False)
    remember(registry, CITY_HEADERS, mapping, source="kel_talang_banjar.xlsx", now="2026")
    # The same headers written another way: the same source.
    other = [h.upper() + " " for h in CITY_HEADERS]
    assert fingerprint(other) == fingerprint(CITY_HEADERS)
    assert initial(registry, other) == (mapping, True)
    assert initial(registry, CITY_HEADERS[:-1])[1] is False
    [stored] = registry.db_for_tests.execute(
        "SELECT headers, source FROM import_mappings").fetchall()
    assert "No KTP" in stored[0] and stored[1] == "kel_talang_banjar.xlsx"


# --- the command line ------------------------------------------------------------------------


def _city_list(tmp_path, rows):
    """A kelurahan's list with its own headers (CITY_HEADERS without the RT/RW names)."""
    header = ["No", "No KTP", "Nama Pekerja", "Tgl Lahir", "Alamat Rumah", "RT", "RW",
              "Kecamatan Domisili", "Kelurahan Domisili", "Pekerjaan", "Pendapatan",
              "Nama Ahli Waris", "Hubungan", "Setuju"]
    cells = [[i + 1, r["nik"], r["nama_lengkap"], r["tanggal_lahir"], r["alamat"], r["rt"],
              r["rw"], r["kecamatan"], r["kelurahan"], r["pekerjaan"], r["penghasilan"],
              r["ahli_waris_nama"], r["ahli_waris_hubungan"], "ya"] for i, r in enumerate(rows)]
    return write_xlsx(tmp_path / "kelurahan.xlsx", cells, header=header)


def test_command_line_mapping_dry_run_and_the_remembered_mapping(tmp_path, device, capsys):
    rows = office_rows(6, seed=9, as_of=AS_OF)
    path = _city_list(tmp_path, rows)
    base = ["--data-dir", str(device), "import", str(path), "--operator", "admin"]

    assert main.main(base) == 1
    err = capsys.readouterr().err
    assert "Kolom wajib belum dipetakan: kecamatan, kelurahan" in err and "--map" in err

    mapping = "Kecamatan Domisili=kecamatan, Kelurahan Domisili=kelurahan"
    assert main.main([*base, "--map", mapping, "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert "Uji coba, tidak ada yang disimpan: 6 dari 6 baris akan didaftarkan." in captured.out
    assert "baru: 6" in captured.out
    assert "'Kecamatan Domisili' (H) → kecamatan" in captured.err
    registry = open_device(device)
    assert registry.count(RegistrationFilter()) == 0
    registry.close()

    map_file = tmp_path / "pemetaan.txt"
    map_file.write_text("# kelurahan Talang Banjar\nKecamatan Domisili=kecamatan\n"
                        "Kelurahan Domisili=kelurahan\n", encoding="utf-8")
    assert main.main([*base, "--map-file", str(map_file), "--event", "Impor Kelurahan"]) == 0
    assert "6 dari 6 baris didaftarkan." in capsys.readouterr().out

    # Next month's list from the same kelurahan: the mapping is remembered.
    path = _city_list(tmp_path, office_rows(9, seed=10, as_of=AS_OF)[6:])
    assert main.main([*base, "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert "tersimpan dari impor sebelumnya" in captured.err
    assert "3 dari 3 baris akan didaftarkan" in captured.out


def test_command_line_refuses_a_protected_file_with_one_line(tmp_path, device, capsys):
    path = tmp_path / "lama.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    assert main.main(["--data-dir", str(device), "import", str(path),
                      "--operator", "admin"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Gagal: Berkas ini berformat Excel lama") and "Traceback" not in err


def test_the_group_size_option_and_the_report_file(tmp_path, device, capsys, monkeypatch):
    rows = office_rows(5, seed=12, as_of=AS_OF)
    rows[1]["nik"] = "1.57101E+15"
    path = write_xlsx(tmp_path / "daftar.xlsx", rows)
    out = tmp_path / "tidak_didaftarkan.csv"
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main.main(["--data-dir", str(device), "import", str(path), "--operator", "admin",
                      "--group-size", "2", "--report", str(out)]) == 3
    assert "4 dari 5 baris didaftarkan." in capsys.readouterr().out
    text = out.read_text(encoding="utf-8-sig")
    assert "ditolak" in text and "notasi ilmiah" in text


# --- saving in groups ------------------------------------------------------------------------


def test_save_many_judges_each_row_seeing_the_rows_before_it_in_the_group(registry):
    from storage.demo import generate_workers

    first, second, third = generate_workers(3, seed=21, as_of=AS_OF)
    again = generate_workers(1, seed=21, as_of=AS_OF)
    [same_nik] = list(again)
    twin = type(first)(**{**first.__dict__, "nik": NIK[:4] + first.nik[4:12] + "9955"})
    twin.heirs = list(first.heirs)
    results = registry.save_many([first, second, same_nik, twin, third], operator="Budi",
                                 as_of=AS_OF)
    assert [r.saved for r in results] == [True, True, False, False, True]
    assert results[2].validation.errors[0].code == "duplicate.nik"
    assert "status Terdaftar" in results[2].validation.errors[0].message
    assert [w.code for w in results[3].validation.warnings] == ["duplicate.similar"]
    assert registry.count(RegistrationFilter()) == 3
    assert registry.history(results[0].registration.id)[0].version == 1
    assert registry.outbox_count() == 3 and registry.audit_chain_ok()


def test_a_failing_group_saves_nothing_of_it(registry, monkeypatch):
    import storage.registry as registry_module
    from storage.db import StorageError
    from storage.demo import generate_workers

    regs = list(generate_workers(4, seed=22, as_of=AS_OF))
    written = registry_module.bulk_insert_versions

    def broken(*args, **kwargs):  # every row written, then the disk fills up
        written(*args, **kwargs)
        raise StorageError("disk_full", "simulated")

    monkeypatch.setattr(registry_module, "bulk_insert_versions", broken)
    with pytest.raises(StorageError):
        registry.save_many(regs, operator="Budi", as_of=AS_OF)
    assert registry.count(RegistrationFilter()) == 0 and registry.outbox_count() == 0
    assert registry.db_for_tests.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 0
