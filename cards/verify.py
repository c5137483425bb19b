"""Verification of a scanned text or a photo of a card, offline.

A USB scanner types the QR text into a field; a photo or scan is read with zxing-cpp. The trusted
public keys come from resources/keys and the data directory; the revocation list comes from the
local database, which sync keeps current.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from PIL import Image, UnidentifiedImageError

from cards.credential import Status, Verdict, verify_credential
from cards.keys import trusted_keys

if TYPE_CHECKING:
    from storage.registry import Registry


@dataclass
class VerifyContext:
    """What verification needs: trusted keys (by key id, one key or several sharing the id)
    and the revocation list."""

    keys: dict[str, Ed25519PublicKey | tuple[Ed25519PublicKey, ...]]
    revoked: Iterable[tuple[int, int]] | Callable[[int, int], bool] = field(default_factory=set)
    revocations_known: bool = True  # False: no list at all, so "valid" cannot mean "not revoked"


def load_context(data_dir: Path | None = None, registry: Registry | None = None,
                 revocation_file: Path | None = None) -> VerifyContext:
    """Keys from resources/keys and the data directory; revocations from the device database
    (kept current by sync) and/or a file exported by a device that syncs."""
    revoked: set[tuple[int, int]] = set()
    if registry is not None:
        from cards.desk import revoked_set

        revoked = revoked_set(registry)
    if revocation_file is not None:
        revoked |= read_revocation_file(revocation_file)
    known = registry is not None or revocation_file is not None
    return VerifyContext(trusted_keys(data_dir), revoked, known)


def revocation_document(entries: Iterable[dict], exported_at: str) -> dict:
    """The revocation file of CARD_QR_FORMAT.md §6.1."""
    return {"exported_at": exported_at,
            "revocations": [{"serial": int(e["serial"]), "card_version": int(e["card_version"])}
                            for e in entries]}


def read_revocation_file(path: Path) -> set[tuple[int, int]]:
    """(serial, card version) pairs of a revocation file; ValueError (Indonesian) if unreadable."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return {(int(e["serial"]), int(e["card_version"])) for e in data["revocations"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"Berkas daftar pencabutan tidak dapat dibaca: {path}") from exc


def verify_text(text: str, context: VerifyContext, today: date | None = None) -> Verdict:
    return verify_credential(text, context.keys, context.revoked, today)


def read_qr_texts(path: Path) -> list[str]:
    """Texts of the QR codes in an image; ValueError (Indonesian) when there is none readable."""
    try:
        with Image.open(path) as image:
            image.load()
            gray = image.convert("L")
    except (OSError, UnidentifiedImageError) as exc:
        raise ValueError("Berkas gambar tidak dapat dibuka. Pilih gambar PNG atau JPEG.") from exc
    found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode, return_errors=True)
    texts = [b.text for b in found if b.valid and b.text]
    if texts:
        return texts
    if found:
        raise ValueError("Kode QR ditemukan tetapi rusak atau kabur, sehingga tidak dapat dibaca. "
                         "Foto ulang kartu dengan lebih jelas.")
    raise ValueError("Tidak ada kode QR pada gambar ini.")


def verify_image(path: Path, context: VerifyContext, today: date | None = None) -> Verdict:
    """The verdict for the first QR code in the image (a card carries one)."""
    try:
        texts = read_qr_texts(Path(path))
    except ValueError as exc:
        return Verdict(Status.UNREADABLE, str(exc))
    return verify_text(texts[0], context, today)
