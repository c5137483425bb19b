"""Region codes (Kemendagri, never BPS) for the configured city and the national lists the NIK
rules need.

Everything comes from one JSON resource file (default `resources/regions/kota_jambi.json`), so a
new Kepmendagri edition or another city is a new file, not a code change. The file is built from
the Kemendagri CSVs with `python -m storage.regions build SRC_DIR OUT.json` (see
`resources/regions/README.md`); after that, an admin may edit names and postal codes by hand.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REGIONS_PATH = ROOT / "resources" / "regions" / "kota_jambi.json"
FORMAT_VERSION = 1


class RegionDataError(ValueError):
    """The region resource file is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class Kelurahan:
    code: str  # "15.71.01.1001"
    name: str
    kecamatan_code: str  # "15.71.01"
    postal_code: str = ""
    # False when the public sources disagree on the postal code: staff should confirm it
    # before it is printed on a card.
    postal_code_confirmed: bool = True


@dataclass(frozen=True)
class Kecamatan:
    code: str  # "15.71.01"
    name: str

    @property
    def nik_code(self) -> str:
        """Digits 5–6 of a NIK first registered in this kecamatan ("01")."""
        return self.code.rsplit(".", 1)[-1]


def _plain(code: str) -> str:
    """Region codes are compared without dots: NIK digits carry none."""
    return code.replace(".", "").strip()


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: it is loaded once
class RegionData:
    city_code: str  # "15.71"
    city_name: str  # "Kota Jambi"
    edition: str  # the decree the codes follow
    kecamatans: tuple[Kecamatan, ...]
    kelurahans: tuple[Kelurahan, ...]
    provinces: dict[str, str]  # "15" -> "Jambi"
    kabkota_current: dict[str, str]  # "1571" -> "Kota Jambi"
    kabkota_historical: dict[str, str]  # "9101" -> "KAB. MERAUKE" (gone from the current list)
    source: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_kec_by_code", {k.code: k for k in self.kecamatans})
        object.__setattr__(self, "_kel_by_code", {k.code: k for k in self.kelurahans})
        by_kec: dict[str, list[Kelurahan]] = {k.code: [] for k in self.kecamatans}
        for kel in self.kelurahans:
            by_kec.setdefault(kel.kecamatan_code, []).append(kel)
        object.__setattr__(self, "_kel_by_kec", {k: tuple(v) for k, v in by_kec.items()})
        object.__setattr__(self, "_city_nik_codes", {k.nik_code for k in self.kecamatans})

    # --- the configured city -------------------------------------------------------------

    def kecamatan_list(self) -> list[Kecamatan]:
        return list(self.kecamatans)

    def kelurahan_list(self, kecamatan_code: str) -> list[Kelurahan]:
        return list(self._kel_by_kec.get(kecamatan_code, ()))

    def kecamatan(self, code: str) -> Kecamatan | None:
        return self._kec_by_code.get(code)

    def kelurahan(self, code: str) -> Kelurahan | None:
        return self._kel_by_code.get(code)

    def postal_code(self, kelurahan_code: str) -> str:
        kel = self._kel_by_code.get(kelurahan_code)
        return kel.postal_code if kel else ""

    def kelurahan_belongs_to(self, kelurahan_code: str, kecamatan_code: str) -> bool:
        kel = self._kel_by_code.get(kelurahan_code)
        return kel is not None and kel.kecamatan_code == kecamatan_code

    def is_city_kecamatan_nik_code(self, cc: str) -> bool:
        """Is `cc` (NIK digits 5–6) a kecamatan of the configured city?"""
        return cc in self._city_nik_codes

    @property
    def city_nik_prefix(self) -> str:
        """NIK digits 1–4 of the configured city ("1571")."""
        return _plain(self.city_code)

    # --- national lists for the NIK rules --------------------------------------------------

    def is_province(self, pp: str) -> bool:
        return _plain(pp) in self.provinces

    def is_current_kabkota(self, ppkk: str) -> bool:
        return _plain(ppkk) in self.kabkota_current

    def is_historical_kabkota(self, ppkk: str) -> bool:
        """A code that existed in an earlier edition and is gone now (e.g. 91.01 Merauke)."""
        return _plain(ppkk) in self.kabkota_historical

    def kabkota_name(self, ppkk: str) -> str:
        key = _plain(ppkk)
        return self.kabkota_current.get(key) or self.kabkota_historical.get(key, "")


# --- reading the resource file -------------------------------------------------------------


