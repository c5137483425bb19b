"""Short texts in the credential: three characters in two bytes when they allow it.

Member numbers (JMB-2026-PR-000123) and most names as written on the KTP (capital letters, spaces,
hyphens, dots and apostrophes) use only 40 characters. 40³ = 64,000 fits in 16 bits, so three of
them pack into two bytes: a third less than UTF-8, which lets a longer name fit the QR code.
Anything else (lower case kept as such, accents) is stored as UTF-8. CARD_QR_FORMAT.md §3.2.
"""

from __future__ import annotations

PACK_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ -.'"
_INDEX = {ch: i for i, ch in enumerate(PACK_ALPHABET)}
PACKED = 0x80  # high bit of the field's first byte
MAX_LENGTH = 0x7F


def packable(text: str) -> bool:
    return all(ch in _INDEX for ch in text)


def packed_size(chars: int) -> int:
    return chars // 3 * 2 + (chars % 3)  # a last group of 1 or 2 characters takes 1 or 2 bytes


def pack(text: str) -> bytes:
    out = bytearray()
    for i in range(0, len(text), 3):
        group = [_INDEX[ch] for ch in text[i : i + 3]]
        value = 0
        for v in group:
            value = value * 40 + v
        out += value.to_bytes(len(group) if len(group) < 3 else 2, "big")
    return bytes(out)


def unpack(data: bytes, chars: int) -> str:
    if len(data) != packed_size(chars):
        raise ValueError("packed length mismatch")
    out, pos = [], 0
    for start in range(0, chars, 3):
        group = min(3, chars - start)
        width = 2 if group == 3 else group
        value = int.from_bytes(data[pos : pos + width], "big")
        pos += width
        if value >= 40**group:
            raise ValueError("packed value out of range")
        digits = []
        for _ in range(group):
            value, v = divmod(value, 40)
            digits.append(PACK_ALPHABET[v])
        out.extend(reversed(digits))
    return "".join(out)


def encode_field(text: str) -> bytes:
    """First byte: high bit set = packed, low 7 bits = characters (packed) or bytes (UTF-8)."""
    if packable(text):
        if len(text) > MAX_LENGTH:
            raise ValueError("text too long")
        return bytes([PACKED | len(text)]) + pack(text)
    raw = text.encode("utf-8")
    if len(raw) > MAX_LENGTH:
        raise ValueError("text too long")
    return bytes([len(raw)]) + raw


def decode_field(data: bytes, pos: int) -> tuple[str, int]:
    """(text, position after the field); ValueError when the bytes are not a field."""
    if pos >= len(data):
        raise ValueError("missing field")
    head = data[pos]
    count = head & MAX_LENGTH
    size = packed_size(count) if head & PACKED else count
    body = data[pos + 1 : pos + 1 + size]
    if len(body) != size or count == 0:
        raise ValueError("truncated or empty field")
    text = unpack(body, count) if head & PACKED else body.decode("utf-8")
    return text, pos + 1 + size


def fit_field(text: str, budget: int) -> tuple[bytes, bool]:
    """The field for `text` in at most `budget` bytes, cutting characters off the end if needed.
    Returns (field bytes, shortened)."""
    shortened = False
    while text:
        field = encode_field(text)
        if len(field) <= budget:
            return field, shortened
        text, shortened = text[:-1].rstrip(), True
    raise ValueError("no room for the text")
