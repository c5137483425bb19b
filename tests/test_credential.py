"""The signed QR credential: round trip, size goal, and every kind of tampering refused."""

from __future__ import annotations

from datetime import date

import pytest
import segno

from cards import base45
from cards.credential import (
    PREFIX,
    SIGNATURE_BYTES,
    CardData,
    CredentialError,
    Status,
    decode_payload,
    display_name,
    encode_payload,
    issue_credential,
    verify_credential,
)
from cards.keys import generate_private_key, key_id

LONG_NAME = "Muhammad Ridwan Syahputra bin Abdul Rahman Al-Ma'ruf Hasibuan Nasution Éàü"
TODAY = date(2026, 6, 1)


@pytest.fixture(scope="module")
def signer():
    key = generate_private_key()
    return key, key_id(key.public_key())


@pytest.fixture(scope="module")
def trusted(signer):
    key, kid = signer
    return {kid: key.public_key()}


def _card(**kw) -> CardData:
    data = dict(
        member_number="JMB-2026-PR-000123",
        name="SITI AMINAH",
        cohort="pekerja_rentan",
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 12, 31),
        serial=4711,
        version=2,
    )
    data.update(kw)
    return CardData(**data)


def test_round_trip_valid(signer, trusted):
    text = issue_credential(*signer, _card())
    verdict = verify_credential(text, trusted, revoked=set(), today=TODAY)
    assert verdict.status is Status.VALID
    assert verdict.card == _card()
    assert "sah" in verdict.message


def test_base45_rfc9285_vectors():
    assert base45.encode(b"AB") == "BB8"
    assert base45.encode(b"Hello!!") == "%69 VD92EX0"
    assert base45.encode(b"base-45") == "UJCLQE7W581"
    assert base45.decode("QED8WEX0") == b"ietf!"
    with pytest.raises(base45.Base45Error):
        base45.decode("GGW")  # 65535 + 1 would overflow two bytes
    with pytest.raises(base45.Base45Error):
        base45.decode("a")


def test_longest_name_fits_qr_version_7m(signer, trusted):
    card = _card(name=LONG_NAME, member_number="JMB-2026-PR-000123-X")
    text = issue_credential(*signer, card)
    assert segno.make(text, error="m", boost_error=False).version <= 7
    verdict = verify_credential(text, trusted, today=TODAY)
    assert verdict.valid and verdict.card.name_shortened
    assert LONG_NAME.startswith(verdict.card.name)
    assert display_name(verdict.card).endswith("…")


def test_accents_and_apostrophes_survive(signer, trusted):
    card = _card(name="Nur'aini Désirée")
    verdict = verify_credential(issue_credential(*signer, card), trusted, today=TODAY)
    assert verdict.card.name == "Nur'aini Désirée" and not verdict.card.name_shortened


def test_capital_names_up_to_34_characters_fit_whole(signer, trusted):
    name = "MUHAMMAD RIDWAN SYAHPUTRA AL-MA'RU"  # 34 characters, member number of 18
    assert len(name) == 34
    text = issue_credential(*signer, _card(name=name.title()))
    verdict = verify_credential(text, trusted, today=TODAY)
    assert verdict.card.name == name and not verdict.card.name_shortened


def test_every_flipped_byte_is_refused(signer, trusted):
    text = issue_credential(*signer, _card())
    raw = base45.decode(text[len(PREFIX) :])
    for position in range(len(raw)):
        for mask in (0x01, 0x80):
            tampered = bytearray(raw)
            tampered[position] ^= mask
            verdict = verify_credential(
                PREFIX + base45.encode(bytes(tampered)), trusted, today=TODAY
            )
            assert verdict.status in (Status.FORGED, Status.UNKNOWN_KEY), position
            assert verdict.card is None


def _with_changed_fields(text: str, **changes) -> str:
    """The same signature on a payload whose fields were changed and encoded again."""
    raw = base45.decode(text[len(PREFIX) :])
    payload, signature = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
    kid, card = decode_payload(payload)
    changed = encode_payload(CardData(**{**card.__dict__, **changes}), kid)
    assert changed != payload
    return PREFIX + base45.encode(changed + signature)


