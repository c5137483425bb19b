"""The shared vocabulary: one source for reasons, member numbers and clock stamps, used by the
device and the server alike."""

from __future__ import annotations

import re
import typing
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from server import schemas
from storage import vocabulary as v

ROOT = Path(__file__).resolve().parent.parent


def test_api_codes_are_the_vocabulary_codes():
    assert set(typing.get_args(schemas.RejectCode)) == set(v.REJECT_REASONS)
    assert set(typing.get_args(schemas.ReprintCode)) == set(v.REPRINT_REASONS)


def test_reprint_reasons_say_what_happened_to_the_card():
    assert v.REPRINT_REASONS["lost"] == "Kartu hilang"
    assert v.REPRINT_REASONS["damaged"] == "Kartu rusak"


def test_rejection_reason_is_the_label_then_the_note():
    assert v.rejection_reason("wrong_data", " Nomor RT salah ") == (
        "Data tidak sesuai dokumen (KTP/KK): Nomor RT salah")
    assert v.rejection_reason("duplicate", "") == "Terdaftar ganda (duplikat)"
    assert v.rejection_reason("duplicate", "Terdaftar ganda (duplikat)") == (
        "Terdaftar ganda (duplikat)")
    assert v.rejection_reason("unknown_code", "") == "unknown_code"


def test_member_number_format():
    assert v.member_number(2026, "pekerja_rentan", 123) == "JMB-2026-PR-000123"
    assert v.member_number(2027, "petugas_keagamaan", 1) == "JMB-2027-PK-000001"
    assert v.member_prefix(2026, "petugas_keagamaan") == "JMB-2026-PK-"


def test_clock_stamps():
    utc = datetime.fromisoformat(v.utc_now_iso())
    assert utc.utcoffset() == timedelta(0) and utc.microsecond == 0
    assert abs(datetime.now(UTC) - utc) < timedelta(seconds=5)
    precise = v.utc_now_iso(precise=True)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", precise)
    local = datetime.fromisoformat(v.local_now_iso())
    assert local.utcoffset() == datetime.now().astimezone().utcoffset()
    assert local.date() == date.today()


def test_a_moment_in_utc_and_its_local_clock():
    moment = datetime(2026, 12, 1, 18, 4, 30, 123456, tzinfo=timezone(timedelta(hours=7)))
    assert v.utc_iso(moment) == "2026-12-01T11:04:30+00:00"
    assert v.utc_iso(moment, precise=True) == "2026-12-01T11:04:30.123456+00:00"
    assert v.show_clock(moment) == moment.astimezone().strftime("%H.%M")
    assert re.fullmatch(r"\d\d\.\d\d", v.show_clock(moment))


def test_show_date():
    assert v.show_date(date(1985, 8, 17)) == "17-08-1985"
    assert v.show_date("2026-12-01T18:04:00+07:00") == "01-12-2026"
    assert v.show_date("") == "" and v.show_date(None) == ""
    assert v.show_date("kemarin") == "kemarin"


def test_each_word_is_defined_once():
    """No second table of these words (or a second clock helper) outside the vocabulary."""
    pattern = re.compile(r"^(REJECT_REASONS|REPRINT_REASONS|COHORT_CODES|MEMBER_CITY)\s*=|"
                         r"^def (_?now_iso|utc_now_iso|local_now_iso|_iso|utc_iso|format_clock|"
                         r"show_clock|fmt_date|show_date)\b|"
                         r'"(Kartu hilang|Terdaftar ganda \(duplikat\))"', re.M)
    found = []
    for package in ("storage", "cards", "sync", "server", "ui", "cli", "ops"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "vocabulary.py":
                continue
            found += [f"{path.relative_to(ROOT)}: {m.group(0)}"
                      for m in pattern.finditer(path.read_text(encoding="utf-8"))]
    assert found == []