def _parse(data: dict) -> RegionData:
    if data.get("format") != FORMAT_VERSION:
        raise RegionDataError(f"unsupported region file format: {data.get('format')!r}")
    city = data["city"]
    kecamatans, kelurahans = [], []
    for kec in city["kecamatan"]:
        kecamatans.append(Kecamatan(code=kec["code"], name=kec["name"]))
        for kel in kec["kelurahan"]:
            if not kel["code"].startswith(kec["code"] + "."):
                raise RegionDataError(f"kelurahan {kel['code']} is not under {kec['code']}")
            kelurahans.append(
                Kelurahan(
                    code=kel["code"],
                    name=kel["name"],
                    kecamatan_code=kec["code"],
                    postal_code=str(kel.get("postal_code", "")),
                    postal_code_confirmed=bool(kel.get("postal_code_confirmed", True)),
                )
            )
    for kec in kecamatans:
        if not kec.code.startswith(city["code"] + "."):
            raise RegionDataError(f"kecamatan {kec.code} is not in city {city['code']}")
    national = data["national"]
    return RegionData(
        city_code=city["code"],
        city_name=city["name"],
        edition=data.get("edition", ""),
        kecamatans=tuple(kecamatans),
        kelurahans=tuple(kelurahans),
        provinces={_plain(p["code"]): p["name"] for p in national["provinces"]},
        kabkota_current={_plain(k["code"]): k["name"] for k in national["kabkota_current"]},
        kabkota_historical={_plain(k["code"]): k["name"] for k in national["kabkota_historical"]},
        source=data.get("source", {}),
    )


@functools.lru_cache(maxsize=8)
def _load_cached(path: str) -> RegionData:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return _parse(data)
    except (OSError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise RegionDataError(f"cannot read region file {path}: {exc}") from exc


def load_regions(path: Path | str | None = None) -> RegionData:
    """The region data of `path` (default: Kota Jambi), read once per path and then cached."""
    return _load_cached(str(Path(path or DEFAULT_REGIONS_PATH).resolve()))


load_regions.cache_clear = _load_cached.cache_clear  # after an admin edits the file


# --- building the resource file from the Kemendagri CSVs -----------------------------------


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _disputed_postal_codes(src: Path) -> set[str]:
    """Kelurahan whose postal code the public sources disagree on, or that only one source has
    (kelurahan created in 2023 are absent from the 2017 list, so two sources are enough)."""
    compare = src / "kota_jambi_kodepos_compare.csv"
    if not compare.exists():
        return set()
    disputed = set()
    for row in _rows(compare):
        sources = [v for k, v in row.items() if k.startswith("kodepos_")]
        if row.get("all_agree", "").lower() != "yes" or sum(1 for v in sources if v) < 2:
            disputed.add(row["kode_kelurahan"])
    return disputed


def build(src: Path, city_csv: str, city_code: str, city_name: str) -> dict:
    """The resource file's content, from the CSVs in `src` (../shared/data/wilayah)."""
    disputed = _disputed_postal_codes(src)
    kecamatans: dict[str, dict] = {}
    for row in _rows(src / city_csv):
        kec = kecamatans.setdefault(
            row["kode_kecamatan"],
            {"code": row["kode_kecamatan"], "name": row["nama_kecamatan"], "kelurahan": []},
        )
        kec["kelurahan"].append(
            {
                "code": row["kode_kelurahan"],
                "name": row["nama_kelurahan"],
                "postal_code": row["kode_pos"],
                "postal_code_confirmed": row["kode_kelurahan"] not in disputed,
            }
        )
    historical = [
        {"code": r["kode"], "name": r["nama_terakhir_dikenal"], "last_edition": r["edisi_terakhir"]}
        for r in _rows(src / "kabkota_historical_codes.csv")
        if r["masih_ada_2025"].strip().lower() != "ya"
    ]
    return {
        "format": FORMAT_VERSION,
        "edition": "Kepmendagri 300.2.2-2138/2025",
        "source": {
            "data": "cahyadsn/wilayah db/wilayah.sql (MIT), cahyadsn/wilayah_kodepos (MIT)",
            "built_from": [city_csv, "provinsi.csv", "kabkota_all_current.csv",
                           "kabkota_historical_codes.csv"],
            "note": "Kemendagri codes, not BPS. Postal codes marked postal_code_confirmed=false "
            "differ between public sources; confirm them before printing.",
        },
        "city": {
            "code": city_code,
            "name": city_name,
            "kecamatan": sorted(kecamatans.values(), key=lambda k: k["code"]),
        },
        "national": {
            "provinces": [{"code": r["kode"], "name": r["nama"]}
                          for r in _rows(src / "provinsi.csv")],
            "kabkota_current": [{"code": r["kode"], "name": r["nama"]}
                                for r in _rows(src / "kabkota_all_current.csv")],
            "kabkota_historical": historical,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m storage.regions")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the region resource file from Kemendagri CSVs")
    b.add_argument("src", type=Path, help="folder with provinsi.csv, kabkota_*.csv, the city CSV")
    b.add_argument("out", type=Path, help="the JSON file to write")
    b.add_argument("--city-csv", default="kota_jambi_wilayah.csv")
    b.add_argument("--city-code", default="15.71")
    b.add_argument("--city-name", default="Kota Jambi")
    args = parser.parse_args(argv)

    data = build(args.src, args.city_csv, args.city_code, args.city_name)
    _parse(data)  # refuse to write a file that would not load
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    kec = data["city"]["kecamatan"]
    print(f"{args.out}: {len(kec)} kecamatan, {sum(len(k['kelurahan']) for k in kec)} kelurahan")
    return 0


if __name__ == "__main__":
    sys.exit(main())
