"""The signed card credential carried in the QR code (docs/CARD_QR_FORMAT.md is the spec).

Text = "JKJ1:" + base45(payload + signature). The payload is a fixed binary layout (no NIK);
the signature is Ed25519 over the payload bytes. Everything is sized so that the text fits a
QR code of version 7 at error correction M (178 alphanumeric characters), which keeps every module
at least 0.4 mm wide when the code is printed about 20 mm wide.
"""

from __future__ import annotations

import struct
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cards import base45, textpack
from cards.keys import key_id_bytes
from storage.vocabulary import show_date

# Card dates are calendar days in Kota Jambi: WIB (Asia/Jakarta), UTC+7 all year, no daylight
# saving since 1964, so a fixed offset is exact and needs no time-zone database.
WIB = timezone(timedelta(hours=7), "WIB")
# What a scanner adds around the text: trimmed at the ends only (inside, a space is base45).
SCANNER_WHITESPACE = " \t\r\n"
# Ed25519's group order: a signature whose S is not below it is not canonical (RFC 8032 §5.1.7).
ED25519_L = 2**252 + 27742317777372353535851937790883648493
# Character categories a text field may not hold: controls (newline, tab), format characters
# (bidi overrides such as U+202E, zero-width joiners), surrogates, private use, line and
# paragraph separators.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}
_CAPS = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")

PREFIX = "JKJ1:"  # the "1" is the format version; the prefix is part of the signed bytes
SIGNATURE_BYTES = 64
EPOCH = date(2000, 1, 1)
QR_TEXT_MAX = 178  # alphanumeric capacity of QR version 7-M
# 5 prefix characters leave 173 base45 characters: 57 pairs and one single byte = 115 bytes.
PAYLOAD_MAX = 115 - SIGNATURE_BYTES
MEMBER_NUMBER_MAX = 20
_HEADER = struct.Struct(">4sIBBHH")  # key id, serial, card version, flags, from, until
FLAG_NAME_SHORTENED = 0x80
# The cohort in the flags byte of the QR payload (CARD_QR_FORMAT.md), not the member number's
# letters (storage/vocabulary.py MEMBER_COHORT_CODES).
COHORT_FLAGS = {"pekerja_rentan": 1, "petugas_keagamaan": 2}
COHORT_BY_FLAG = {v: k for k, v in COHORT_FLAGS.items()}


class CredentialError(ValueError):
    """The card data cannot be put into a credential (Indonesian message)."""


@dataclass(frozen=True)
class CardData:
    """What a card credential says about its holder. Never holds the NIK."""

    member_number: str
    name: str
    cohort: str
    valid_from: date
    valid_until: date
    serial: int
    version: int = 1
    name_shortened: bool = False  # set on decoding: the QR holds the start of a long name


class Status(StrEnum):
    VALID = "valid"
    FORGED = "forged"
    REVOKED = "revoked"
    EXPIRED = "expired"
    UNKNOWN_KEY = "unknown_key"
    NOT_A_CREDENTIAL = "not_a_credential"
    UNREADABLE = "unreadable"  # an image without a readable QR code (cards/verify.py)


# What a verdict says, by its reason; filled from `verdict_values` (a window in another
# language says the same by the reason's key).
VERDICT_TEXTS = {
    "not_a_credential": "Ini bukan kode kartu peserta Jamsostek Kota Jambi.",
    "damaged": "Kode kartu rusak atau telah diubah. Kartu ini TIDAK dapat dipercaya.",
    "unknown_key": "Kartu ditandatangani dengan kunci yang tidak dikenal perangkat ini ({kid}). "
                   "Perbarui daftar kunci, lalu periksa lagi.",
    "bad_signature": "Tanda tangan kartu tidak sah: kartu ini palsu atau datanya telah diubah.",
    "revoked": "Kartu ini sudah dicabut (seri {serial}, versi {version}); sudah ada kartu "
               "pengganti. Jangan diterima.",
    "expired": "Masa berlaku kartu sudah habis pada {until}.",
    "not_yet": "Kartu belum berlaku; berlaku mulai {start}.",
    "valid": "Kartu sah. Berlaku {start} s.d. {until}.",
}


@dataclass(frozen=True)
class Verdict:
    status: Status
    message: str  # Indonesian, for the person holding the scanner
    card: CardData | None = None  # only when the signature is valid
    key_id: str = ""
    reason: str = ""  # the key of its message in VERDICT_TEXTS ("" for another message)

    @property
    def valid(self) -> bool:
        return self.status is Status.VALID


def verdict_values(card: CardData | None, key_id: str = "") -> dict[str, object]:
    """What a verdict's message is filled with."""
    if card is None:
        return {"kid": key_id}
    return {"kid": key_id, "serial": card.serial, "version": card.version,
            "start": show_date(card.valid_from), "until": show_date(card.valid_until)}


