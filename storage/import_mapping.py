"""Which column of a list is which: documented names, the names city lists commonly use, the
operator's own choice (`--map "No KTP=nik,..."`, a mapping file, or the window's mapping step),
and the choice remembered for the next file from the same source.

A mapping is a list with one entry per column of the file: the documented column name
(storage/csv_import.py COLUMNS) it fills, or "" for a column that is not imported. A source is
recognised by the fingerprint of its header row, so next month's list from the same kelurahan
(same headers, other rows) is mapped the way the operator mapped this one.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from storage.csv_import import COLUMNS

if TYPE_CHECKING:
    from storage.registry import Registry

NAMES = tuple(c.name for c in COLUMNS)
REQUIRED = tuple(c.name for c in COLUMNS if c.required)

# Headers seen on city and kelurahan lists (compared after `plain_key`), and the field names
# of the records, for people who write `full_name`.
SYNONYMS = {
    "nik": ("no_ktp", "nomor_ktp", "nik_ktp", "no_nik", "nomor_nik",
            "nomor_induk_kependudukan", "nik_peserta", "nik_pekerja"),
    "nama_lengkap": ("nama", "nama_peserta", "nama_pekerja", "nama_sesuai_ktp", "full_name"),
    "tempat_lahir": ("tmpt_lahir", "tempat", "birth_place"),
    "tanggal_lahir": ("tgl_lahir", "tanggal", "birth_date", "tgl_lhr"),
    "jenis_kelamin": ("jk", "l_p", "kelamin", "sex"),
    "alamat": ("alamat_rumah", "jalan", "street"),
    "kecamatan": ("kec", "kecamatan_code"),
    "kelurahan": ("kel", "desa_kelurahan", "kelurahan_desa", "kelurahan_code"),
    "kode_pos": ("kodepos", "postal_code"),
    "no_hp": ("hp", "nomor_hp", "no_telp", "no_telepon", "telepon", "no_wa", "phone"),
    "pekerjaan": ("jenis_pekerjaan", "occupation", "occupation_code"),
    "kelompok": ("cohort",),
    "penghasilan": ("penghasilan_per_bulan", "pendapatan", "penghasilan_bulanan",
                    "monthly_income"),
    "ahli_waris_nama": ("nama_ahli_waris", "ahli_waris", "heir_name"),
    "ahli_waris_hubungan": ("hubungan", "hubungan_ahli_waris", "hubungan_keluarga",
                            "heir_relationship"),
    "ahli_waris_hp": ("hp_ahli_waris", "no_hp_ahli_waris", "heir_phone"),
    "ahli_waris_nik": ("nik_ahli_waris", "heir_nik"),
    "persetujuan": ("setuju", "persetujuan_data", "consent", "consent_given"),
    "catatan": ("keterangan", "ket", "notes"),
}
_KNOWN = {name: name for name in NAMES} | {
    alias: name for name, aliases in SYNONYMS.items() for alias in aliases}


class MappingError(ValueError):
    """A mapping the operator wrote cannot be used; the message is Indonesian."""


def plain_key(label: object) -> str:
    """'No. KTP' -> 'no_ktp', 'Nama  Lengkap' -> 'nama_lengkap', 'AHLI-WARIS (HP)' ->
    'ahli_waris_hp'."""
    text = str(label or "").strip().lstrip("\ufeff").casefold()
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


def known_field(label: object) -> str:
    """The documented column a header names, or ""."""
    return _KNOWN.get(plain_key(label), "")


def fingerprint(headers: list[str]) -> str:
    """The same header row (case, spaces and punctuation aside) gives the same fingerprint."""
    joined = "\x1f".join(plain_key(h) for h in headers)
    return hashlib.sha256(joined.encode()).hexdigest()[:32]


def guess(headers: list[str]) -> list[str]:
    """A field per column from the names above; a field goes to the first column naming it."""
    taken: set[str] = set()
    mapping = []
    for label in headers:
        name = known_field(label)
        mapping.append(name if name and name not in taken else "")
        taken.add(name)
    return mapping


def is_documented(headers: list[str]) -> bool:
    """Every column is a documented name, and every required one is there: no mapping step."""
    keys = [plain_key(h) for h in headers]
    return all(k in NAMES for k in keys if k) and not missing_required(guess(headers))


def missing_required(mapping: list[str]) -> list[str]:
    return [name for name in REQUIRED if name not in mapping]


def chosen_twice(mapping: list[str]) -> list[str]:
    return sorted({n for n in mapping if n and mapping.count(n) > 1})


def check(mapping: list[str]) -> None:
    """MappingError unless every required column is chosen, each field once."""
    twice = chosen_twice(mapping)
    if twice:
        raise MappingError("Kolom dipilih untuk lebih dari satu kolom berkas: "
                           + ", ".join(twice) + ".")
    missing = missing_required(mapping)
    if missing:
        raise MappingError("Kolom wajib belum dipetakan: " + ", ".join(missing) + ".")


# --- the operator's mapping ----------------------------------------------------------------


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """'Nama Lengkap=nama_lengkap, No KTP=nik' (commas, semicolons or new lines between pairs;
    lines starting with # are comments). The right side is a documented column name (or one of
    the names in SYNONYMS), or '-' to leave the column out."""
    pairs = []
    for part in re.split(r"[,;\n]", text):
        part = part.strip()
        if not part or part.startswith("#"):
            continue
        if "=" not in part:
            raise MappingError(f"Pemetaan '{part}' harus berbentuk Judul Kolom=nama_kolom.")
        label, _, target = part.rpartition("=")
        pairs.append((label.strip(), target.strip()))
    return pairs


def read_map_file(path: str | Path) -> list[tuple[str, str]]:
    """A mapping file: the same pairs as --map, one per line."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"Berkas pemetaan tidak dapat dibaca: {exc}.") from exc
    return parse_pairs(text)