def test_changed_name_number_or_dates_are_forged(signer, trusted):
    text = issue_credential(*signer, _card())
    for changes in (
        {"name": "SITI AMINAN"},
        {"member_number": "JMB-2026-PR-000124"},
        {"valid_until": date(2030, 12, 31)},
        {"version": 3},
    ):
        verdict = verify_credential(_with_changed_fields(text, **changes), trusted, today=TODAY)
        assert verdict.status is Status.FORGED, changes


def test_other_key_is_unknown_and_same_id_forgery_fails(signer, trusted):
    other = generate_private_key()
    text = issue_credential(other, key_id(other.public_key()), _card())
    assert verify_credential(text, trusted, today=TODAY).status is Status.UNKNOWN_KEY
    # The attacker writes the trusted key id into a payload signed with their own key.
    raw = bytearray(base45.decode(text[len(PREFIX) :]))
    raw[0:4] = bytes.fromhex(next(iter(trusted)))
    forged = PREFIX + base45.encode(bytes(raw))
    assert verify_credential(forged, trusted, today=TODAY).status is Status.FORGED


def test_expired_and_not_yet_valid(signer, trusted):
    text = issue_credential(*signer, _card())
    assert verify_credential(text, trusted, today=date(2027, 1, 1)).status is Status.EXPIRED
    assert verify_credential(text, trusted, today=date(2025, 12, 31)).status is Status.EXPIRED
    assert verify_credential(text, trusted, today=date(2026, 12, 31)).valid


def test_revoked_by_set_or_callable(signer, trusted):
    text = issue_credential(*signer, _card())
    assert verify_credential(text, trusted, {(4711, 2)}, TODAY).status is Status.REVOKED
    assert verify_credential(text, trusted, {(4711, 1)}, TODAY).valid
    check = lambda serial, version: serial == 4711  # noqa: E731
    assert verify_credential(text, trusted, check, TODAY).status is Status.REVOKED