def _verdict(status: Status, reason: str, card: CardData | None = None,
             key_id: str = "") -> Verdict:
    message = VERDICT_TEXTS[reason].format(**verdict_values(card, key_id))
    return Verdict(status, message, card, key_id, reason)


RevocationCheck = Callable[[int, int], bool]


def _days(d: date) -> int:
    n = (d - EPOCH).days
    if not 0 <= n <= 0xFFFF:
        raise CredentialError(f"Tanggal di luar rentang kartu: {d.isoformat()}")
    return n


def wib_today(now: datetime | None = None) -> date:
    """Today in Kota Jambi, whatever the device's own time zone (CARD_QR_FORMAT.md §6)."""
    return (now or datetime.now(UTC)).astimezone(WIB).date()


def text_refusal(text: str) -> str:
    """Why a text field breaks CARD_QR_FORMAT.md §3.3, or "" when it is acceptable: NFC, no
    control, format (bidi) or separator characters, white space only as single inner spaces."""
    if unicodedata.normalize("NFC", text) != text:
        return "not NFC"
    for ch in text:
        if unicodedata.category(ch) in _REFUSED_CATEGORIES:
            return f"character U+{ord(ch):04X} not allowed"
        if ch != " " and ch.isspace():
            return f"white space U+{ord(ch):04X} not allowed"
    if text != text.strip(" ") or "  " in text:
        return "leading, trailing or double space"
    return ""


def qr_name(name: str) -> str:
    """The name as the credential carries it: NFC, invisible characters (controls, bidi
    overrides) dropped as the registration form drops them, spaces collapsed, and in capitals
    when the capitals use only the packable characters (KTP names are written in capitals)."""
    text = "".join(" " if ch.isspace() else ch for ch in name
                   if ch.isspace() or unicodedata.category(ch) not in _REFUSED_CATEGORIES)
    text = unicodedata.normalize("NFC", " ".join(text.split()))  # after the drop: e + ZWJ + ́
    upper = text.upper()
    return upper if textpack.packable(upper) else text


def encode_payload(card: CardData, kid: bytes) -> bytes:
    """The payload bytes (CARD_QR_FORMAT.md §3); the signature covers PREFIX + these bytes."""
    number = card.member_number.strip().upper()
    if not 1 <= len(number) <= MEMBER_NUMBER_MAX or not textpack.packable(number):
        raise CredentialError(
            "Nomor peserta harus 1–20 karakter: huruf besar, angka, spasi, titik atau tanda hubung."
        )
    if card.cohort not in COHORT_FLAGS:
        raise CredentialError(f"Kelompok peserta tidak dikenal: {card.cohort}")
    if not 1 <= card.serial <= 0xFFFFFFFF or not 1 <= card.version <= 0xFF:
        raise CredentialError("Nomor seri atau versi kartu di luar rentang.")
    if card.valid_from > card.valid_until:
        raise CredentialError("Tanggal mulai berlaku kartu sesudah tanggal akhirnya.")
    number_field = textpack.encode_field(number)
    budget = PAYLOAD_MAX - _HEADER.size - len(number_field)
    name = qr_name(card.name)
    if not name:
        raise CredentialError("Nama peserta kosong.")
    if text_refusal(name):
        raise CredentialError("Nama peserta berisi karakter yang tidak dapat dimuat di kartu.")
    name_field, shortened = textpack.fit_field(name, min(budget, 1 + textpack.MAX_LENGTH))
    flags = COHORT_FLAGS[card.cohort] | (FLAG_NAME_SHORTENED if shortened else 0)
    header = _HEADER.pack(
        kid, card.serial, card.version, flags, _days(card.valid_from), _days(card.valid_until)
    )
    return header + number_field + name_field


def decode_payload(payload: bytes) -> tuple[bytes, CardData]:
    """(key id, card) from the payload bytes; ValueError when the layout or a value breaks
    CARD_QR_FORMAT.md §3 (the checks an issuer's bug or a forger could get past a signature)."""
    if not _HEADER.size + 4 <= len(payload) <= PAYLOAD_MAX:
        raise ValueError("payload too short or too long")
    kid, serial, card_version, flags, start, end = _HEADER.unpack_from(payload)
    number, pos = textpack.decode_field(payload, _HEADER.size)
    name, pos = textpack.decode_field(payload, pos)
    if pos != len(payload):
        raise ValueError("trailing bytes")
    cohort = COHORT_BY_FLAG.get(flags & 0x0F)
    if cohort is None or flags & 0x70:
        raise ValueError("unknown cohort or flags")
    if serial == 0 or card_version == 0:
        raise ValueError("serial or card version 0")
    if start > end:
        raise ValueError("valid from after valid until")
    if len(number) > MEMBER_NUMBER_MAX or not payload[_HEADER.size] & textpack.PACKED:
        raise ValueError("member number not packed or too long")
    for text in (number, name):
        if text_refusal(text):
            raise ValueError(text_refusal(text))
    card = CardData(
        member_number=number,
        name=name,
        cohort=cohort,
        valid_from=EPOCH + timedelta(days=start),
        valid_until=EPOCH + timedelta(days=end),
        serial=serial,
        version=card_version,
        name_shortened=bool(flags & FLAG_NAME_SHORTENED),
    )
    return kid, card


