"""Synthetic, valid and clearly fictitious workers, for trying the app, screenshots and benchmarks.

Every generated record is marked "DATA CONTOH" in its notes. NIKs are built from the rules with
serials 9900–9999 (rarely reached by real people; see ../shared/data/nik/nik_cases.md) and Kota
Jambi kecamatan codes; phone numbers use the 0800 prefix, which no mobile operator uses.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from storage.ids import new_id
from storage.models import Cohort, Heir, Registration, Sex, Status

if TYPE_CHECKING:
    from storage.registry import Registry

DEMO_MARKER = "DATA CONTOH (fiktif)"
DEMO_OPERATOR = "Petugas Contoh"

MALE_NAMES = (
    "Ahmad", "Budi", "Dedi", "Eko", "Fajar", "Hendra", "Irwan", "Joko", "Rizki", "Slamet",
    "Agus", "Bambang", "Dodi", "Hadi", "Iwan", "Muhammad", "Rahmat", "Syahrul", "Teguh", "Wahyu",
    "Andi", "Arif", "Dimas", "Fauzi", "Gunawan", "Hasan", "Imam", "Rudi", "Yusuf", "Zulkifli",
)
FEMALE_NAMES = (
    "Siti", "Sri", "Dewi", "Fitri", "Lestari", "Nurhaliza", "Putri", "Rina", "Wati", "Yuni",
    "Aisyah", "Ani", "Desi", "Eka", "Indah", "Kartika", "Maya", "Nur", "Ratna", "Suryani",
    "Dian", "Fatimah", "Hana", "Intan", "Lina", "Mega", "Nining", "Rahayu", "Sari", "Wulan",
)
LAST_NAMES = (
    "Saputra", "Hidayat", "Siregar", "Nasution", "Lubis", "Harahap", "Pratama", "Wijaya",
    "Santoso", "Kurniawan", "Setiawan", "Rahman", "Hakim", "Syahputra", "Putri", "Sari",
    "Hasibuan", "Simanjuntak", "Batubara", "Daulay", "Ma'ruf", "Nugroho", "Susanto", "Gultom",
    "Pohan", "Ritonga", "Effendi", "Hamzah", "Anwar", "Fitriani",
)
STREETS = (
    "Jl. Contoh", "Jl. Kenanga Contoh", "Jl. Melati Contoh", "Lorong Contoh", "Jl. Fiktif",
)
WORKER_OCCUPATIONS = (
    "ojek_pangkalan", "ojek_online", "sopir", "pedagang_kaki_lima", "umkm", "tukang_bangunan",
    "buruh_harian_lepas", "tukang_parkir",
)
RELIGIOUS_OCCUPATIONS = ("imam", "marbot", "guru_ngaji")


def _nik(kecamatan_code: str, birth: date, sex: str, serial: int) -> str:
    """A NIK that passes the rules: Kota Jambi (15.71), the kecamatan's code, the birth date
    (+40 on the day for women) and a 99xx serial."""
    day = birth.day + (40 if sex == Sex.FEMALE.value else 0)
    return (
        f"1571{kecamatan_code.rsplit('.', 1)[-1]}{day:02d}{birth.month:02d}"
        f"{birth.year % 100:02d}{serial:04d}"
    )


def _phone(rng: random.Random) -> str:
    return "0800" + "".join(str(rng.randrange(10)) for _ in range(8))


def generate_workers(
    count: int,
    seed: int = 0,
    as_of: date | None = None,
    *,
    kelurahans: list | None = None,
    event_ids: list[str] | None = None,
    consent_version: str | None = None,
    occupations: dict[str, list[str]] | None = None,
    taken_niks: set[str] | None = None,
) -> Iterator[Registration]:
    """Yield `count` fictitious registrations with unique NIKs (also unique against
    `taken_niks`, which is updated). Deterministic for a given seed, apart from nothing: ids
    are given on save."""
    as_of = as_of or date.today()
    rng = random.Random(seed)
    if kelurahans is None:
        from storage.regions import load_regions

        regions = load_regions()
        kelurahans = [kel for kec in regions.kecamatan_list()
                      for kel in regions.kelurahan_list(kec.code)]
    if consent_version is None:
        from storage.config import load_program_config

        consent_version = load_program_config().for_date(as_of).consent_version
    occupations = occupations or {
        Cohort.PEKERJA_RENTAN.value: list(WORKER_OCCUPATIONS),
        Cohort.PETUGAS_KEAGAMAAN.value: list(RELIGIOUS_OCCUPATIONS),
    }
    taken = taken_niks if taken_niks is not None else set()
    for _ in range(count):
        sex = rng.choice((Sex.MALE.value, Sex.FEMALE.value))
        birth = as_of - timedelta(days=rng.randrange(19 * 365, 58 * 365))
        kel = rng.choice(kelurahans)
        while True:
            nik = _nik(kel.kecamatan_code, birth, sex, rng.randrange(9900, 10000))
            if nik not in taken:
                taken.add(nik)
                break
            birth -= timedelta(days=1)  # that person's 100 serials are taken: shift the date
        first = rng.choice(MALE_NAMES if sex == Sex.MALE.value else FEMALE_NAMES)
        if sex == Sex.FEMALE.value and rng.random() < 0.3:
            second = rng.choice([n for n in FEMALE_NAMES if n != first])
            first = f"{first} {second}"  # "Siti Nurhaliza ..."
        full_name = f"{first} {rng.choice(LAST_NAMES)}"
        if rng.random() < 0.4:
            full_name = f"{first} {rng.choice(LAST_NAMES)} {rng.choice(LAST_NAMES)}"
        # About a quarter are religious workers, as in the first funded cohorts (3,000 + 1,316).
        religious = rng.random() < 0.25 and occupations.get(Cohort.PETUGAS_KEAGAMAAN.value)
        cohort = (Cohort.PETUGAS_KEAGAMAAN if religious else Cohort.PEKERJA_RENTAN).value
        heir_is_spouse = rng.random() < 0.6
        heir_first = rng.choice(FEMALE_NAMES if sex == Sex.MALE.value else MALE_NAMES)
        yield Registration(
            nik=nik,
            full_name=full_name,
            birth_place="Jambi",
            birth_date=birth,
            sex=sex,
            street=f"{rng.choice(STREETS)} No. {rng.randrange(1, 200)}",
            rt=f"{rng.randrange(1, 40):03d}",
            rw=f"{rng.randrange(1, 12):03d}",
            kecamatan_code=kel.kecamatan_code,
            kelurahan_code=kel.code,
            postal_code=kel.postal_code,
            phone=_phone(rng),
            occupation_code=rng.choice(occupations[cohort]),
            cohort=cohort,
            monthly_income=rng.randrange(10, 31) * 100_000,
            heirs=[
                Heir(
                    name=f"{heir_first} {full_name.split()[-1]}",
                    relationship=(
                        ("istri" if sex == Sex.MALE.value else "suami") if heir_is_spouse
                        else rng.choice(("anak", "orang_tua", "saudara_kandung"))
                    ),
                    phone=_phone(rng) if rng.random() < 0.5 else "",
                )
            ],
            consent_version=consent_version,
            consent_given=True,
            consent_at=f"{as_of.isoformat()}T09:00:00+07:00",
            event_id=rng.choice(event_ids) if event_ids else None,
            notes=DEMO_MARKER,
            status=Status.REGISTERED.value,
        )


def _demo_events(registry: Registry, as_of: date, rng: random.Random) -> list[str]:
    """Reuse the demo events already there, else make a few."""
    existing = [e.id for e in registry.events() if e.name.endswith("(CONTOH)")]
    if existing:
        return existing
    kelurahans = [kel for kec in registry.regions.kecamatan_list()
                  for kel in registry.regions.kelurahan_list(kec.code)]
    ids = []
    for i, kel in enumerate(rng.sample(kelurahans, 6)):
        held_on = as_of - timedelta(days=7 * i)
        event = registry.add_event(f"Kampung Bahagia {kel.name} (CONTOH)", held_on, kel.code,
                                   operator=DEMO_OPERATOR)
        ids.append(event.id)
    return ids


def _occupations_by_cohort(registry: Registry, as_of: date) -> dict[str, list[str]]:
    """Active occupation codes of the programme version in force, grouped by cohort."""
    active = {o.code for o in registry.occupations()}
    by_cohort: dict[str, list[str]] = {}
    for entry in registry.config.for_date(as_of).occupations:
        if entry.code in active and not entry.code.endswith("_lainnya"):
            by_cohort.setdefault(entry.cohort or Cohort.PEKERJA_RENTAN.value, []).append(entry.code)
    return by_cohort


def fill_demo_data(
    registry: Registry,
    count: int,
    *,
    seed: int = 0,
    as_of: date | None = None,
    batch_size: int = 2000,
    progress: Callable[[int, int], None] | None = None,
    made: list[str] | None = None,
) -> int:
    """Insert `count` demo workers fast: batched transactions, each record still with its
    history version, heirs, chained audit entry and outbox entry. Per-record duplicate lookups
    are skipped because the generator guarantees unique NIKs (checked against the database).

    `made`, when given, receives the ids of the registrations made, so that later demo steps
    (funding, decisions) touch those alone and never a row the demo did not create."""
    from storage.db import CACHE_KIB, storage_errors

    as_of = as_of or date.today()
    rng = random.Random(seed)
    event_ids = _demo_events(registry, as_of, rng)
    with storage_errors():
        taken = {r[0] for r in registry._db.execute("SELECT nik FROM workers")}
    workers = generate_workers(
        count, seed, as_of, event_ids=event_ids,
        consent_version=registry.config.for_date(as_of).consent_version,
        occupations=_occupations_by_cohort(registry, as_of),
        taken_niks=taken,
        kelurahans=[kel for kec in registry.regions.kecamatan_list()
                    for kel in registry.regions.kelurahan_list(kec.code)],
    )
    done = 0
    # A big page cache while loading: every batch inserts into nine indexes at random places.
    registry._db.execute("PRAGMA cache_size = -262144")
    try:
        done = _load(registry, workers, count, batch_size, progress, made)
    finally:
        registry._db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    return done


def _load(registry: Registry, workers: Iterator[Registration], count: int, batch_size: int,
          progress: Callable[[int, int], None] | None, made: list[str] | None) -> int:
    from storage.registry import bulk_insert_versions

    done = 0
    while done < count:
        chunk = [next(workers) for _ in range(min(batch_size, count - done))]
        for reg in chunk:
            reg.id = new_id()
        bulk_insert_versions(registry, chunk, operator=DEMO_OPERATOR)
        if made is not None:
            made.extend(reg.id for reg in chunk)
        done += len(chunk)
        if progress:
            progress(done, count)
    return done


# --- what the demo's card funding reads (cards/demo.py) -----------------------------------------


@dataclass(frozen=True)
class Undecided:
    """A registration still waiting for a decision, as the demo's funding picks them."""

    id: str
    full_name: str
    cohort: str
    operator: str
    version: int


def undecided(registry: Registry) -> list[Undecided]:
    """Registrations registered, received or verified (not decided yet), in save order."""
    rows = registry._db.execute(
        "SELECT id, full_name, cohort, operator, version FROM workers "
        "WHERE status IN (?, ?, ?) ORDER BY seq",
        [Status.REGISTERED.value, Status.RECEIVED.value, Status.VERIFIED.value],
    ).fetchall()
    return [Undecided(*row) for row in rows]


def highest_member_number(registry: Registry, prefix: str) -> str | None:
    """The highest member number this device holds that starts with `prefix`."""
    row = registry._db.execute(
        "SELECT max(member_number) FROM workers WHERE member_number LIKE ?", [prefix + "%"]
    ).fetchone()
    return row[0] if row and row[0] else None