def test_truncated_and_garbage(signer, trusted):
    text = issue_credential(*signer, _card())
    for cut in (len(PREFIX), len(PREFIX) + 2, len(text) // 2, len(text) - 1, len(text) - 3):
        verdict = verify_credential(text[:cut], trusted, today=TODAY)
        assert verdict.status is Status.FORGED, cut
    for junk in ("", "hello", "https://example.org", "JKJ2:ABC", "jkj2:abc", "JKJ1"):
        assert verify_credential(junk, trusted, today=TODAY).status is Status.NOT_A_CREDENTIAL
    # Lower case is read as capitals (a scanner with Caps Lock on), so these are damaged cards.
    for damaged in (PREFIX + "abc", "jkj1:abc"):
        assert verify_credential(damaged, trusted, today=TODAY).status is Status.FORGED



def test_textpack_round_trip_and_sizes():
    from cards import textpack

    for text in ("A", "AB", "ABC", "JMB-2026-PR-000123", "NUR'AINI BT. AHMAD", "Désirée", "x"):
        field = textpack.encode_field(text)
        assert textpack.decode_field(field, 0) == (text, len(field))
    assert len(textpack.encode_field("JMB-2026-PR-000123")) == 1 + 12
    with pytest.raises(ValueError):
        textpack.decode_field(bytes([0x80 | 3, 0xFF, 0xFF]), 0)  # 65535 > 40**3 - 1


def _doc_blocks() -> dict[str, str]:
    """Fenced blocks of docs/CARD_QR_FORMAT.md labelled like ```hex payload."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "CARD_QR_FORMAT.md").read_text(
        encoding="utf-8"
    )
    return {m[1]: m[2].strip() for m in re.finditer(r"```\w+ ([\w-]+)\n(.*?)```", text, re.S)}


def test_worked_example_in_the_format_document():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from cards.credential import signature_input
    from cards.keys import public_pem, raw_public

    doc = _doc_blocks()
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(doc["private-seed"]))
    public = key.public_key()
    assert raw_public(public).hex() == doc["public-key"]
    assert key_id(public) == doc["key-id"]
    assert public_pem(public).strip() == doc["public-key-pem"]
    fields = dict(line.split(" = ", 1) for line in doc["fields"].splitlines())
    card = CardData(
        member_number=fields["member_number"],
        name=fields["name"],
        cohort=fields["cohort"],
        valid_from=date.fromisoformat(fields["valid_from"]),
        valid_until=date.fromisoformat(fields["valid_until"]),
        serial=int(fields["serial"]),
        version=int(fields["version"]),
    )
    payload = encode_payload(card, bytes.fromhex(doc["key-id"]))
    assert payload.hex() == doc["payload"]
    assert key.sign(signature_input(payload)).hex() == doc["signature"]
    text = issue_credential(key, doc["key-id"], card)
    assert text == doc["qr-text"]
    assert segno.make(text, error="m", boost_error=False).version <= 7
    verdict = verify_credential(text, {doc["key-id"]: public}, today=date(2026, 6, 1))
    assert verdict.valid and verdict.card.name == fields["name"].upper()


# --- the rules of CARD_QR_FORMAT.md §3.3 and §6, on correctly signed credentials ----------------


def _signed(signer, payload: bytes) -> str:
    """A credential signed correctly over any payload bytes: what a buggy or hostile issuer
    holding a trusted key could make. Only the verifier's own rules can refuse it."""
    from cards.credential import signature_input

    key, _ = signer
    return PREFIX + base45.encode(payload + key.sign(signature_input(payload)))


def _payload(signer, *, serial=4711, version=2, start=9497, end=9861, number="JMB-2026-PR-000123",
             name: str | bytes = "SITI AMINAH", cohort=1) -> bytes:
    from cards import textpack
    from cards.keys import key_id_bytes

    key, _ = signer
    head = (key_id_bytes(key.public_key()) + serial.to_bytes(4, "big") + bytes([version, cohort])
            + start.to_bytes(2, "big") + end.to_bytes(2, "big"))
    name_field = (bytes([len(name)]) + name if isinstance(name, bytes)
                  else textpack.encode_field(name))
    return head + textpack.encode_field(number) + name_field


def test_the_crafted_payload_itself_is_valid(signer, trusted):
    verdict = verify_credential(_signed(signer, _payload(signer)), trusted, today=TODAY)
    assert verdict.valid and verdict.card == _card()


@pytest.mark.parametrize("fields", [
    {"serial": 0}, {"version": 0}, {"start": 9862, "end": 9861},
])
def test_serial_or_version_0_and_reversed_dates_are_refused(signer, trusted, fields):
    verdict = verify_credential(_signed(signer, _payload(signer, **fields)), trusted, today=TODAY)
    assert verdict.status is Status.FORGED and verdict.card is None


@pytest.mark.parametrize("name", [
    "Siti\nAminah", "Siti\u202eAminah", "Siti\u200bAminah", "Siti\tAminah", "Siti\u00a0Aminah",
    "Siti\u2028Aminah", "Sitie\u0301", " Siti", "Siti ", "Siti  Aminah", "Siti\x00",
])
def test_names_with_controls_bidi_odd_spaces_or_not_nfc_are_refused(signer, trusted, name):
    payload = _payload(signer, name=name.encode("utf-8"))
    verdict = verify_credential(_signed(signer, payload), trusted, today=TODAY)
    assert verdict.status is Status.FORGED, repr(name)


def test_the_issuer_never_signs_such_a_name(signer, trusted):
    for name, carried in (("Siti\u202e Aminah", "SITI AMINAH"), ("Siti\nAminah", "SITI AMINAH"),
                          ("Sitie\u0301", "Sitié"), ("Sitie\u200d\u0301", "Sitié")):
        verdict = verify_credential(issue_credential(*signer, _card(name=name)), trusted,
                                    today=TODAY)
        assert verdict.valid and verdict.card.name == carried
    with pytest.raises(CredentialError):
        issue_credential(*signer, _card(valid_from=date(2027, 1, 1), valid_until=date(2026, 1, 1)))


def test_caps_lock_and_scanner_white_space(signer, trusted):
    text = issue_credential(*signer, _card())
    for scanned in (text.lower(), text.swapcase(), "jkj1:" + text[5:], f"{text}\r\n", f"\t{text}\n"):
        assert verify_credential(scanned, trusted, today=TODAY).valid, scanned[:12]
    # Only scanner white space is trimmed; anything else around the text is not a card.
    assert verify_credential(f"\u00a0{text}", trusted, today=TODAY).status is Status.NOT_A_CREDENTIAL
    assert verify_credential(f"{text}\u00a0", trusted, today=TODAY).status is Status.FORGED


def test_length_limits_bind_the_verifier(signer, trusted):
    from cards.credential import PAYLOAD_MAX, QR_TEXT_MAX

    # A 52-byte payload (a 24-byte name), correctly signed: 180 characters, refused.
    payload = _payload(signer, name=b"A" * 24)
    assert len(payload) == PAYLOAD_MAX + 1
    text = _signed(signer, payload)
    assert len(text) > QR_TEXT_MAX
    assert verify_credential(text, trusted, today=TODAY).status is Status.FORGED
    at_limit = _signed(signer, _payload(signer, name=b"A" * 23))
    assert len(at_limit) <= QR_TEXT_MAX and verify_credential(at_limit, trusted, today=TODAY).valid


def test_a_final_base45_pair_above_255_is_refused(signer, trusted):
    with pytest.raises(base45.Base45Error):
        base45.decode("ZZ")  # 35 + 35 × 45 = 1610
    assert base45.decode("U5") == b"\xff"  # 30 + 5 × 45 = 255, the largest
    text = _signed(signer, _payload(signer, name=b"AMINA"))
    assert len(text[len(PREFIX):]) % 3 == 2  # an odd byte count ends with a single byte
    assert verify_credential(text, trusted, today=TODAY).valid
    assert verify_credential(text[:-2] + "ZZ", trusted, today=TODAY).status is Status.FORGED


def test_a_non_canonical_signature_is_refused(signer, trusted):
    from cards.credential import ED25519_L

    text = issue_credential(*signer, _card())
    raw = base45.decode(text[len(PREFIX):])
    s = int.from_bytes(raw[-32:], "little") + ED25519_L  # the same point, S not reduced
    assert s < 2**256
    forged = PREFIX + base45.encode(raw[:-32] + s.to_bytes(32, "little"))
    assert verify_credential(forged, trusted, today=TODAY).status is Status.FORGED


def test_two_trusted_keys_with_the_same_id_are_both_tried(signer, trusted, tmp_path, monkeypatch):
    from cards import keys as keys_module

    key, kid = signer
    other = generate_private_key()
    text = issue_credential(key, kid, _card())
    both = {kid: (other.public_key(), key.public_key())}
    assert verify_credential(text, both, today=TODAY).valid
    assert verify_credential(text, {kid: (other.public_key(),)}, today=TODAY).status is Status.FORGED
    # Loading: a second key file with a colliding id does not hide the first.
    folder = tmp_path / "keys"
    keys_module.save_public_key(key.public_key(), folder)
    (folder / "other.pem").write_text(keys_module.public_pem(other.public_key()))
    monkeypatch.setattr(keys_module, "RESOURCE_KEYS", tmp_path / "none")
    monkeypatch.setattr(keys_module, "key_id", lambda public_key: "00000000")
    loaded = keys_module.trusted_keys(tmp_path)
    assert list(loaded) == ["00000000"] and len(loaded["00000000"]) == 2


def test_today_is_the_day_in_wib():
    from datetime import UTC, datetime

    from cards.credential import wib_today

    assert wib_today(datetime(2026, 12, 31, 16, 59, tzinfo=UTC)) == date(2026, 12, 31)
    assert wib_today(datetime(2026, 12, 31, 17, 0, tzinfo=UTC)) == date(2027, 1, 1)


def test_a_new_server_key_never_reuses_a_published_key_id(tmp_path, monkeypatch):
    from cards import keys as keys_module
    from server import signing

    published = generate_private_key()
    keys_module.save_public_key(published.public_key(), tmp_path / "keys")  # e.g. a rotated key
    fresh = generate_private_key()
    offered = iter([published, fresh])
    monkeypatch.setattr(signing, "generate_private_key", lambda: next(offered))
    signer = signing.Signer(tmp_path)
    assert signer.key_id == key_id(fresh.public_key()) != key_id(published.public_key())
    assert {k["key_id"] for k in signer.public_keys()} == {key_id(published.public_key()),
                                                          signer.key_id}


def test_a_member_number_that_is_not_packed_is_refused(signer, trusted):
    from cards import textpack

    payload = _payload(signer)
    number = textpack.encode_field("JMB-2026-PR-000123")
    as_utf8 = payload.replace(number, bytes([18]) + b"JMB-2026-PR-000123", 1)
    assert as_utf8 != payload
    verdict = verify_credential(_signed(signer, as_utf8), trusted, today=TODAY)
    assert verdict.status is Status.FORGED
