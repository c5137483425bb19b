"""The region resource: Kemendagri codes for Kota Jambi, national lists, another city's file."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from storage import regions as regions_module
from storage.nik import check_nik
from storage.regions import RegionDataError, load_regions

ROOT = Path(__file__).resolve().parent.parent
WILAYAH = ROOT / "../shared/data/wilayah"
AS_OF = date(2026, 11, 24)


@pytest.fixture(scope="module")
def jambi():
    return load_regions()


def test_kota_jambi_has_11_kecamatan_and_68_kelurahan(jambi):
    assert (jambi.city_code, jambi.city_name) == ("15.71", "Kota Jambi")
    assert len(jambi.kecamatan_list()) == 11
    assert sum(len(jambi.kelurahan_list(k.code)) for k in jambi.kecamatan_list()) == 68
    assert len(jambi.kelurahans) == 68


def test_kemendagri_codes_not_bps(jambi):
    # BPS 1571010 is Kota Baru; Kemendagri 15.71.07 is Kota Baru.
    assert jambi.kecamatan("15.71.07").name == "Kota Baru"
    assert jambi.kecamatan("15.71.01").name == "Telanaipura"
    assert jambi.kecamatan("1571010") is None
    # Kemendagri 15.06 is Tanjung Jabung Barat (BPS 1506 is Timur).
    assert jambi.kabkota_name("15.06") == "Kabupaten Tanjung Jabung Barat"


def test_every_kelurahan_of_the_source_csv_is_present(jambi):
    with (WILAYAH / "kota_jambi_wilayah.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 68
    for row in rows:
        kel = jambi.kelurahan(row["kode_kelurahan"])
        assert kel is not None and kel.name == row["nama_kelurahan"]
        assert jambi.kelurahan_belongs_to(kel.code, row["kode_kecamatan"])
        assert jambi.postal_code(kel.code) == row["kode_pos"]


def test_new_kelurahan_of_2023_are_there(jambi):
    assert jambi.kelurahan("15.71.01.1012").name == "Aur Kenali"
    assert jambi.kelurahan("15.71.11.1006").name == "Bakung Jaya"
    assert [k.name for k in jambi.kelurahan_list("15.71.09")][-2:] == [
        "Simpang Rimbo", "Pinang Merah"]


def test_kelurahan_membership_and_unknown_codes(jambi):
    assert jambi.kelurahan_belongs_to("15.71.09.1006", "15.71.09")
    assert not jambi.kelurahan_belongs_to("15.71.09.1006", "15.71.07")
    assert not jambi.kelurahan_belongs_to("15.71.99.1001", "15.71.99")
    assert jambi.kelurahan("nope") is None
    assert jambi.kelurahan_list("15.71.99") == []
    assert jambi.postal_code("15.71.99.1001") == ""


def test_disputed_postal_codes_are_flagged(jambi):
    disputed = {k.name for k in jambi.kelurahans if not k.postal_code_confirmed}
    assert len(disputed) == 17
    assert {"Pasar Jambi", "Sungai Asam", "Aur Kenali", "Bakung Jaya"} <= disputed
    assert jambi.kelurahan("15.71.01.1001").postal_code_confirmed


def test_national_lists(jambi):
    assert len(jambi.provinces) == 38
    assert jambi.is_province("15") and jambi.is_province("96") and jambi.is_province("65")
    assert not jambi.is_province("54") and not jambi.is_province("99")
    assert jambi.is_current_kabkota("15.71") and jambi.is_current_kabkota("1571")
    assert jambi.is_current_kabkota("93.01") and not jambi.is_current_kabkota("91.01")
    assert jambi.is_historical_kabkota("91.01") and not jambi.is_historical_kabkota("65.73")
    assert len(jambi.kabkota_historical) == 26
    assert jambi.is_city_kecamatan_nik_code("11") and not jambi.is_city_kecamatan_nik_code("12")


def test_loaded_once_per_path(jambi, tmp_path):
    assert load_regions() is jambi
    assert load_regions(regions_module.DEFAULT_REGIONS_PATH) is jambi


def _minimal_city(path: Path, source: Path) -> Path:
    """A second city: Kota Sungai Penuh (15.72), two kecamatan, national lists reused."""
    data = json.loads(source.read_text(encoding="utf-8"))
    data["city"] = {
        "code": "15.72",
        "name": "Kota Sungai Penuh",
        "kecamatan": [
            {"code": "15.72.01", "name": "Sungai Penuh", "kelurahan": [
                {"code": "15.72.01.1001", "name": "Pasar Sungai Penuh", "postal_code": "37111"}]},
            {"code": "15.72.02", "name": "Hamparan Rawang", "kelurahan": []},
        ],
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_another_city_loads_and_its_rules_apply(tmp_path):
    other = load_regions(_minimal_city(tmp_path / "sungai_penuh.json",
                                       regions_module.DEFAULT_REGIONS_PATH))
    assert (other.city_code, other.city_name) == ("15.72", "Kota Sungai Penuh")
    assert [k.name for k in other.kecamatan_list()] == ["Sungai Penuh", "Hamparan Rawang"]
    assert other.postal_code("15.72.01.1001") == "37111"
    assert other.kelurahan("15.71.01.1001") is None
    # Rule 10 follows the configured city: kecamatan 03 is unknown in Sungai Penuh...
    codes = [w.code for w in check_nik("1572030101909901", AS_OF, other).warnings]
    assert codes == ["nik.kecamatan_unknown"]
    assert check_nik("1572020101909901", AS_OF, other).warnings == []
    # ...and Kota Jambi's kecamatan 12 is no longer this city's business.
    assert check_nik("1571120101909916", AS_OF, other).warnings == []


def test_a_kelurahan_outside_its_kecamatan_is_refused(tmp_path):
    path = _minimal_city(tmp_path / "bad.json", regions_module.DEFAULT_REGIONS_PATH)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["city"]["kecamatan"][0]["kelurahan"][0]["code"] = "15.72.02.1001"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RegionDataError):
        load_regions(path)


def test_missing_or_broken_file_gives_a_clear_error(tmp_path):
    with pytest.raises(RegionDataError):
        load_regions(tmp_path / "absent.json")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(RegionDataError):
        load_regions(tmp_path / "broken.json")


def test_build_reproduces_the_shipped_file(tmp_path):
    out = tmp_path / "kota_jambi.json"
    assert regions_module.main(["build", str(WILAYAH), str(out)]) == 0
    shipped = json.loads(regions_module.DEFAULT_REGIONS_PATH.read_text(encoding="utf-8"))
    assert json.loads(out.read_text(encoding="utf-8")) == shipped