def apply_pairs(headers: list[str], pairs: list[tuple[str, str]],
                base: list[str]) -> list[str]:
    """`base` with the operator's pairs laid over it. A label may also be a column letter
    (A, B, …) when two columns share a header."""
    mapping = list(base)
    for label, target in pairs:
        column = _column_of(headers, label)
        if target in ("", "-"):
            mapping[column] = ""
            continue
        name = _KNOWN.get(plain_key(target)) or ""
        if not name:
            raise MappingError(f"Nama kolom '{target}' tidak dikenal. Pilih salah satu: "
                               + ", ".join(NAMES) + ".")
        mapping = ["" if m == name else m for m in mapping]  # the operator's choice wins
        mapping[column] = name
    return mapping


def _column_of(headers: list[str], label: str) -> int:
    wanted = plain_key(label)
    for i, header in enumerate(headers):
        if plain_key(header) == wanted:
            return i
    if re.fullmatch(r"[A-Za-z]{1,3}", label.strip()):
        index = column_index(label.strip())
        if index < len(headers):
            return index
    raise MappingError(f"Kolom '{label}' tidak ada di berkas. Kolom yang ada: "
                       + ", ".join(f"'{h}'" for h in headers if str(h).strip()) + ".")


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: as Excel names columns."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index - 1


def describe(headers: list[str], mapping: list[str]) -> list[str]:
    """"'No KTP' (B) → nik" for every mapped column whose header is not the documented name."""
    pairs = enumerate(zip(headers, mapping, strict=True))
    return [f"'{h}' ({column_letter(i)}) → {m}" for i, (h, m) in pairs if m and plain_key(h) != m]


# --- remembered per source (migration 0013_import_mappings) --------------------------------


def remembered(registry: Registry, headers: list[str]) -> list[str] | None:
    """The mapping last used for a file with these headers, if any (and still usable)."""
    from storage.db import storage_errors

    with storage_errors():
        row = registry._db.execute("SELECT mapping FROM import_mappings WHERE fingerprint = ?",
                                  [fingerprint(headers)]).fetchone()
    if row is None:
        return None
    mapping = json.loads(row[0])
    if len(mapping) != len(headers) or any(m and m not in NAMES for m in mapping):
        return None
    return mapping


def remember(registry: Registry, headers: list[str], mapping: list[str], *, source: str,
             now: str) -> None:
    """Keep `mapping` for files with these headers. Only the header labels and the file name
    are stored, never a row."""
    from storage.db import storage_errors

    with storage_errors(), registry._db.atomic():
        registry._db.execute(
            "INSERT INTO import_mappings (fingerprint, headers, mapping, source, used_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO UPDATE SET "
            "mapping = excluded.mapping, source = excluded.source, used_at = excluded.used_at",
            [fingerprint(headers), json.dumps(headers, ensure_ascii=False),
             json.dumps(mapping), source, now],
        )


def initial(registry: Registry, headers: list[str]) -> tuple[list[str], bool]:
    """The mapping to start from, and whether it was remembered from an earlier import."""
    kept = remembered(registry, headers)
    if kept is not None:
        return kept, True
    return guess(headers), False
