"""Names keep what the KTP shows; phone numbers get one canonical form; name keys match."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.normalize import (
    PhoneError,
    check_phone,
    name_key,
    normalize_name,
    normalize_phone,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Siti   Aminah ", "Siti Aminah"),
        ("Ahmad\tFauzi\nbin  Hasan", "Ahmad Fauzi bin Hasan"),
        ("Nur'aini", "Nur'aini"),
        ("Ma’ruf Al-Hakim", "Ma’ruf Al-Hakim"),
        ("José Müller", "José Müller"),
        ("Jose\u0301", "Jos\u00e9"),  # decomposed accent becomes the composed character
        ("Budi\u200bSantoso", "BudiSantoso"),  # zero-width space from a pasted text
        ("\u00a0Rahmat\u00a0Hidayat\u00a0", "Rahmat Hidayat"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_name(raw, expected):
    assert normalize_name(raw) == expected


def test_long_names_are_kept_whole():
    name = "Raden Mas Muhammad Abdurrahman Wahyudi Kusumanegara Putra Hadiningrat"
    assert normalize_name(name + "  ") == name


@given(st.text())
def test_normalize_name_is_idempotent_and_trimmed(raw):
    once = normalize_name(raw)
    assert normalize_name(once) == once
    assert once == once.strip()
    assert "  " not in once


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Siti Nur'aini", "SITI NURAINI"),
        ("José  Müller", "jose muller"),
        ("Siti-Aminah", "Siti Aminah"),
        ("Ma’ruf", "Maruf"),
        ("M. Yusuf", "m yusuf"),
    ],
)
def test_name_key_matches_variants(a, b):
    assert name_key(a) == name_key(b)


def test_name_key_keeps_different_names_apart():
    assert name_key("Siti Aminah") != name_key("Siti Amina")
    assert name_key("") == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("081234567890", "081234567890"),
        ("0812-3456-7890", "081234567890"),
        ("0812 3456 7890", "081234567890"),
        ("0812.3456.7890", "081234567890"),
        ("+62 812 3456 7890", "081234567890"),
        ("+62 0812 3456 7890", "081234567890"),
        ("62812345678", "0812345678"),
        ("0062 812 3456 789", "08123456789"),
        ("812345678901", "0812345678901"),
        ("(0812) 345-678", "0812345678"),
        ("0812345678901", "0812345678901"),  # 13 digits, the longest
        ("", ""),
        ("   ", ""),
        (None, ""),
    ],
)
def test_normalize_phone(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("0741 123456", "phone.not_mobile"),  # a Jambi landline
        ("081234567", "phone.length"),  # 9 digits
        ("08123456789012", "phone.length"),  # 14 digits
        ("+65 8123 4567", "phone.foreign"),
        ("0812-ABC-7890", "phone.invalid"),
        ("٠٨١٢٣٤٥٦٧٨٩٠", "phone.invalid"),  # Arabic-Indic digits
        ("12345", "phone.not_mobile"),
    ],
)
def test_impossible_phone_numbers(raw, code):
    with pytest.raises(PhoneError) as info:
        normalize_phone(raw)
    assert info.value.code == code
    assert info.value.message
    result = check_phone(raw)
    assert result.normalized == "" and result.error.code == code


def test_phone_length_message_is_specific():
    with pytest.raises(PhoneError, match="yang dimasukkan 9 angka"):
        normalize_phone("081234567")


@given(st.one_of(st.text(), st.none()))
def test_phone_never_fails_other_than_with_phone_error(raw):
    result = check_phone(raw)
    if result.error is None and result.normalized:
        assert result.normalized.startswith("08")
        assert 10 <= len(result.normalized) <= 13
        assert normalize_phone(result.normalized) == result.normalized
