"""Numbers, money and dates written the Indonesian way (15.000; Rp1.234.500; 1,32)."""

from __future__ import annotations

MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember")


def number(value) -> str:
    if value is None:
        return "—"
    return f"{int(value):,}".replace(",", ".")


def rupiah(value) -> str:
    return "—" if value is None else "Rp" + number(value)


def decimal(value, digits: int = 2) -> str:
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def day(iso: str) -> str:
    """'2026-11-03' -> '3 November 2026'; '' -> '—'."""
    if not iso:
        return "—"
    y, m, d = iso[:10].split("-")
    return f"{int(d)} {MONTHS[int(m) - 1]} {y}"


def moment(iso: str) -> str:
    """An ISO timestamp as 'YYYY-MM-DD HH:MM UTC'."""
    return f"{iso[:10]} {iso[11:16]} UTC" if iso else "belum pernah"