def signature_input(payload: bytes) -> bytes:
    return PREFIX.encode("ascii") + payload


def issue_credential(private_key: Ed25519PrivateKey, key_id: str, card: CardData) -> str:
    """The QR text for a card, signed with the issuer's key."""
    kid = key_id_bytes(private_key.public_key())
    if kid.hex() != key_id:
        raise CredentialError("Kunci penandatangan tidak cocok dengan ID kuncinya.")
    payload = encode_payload(card, kid)
    return PREFIX + base45.encode(payload + private_key.sign(signature_input(payload)))


def _is_revoked(revoked: Iterable[tuple[int, int]] | RevocationCheck | None, card: CardData):
    if revoked is None:
        return False
    if callable(revoked):
        return bool(revoked(card.serial, card.version))
    return (card.serial, card.version) in revoked


def verify_credential(
    text: str,
    trusted_keys: dict[str, Ed25519PublicKey | Iterable[Ed25519PublicKey]],
    revoked: Iterable[tuple[int, int]] | RevocationCheck | None = None,
    today: date | None = None,
) -> Verdict:
    """Check a scanned text offline: format, key, signature, revocation, then validity dates.

    `trusted_keys` maps a key id to a public key, or to several keys that share the id (each
    is tried). `today` defaults to today in WIB."""
    today = today or wib_today()
    text = scanned_text(text)
    if not text.startswith(PREFIX):
        return _verdict(Status.NOT_A_CREDENTIAL, "not_a_credential")
    try:
        if len(text) > QR_TEXT_MAX:
            raise ValueError("longer than a version 7-M code holds")
        raw = base45.decode(text[len(PREFIX) :])
        if len(raw) <= SIGNATURE_BYTES:
            raise ValueError("too short")
        payload, signature = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
        kid, card = decode_payload(payload)
    except ValueError:
        return _verdict(Status.FORGED, "damaged")
    keys = _keys_for(trusted_keys, kid.hex())
    if not keys:
        return _verdict(Status.UNKNOWN_KEY, "unknown_key", key_id=kid.hex())
    if not any(signature_valid(key, signature, payload) for key in keys):
        return _verdict(Status.FORGED, "bad_signature", key_id=kid.hex())
    return _dated_verdict(card, kid.hex(), revoked, today)


def scanned_text(text: str) -> str:
    """The text as a verifier reads it (CARD_QR_FORMAT.md §6): scanner white space trimmed at
    the ends, and a–z read as A–Z. A QR code in alphanumeric mode holds no lower-case letters,
    so lower case only comes from a scanner typing with Caps Lock on; reading it as capitals
    can never turn a text that is not a genuine card into one (the signature decides)."""
    return text.strip(SCANNER_WHITESPACE).translate(_CAPS)


def signature_valid(key: Ed25519PublicKey, signature: bytes, payload: bytes) -> bool:
    """Ed25519 with a canonical S (below the group order L), checked here as well so that the
    rule does not depend on the crypto library's version."""
    if int.from_bytes(signature[32:], "little") >= ED25519_L:
        return False
    try:
        key.verify(signature, signature_input(payload))
    except InvalidSignature:
        return False
    return True


def _keys_for(trusted_keys, kid: str) -> list[Ed25519PublicKey]:
    found = trusted_keys.get(kid)
    if found is None:
        return []
    return [found] if isinstance(found, Ed25519PublicKey) else list(found)


def _dated_verdict(card: CardData, kid: str, revoked, today: date) -> Verdict:
    if _is_revoked(revoked, card):
        return _verdict(Status.REVOKED, "revoked", card, kid)
    if today > card.valid_until:
        return _verdict(Status.EXPIRED, "expired", card, kid)
    if today < card.valid_from:
        return _verdict(Status.EXPIRED, "not_yet", card, kid)
    return _verdict(Status.VALID, "valid", card, kid)


def display_name(card: CardData) -> str:
    """The name as the verifier shows it: a shortened name ends with an ellipsis."""
    return card.name + ("…" if card.name_shortened else "")
