"""Names and phone numbers as they are stored, and the key used to find similar names.

Names are kept as the person writes them on the KTP (accents, apostrophes, hyphens, long names):
only invisible differences are removed. Matching is a separate, lossy key (`name_key`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

_SPACES = re.compile(r"\s+")
# Invisible characters that sneak in through copy and paste (zero-width space, BOM, soft hyphen,
# direction marks): never part of a name.
_INVISIBLE_CATEGORIES = {"Cc", "Cf"}


def normalize_name(raw: str | None) -> str:
    """Trimmed, inner whitespace collapsed to one space, NFC; nothing visible is changed."""
    if not isinstance(raw, str):
        return ""
    if raw.isascii() and raw.isprintable():
        # The common case, on every save: no control or format characters, no other spaces.
        return _SPACES.sub(" ", raw).strip()
    text = unicodedata.normalize("NFC", raw)
    text = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in _INVISIBLE_CATEGORIES
    )
    return _SPACES.sub(" ", text).strip()


# Apostrophe-like marks disappear in the key ("Ma'ruf" ~ "Maruf"); other punctuation separates
# words ("Siti-Aminah" ~ "Siti Aminah").
_APOSTROPHES = "'`\u2018\u2019\u02bc\u02b9\u00b4"


@functools.lru_cache(maxsize=1024)  # a save asks twice: the similar-name check and the row
def name_key(raw: str | None) -> str:
    """A key for similar-name duplicate matching: casefolded, accents stripped, punctuation
    dropped, spaces collapsed. "Siti Nur'aini  É." and "SITI NURAINI E" give the same key."""
    name = normalize_name(raw)
    decomposed = unicodedata.normalize("NFKD", name)
    chars = []
    for ch in decomposed:
        if unicodedata.combining(ch) or ch in _APOSTROPHES:
            continue
        chars.append(ch if ch.isalnum() else " ")
    return _SPACES.sub(" ", "".join(chars).casefold()).strip()


# --- phone numbers -------------------------------------------------------------------------

MOBILE_MIN_DIGITS = 10  # in national form, 08…
MOBILE_MAX_DIGITS = 13
_PHONE_SEPARATORS = re.compile(r"[\s\-.()/\u2010-\u2015]")


class PhoneError(ValueError):
    """A number that cannot be an Indonesian mobile number. `code` is stable; `message` is
    Indonesian, for the operator."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class PhoneCheck:
    normalized: str  # "08…", or "" when empty or impossible
    error: PhoneError | None = None


def normalize_phone(raw: str | None) -> str:
    """The canonical national form "08…" of an Indonesian mobile number written as 08…, +62 8…,
    62 8…, 0062 8… or 8…, with spaces, dashes, dots or brackets. "" for an empty input.
    Raises PhoneError for anything else (landlines, wrong length, letters)."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise PhoneError("phone.invalid", "Nomor HP harus berupa angka, misalnya 0812 3456 7890.")
    text = _PHONE_SEPARATORS.sub("", raw)
    if not text:
        return ""
    if text.startswith("+"):
        text = text[1:]
        if not text.startswith("62"):
            raise PhoneError(
                "phone.foreign",
                "Nomor HP harus nomor Indonesia (+62 atau 08…); nomor luar negeri tidak diterima.",
            )
    if not text.isascii() or not text.isdigit():
        raise PhoneError(
            "phone.invalid", "Nomor HP hanya boleh berisi angka, misalnya 0812 3456 7890."
        )
    if text.startswith("0062"):  # international dialling prefix
        text = text[2:]
    if text.startswith("62"):
        # "+62 0812…" is a common way of writing it; the trunk 0 does not belong after 62.
        rest = text[2:]
        text = "0" + (rest[1:] if rest.startswith("0") else rest)
    elif text.startswith("8"):
        text = "0" + text
    if not text.startswith("08"):
        raise PhoneError(
            "phone.not_mobile",
            f"Nomor HP harus diawali 08 atau +62 8; yang dimasukkan diawali {text[:4]}. "
            "Nomor telepon rumah tidak diterima.",
        )
    if not MOBILE_MIN_DIGITS <= len(text) <= MOBILE_MAX_DIGITS:
        raise PhoneError(
            "phone.length",
            f"Nomor HP harus {MOBILE_MIN_DIGITS}–{MOBILE_MAX_DIGITS} angka (bentuk 08…); "
            f"yang dimasukkan {len(text)} angka.",
        )
    return text


def check_phone(raw: str | None) -> PhoneCheck:
    """`normalize_phone` without the exception, for the form's live feedback."""
    try:
        return PhoneCheck(normalize_phone(raw))
    except PhoneError as exc:
        return PhoneCheck("", exc)
