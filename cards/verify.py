"""Verification of a scanned text or a photo of a card, offline.

A USB scanner types the QR text into a field; a photo or scan is read with zxing-cpp. The trusted
public keys come from resources/keys and the data directory; the revocation list comes from the
local database, which sync keeps current.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from PIL import Image, UnidentifiedImageError

from cards.credential import Status, Verdict, verify_credential
from cards.keys import trusted_keys

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


@dataclass
class VerifyContext:
    """What verification needs: trusted keys and the revocation list."""

    keys: dict[str, Ed25519PublicKey]
    revoked: Iterable[tuple[int, int]] | Callable[[int, int], bool] = field(default_factory=set)


def load_context(data_dir: Path | None = None, registry=None) -> VerifyContext:
    revoked: set[tuple[int, int]] = set()
    if registry is not None:
        from cards.desk import revoked_set

        revoked = revoked_set(registry)
    return VerifyContext(trusted_keys(data_dir), revoked)


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


def looks_like_image(value: str) -> bool:
    path = Path(value)
    return path.suffix.lower() in IMAGE_SUFFIXES or path.is_file()
