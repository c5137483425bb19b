"""A second verifier written from docs/CARD_QR_FORMAT.md alone, to prove the document suffices.

It reads its constants (base45 alphabet, packed alphabet, test key, limits) out of the document,
parses with its own code and uses only the standard library and an Ed25519 primitive — nothing
from `cards`. Its verdicts must agree with the reference verifier (cards/credential.py) on
genuine cards, on cards read with Caps Lock and scanner white space, on correctly signed
credentials that break a rule, and on thousands of random corruptions.
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from datetime import date, timedelta
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

DOC = (Path(__file__).resolve().parent.parent / "docs" / "CARD_QR_FORMAT.md").read_text("utf-8")


def _block(label: str) -> str:
    return re.search(rf"```\w+ {label}\n(.*?)```", DOC, re.S)[1].strip()


# §2: the alphabet is the indented line after "Alphabet".
B45 = re.search(r"Alphabet[^\n]*\n\n    ([^\n]+)\n", DOC)[1]
# §3.2: the packed alphabet is the first code span of 40 characters.
PACK = next(s for s in re.findall(r"`([^`\n]+)`", DOC) if len(s) == 40)
PREFIX = re.search(r"Content: `([A-Z0-9]+:)`", DOC)[1]  # §1
TEXT_MAX = int(re.search(r"at most \*\*(\d+) characters\*\*", DOC)[1])  # §1
PAYLOAD_MAX = int(re.search(r"`payload` is at most \*\*(\d+) bytes\*\*", DOC)[1])  # §3.1
L = 2**252 + int(re.search(r"L = 2²⁵² \+ (\d+)", DOC)[1])  # §5
EPOCH = date(2000, 1, 1)
# §3.3: the general categories a text may not hold, as the section names them.
SECTION_3_3 = DOC[DOC.index("### 3.3"):DOC.index("### 3.4")]
REFUSED = set(re.findall(r"\b(C[a-z]|Z[a-z])\b", SECTION_3_3))


class Bad(Exception):
    pass


def b45decode(text: str) -> bytes:
    if len(text) % 3 == 1:
        raise Bad("length")
    if any(ch not in B45 for ch in text):
        raise Bad("alphabet")
    out = bytearray()
    for i in range(0, len(text), 3):
        group = [B45.index(ch) for ch in text[i : i + 3]]
        n = sum(v * 45**k for k, v in enumerate(group))
        if len(group) == 3:
            if n > 65535:
                raise Bad("triple")
            out += bytes([n // 256, n % 256])
        else:
            if n > 255:
                raise Bad("final pair")
            out.append(n)
    return bytes(out)


def text_field(data: bytes, pos: int) -> tuple[str, int]:
    if pos >= len(data):
        raise Bad("missing")
    head = data[pos]
    n = head & 0x7F
    if n == 0:
        raise Bad("empty")
    if head & 0x80:
        size = 2 * (n // 3) + n % 3
        body = data[pos + 1 : pos + 1 + size]
        if len(body) != size:
            raise Bad("short")
        chars, at = [], 0
        for start in range(0, n, 3):
            group = min(3, n - start)
            width = 2 if group == 3 else group
            value = int.from_bytes(body[at : at + width], "big")
            at += width
            if value >= 40**group:
                raise Bad("group")
            digits = []
            for _ in range(group):
                value, v = divmod(value, 40)
                digits.append(PACK[v])
            chars += reversed(digits)
        text = "".join(chars)
    else:
        size = n
        body = data[pos + 1 : pos + 1 + size]
        if len(body) != size:
            raise Bad("short")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Bad("utf-8") from exc
    if unicodedata.normalize("NFC", text) != text:
        raise Bad("nfc")
    if any(unicodedata.category(c) in REFUSED or (c.isspace() and c != " ") for c in text):
        raise Bad("character")
    if text != text.strip(" ") or "  " in text:
        raise Bad("spaces")
    return text, pos + 1 + size


def parse(payload: bytes) -> dict:
    if len(payload) > PAYLOAD_MAX or len(payload) < 14:
        raise Bad("size")
    card = {
        "kid": payload[0:4].hex(),
        "serial": int.from_bytes(payload[4:8], "big"),
        "version": payload[8],
        "flags": payload[9],
        "from": EPOCH + timedelta(days=int.from_bytes(payload[10:12], "big")),
        "until": EPOCH + timedelta(days=int.from_bytes(payload[12:14], "big")),
    }
    card["number"], pos = text_field(payload, 14)
    card["name"], pos = text_field(payload, pos)
    if pos != len(payload):
        raise Bad("trailing")
    if card["flags"] & 0x0F not in (1, 2) or card["flags"] & 0x70:
        raise Bad("flags")
    if card["serial"] == 0 or card["version"] == 0 or card["from"] > card["until"]:
        raise Bad("values")
    if len(card["number"]) > 20 or not payload[14] & 0x80:
        raise Bad("member number")
    return card


def verify(text: str, keys: dict[str, list[Ed25519PublicKey]], revoked: set, today: date) -> str:
    text = text.strip(" \t\r\n")
    text = "".join(chr(ord(c) - 32) if "a" <= c <= "z" else c for c in text)
    if not text.startswith(PREFIX):
        return "not_a_credential"
    try:
        if len(text) > TEXT_MAX:
            raise Bad("long")
        raw = b45decode(text[len(PREFIX) :])
        if len(raw) <= 64:
            raise Bad("short")
        payload, signature = raw[:-64], raw[-64:]
        card = parse(payload)
    except Bad:
        return "damaged"
    candidates = keys.get(card["kid"], [])
    if not candidates:
        return "unknown_key"

    def good(key) -> bool:
        if int.from_bytes(signature[32:], "little") >= L:
            return False
        try:
            key.verify(signature, PREFIX.encode() + payload)
            return True
        except InvalidSignature:
            return False

    if not any(good(k) for k in candidates):
        return "forged"
    if (card["serial"], card["version"]) in revoked:
        return "revoked"
    if not card["from"] <= today <= card["until"]:
        return "expired"
    return "valid"


# --- the corpus -------------------------------------------------------------------------------

TODAY = date(2026, 6, 1)
SEED_KEY = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(_block("private-seed")))
KID = _block("key-id")
REVOKED = {(77, 1)}


def b45encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        out += [B45[n % 45], B45[n // 45 % 45], B45[n // 2025]]
    if len(data) % 2:
        out += [B45[data[-1] % 45], B45[data[-1] // 45]]
    return "".join(out)


def utf8_field(text: str) -> bytes:
    raw = text.encode("utf-8")
    return bytes([len(raw)]) + raw


def packed_field(text: str) -> bytes:
    out = bytearray([0x80 | len(text)])
    for i in range(0, len(text), 3):
        value = 0
        for ch in text[i : i + 3]:
            value = value * 40 + PACK.index(ch)
        out += value.to_bytes(2 if len(text[i : i + 3]) == 3 else len(text[i : i + 3]), "big")
    return bytes(out)


def signed(serial=5, version=1, flags=1, start=9497, end=9861, number=None, name=None,
           key=SEED_KEY) -> str:
    raw_public = key.public_key().public_bytes(serialization.Encoding.Raw,
                                               serialization.PublicFormat.Raw)
    payload = (hashlib.sha256(raw_public).digest()[:4] + serial.to_bytes(4, "big")
               + bytes([version, flags]) + start.to_bytes(2, "big") + end.to_bytes(2, "big")
               + (number or packed_field("JMB-2026-PR-000123"))
               + (name if name is not None else packed_field("SITI AMINAH")))
    return PREFIX + b45encode(payload + key.sign(PREFIX.encode() + payload))


def corpus() -> list[str]:
    from cards.credential import CardData, issue_credential

    genuine = [
        issue_credential(SEED_KEY, KID, CardData("JMB-2026-PR-000123", name, cohort,
                                                 date(2026, 1, 1), until, serial, 1))
        for name, cohort, until, serial in [
            ("Siti Nur'aini", "pekerja_rentan", date(2027, 12, 31), 1),
            ("Désirée Ñuñez", "petugas_keagamaan", date(2027, 12, 31), 2),
            ("Muhammad Ridwan Syahputra bin Abdul Rahman Al-Ma'ruf", "pekerja_rentan",
             date(2026, 5, 31), 3),
            ("Ali", "pekerja_rentan", date(2027, 1, 1), 77),
        ]
    ]
    texts = [_block("qr-text"), *genuine]
    texts += [t.lower() for t in genuine] + [t.swapcase() for t in genuine]
    texts += [f" {genuine[0]}\r\n", f"\t{genuine[1]}\n", f"\u00a0{genuine[0]}", f"{genuine[0]}\u00a0"]
    texts += ["", "hello", "JKJ2:ABC", "jkj1:", PREFIX + "ZZ", PREFIX + "GGW" * 40]
    other = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
    texts += [
        signed(), signed(serial=0), signed(version=0), signed(start=9862, end=9861),
        signed(flags=3), signed(flags=0x11), signed(flags=0x81), signed(key=other),
        signed(name=utf8_field("Siti\nAminah")), signed(name=utf8_field("Siti\u202eAminah")),
        signed(name=utf8_field("Sitie\u0301")), signed(name=utf8_field("Siti  Aminah")),
        signed(name=utf8_field("Siti\u00a0Aminah")), signed(name=utf8_field("Désirée")),
        signed(name=utf8_field("A" * 23)), signed(name=utf8_field("A" * 24)),
        signed(number=utf8_field("JMB-2026-PR-000123")), signed(number=packed_field("A" * 21)),
        signed(name=packed_field("AMINA")), signed(name=b""), signed(name=bytes([0x80])),
        signed(serial=77), signed(end=9000, start=8000),
    ]
    rng = random.Random(12)
    for text in genuine[:2] + [signed()]:
        raw = bytearray(b45decode(text[len(PREFIX) :]))
        for _ in range(300):
            mutated = bytearray(raw)
            for _ in range(rng.randint(1, 3)):
                mutated[rng.randrange(len(mutated))] ^= 1 << rng.randrange(8)
            texts.append(PREFIX + b45encode(bytes(mutated)))
        for _ in range(100):
            cut = rng.randrange(len(text))
            texts.append(text[:cut] + B45[rng.randrange(45)] + text[cut + 1 :])
            texts.append(text[:cut])
        s = int.from_bytes(raw[-32:], "little") + L
        texts.append(PREFIX + b45encode(bytes(raw[:-32]) + s.to_bytes(32, "little")))
    return texts


def _reference(text: str, keys) -> str:
    from cards.credential import verify_credential

    return verify_credential(text, keys, REVOKED, TODAY).status.value


def test_the_document_gives_the_constants():
    assert len(B45) == 45 and B45.startswith("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ ")
    assert (PREFIX, TEXT_MAX, PAYLOAD_MAX) == ("JKJ1:", 178, 51)
    assert L == 2**252 + 27742317777372353535851937790883648493
    assert REFUSED == {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}
    assert PACK == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ -.'"
    assert KID == "56475aa7"


def test_the_worked_example_verifies_independently():
    keys = {KID: [SEED_KEY.public_key()]}
    assert verify(_block("qr-text"), keys, set(), TODAY) == "valid"
    assert parse(bytes.fromhex(_block("payload")))["name"] == "SITI NUR'AINI"


@pytest.mark.parametrize("keys_case", ["trusted", "two with one id", "none"])
def test_both_verifiers_agree_on_every_text(keys_case):
    other = Ed25519PrivateKey.from_private_bytes(bytes(range(2, 34))).public_key()
    independent = {"trusted": {KID: [SEED_KEY.public_key()]},
                   "two with one id": {KID: [other, SEED_KEY.public_key()]},
                   "none": {}}[keys_case]
    reference = {kid: tuple(keys) for kid, keys in independent.items()}
    texts = corpus()
    outcomes: dict[str, int] = {}
    for text in texts:
        mine = verify(text, independent, REVOKED, TODAY)
        theirs = _reference(text, reference)
        expected = "forged" if mine == "damaged" else mine  # the reference says forged for both
        assert theirs == expected, (text[:40], mine, theirs)
        outcomes[mine] = outcomes.get(mine, 0) + 1
    assert len(texts) > 1500
    if keys_case == "none":
        assert set(outcomes) == {"not_a_credential", "damaged", "unknown_key"}
    else:
        assert {"valid", "expired", "revoked", "forged", "damaged", "unknown_key",
                "not_a_credential"} <= set(outcomes)
