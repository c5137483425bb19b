"""Card geometry and text fitting (ISO/IEC 7810 ID-1), independent of any drawing.

All lengths are PDF points unless a name says mm. The PDF writer (cards/pdf.py) and the tests use
the same functions, and the tests check them against arithmetic from the standard.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
CARD_W_MM, CARD_H_MM, CORNER_MM = 85.60, 53.98, 3.18
CARD_W, CARD_H, CORNER = CARD_W_MM * mm, CARD_H_MM * mm, CORNER_MM * mm
SAFE_MM = 3.0  # nothing printed closer than this to the cut edge
A4_W, A4_H = 210 * mm, 297 * mm
A4_COLUMNS, A4_ROWS = 2, 5
# Room to cut between cards. The rows are 2 mm apart so that the sheet keeps 9.55 mm at the top
# and bottom: the crop marks then sit inside the 5 mm that office printers leave unprinted.
A4_GAP_X, A4_GAP_Y = 6 * mm, 2 * mm
PRINTABLE_MARGIN = 5 * mm  # nothing is drawn closer than this to the paper's edge
CROP_GAP, CROP_LENGTH = 1 * mm, 3 * mm  # a mark starts this far from the cut, and is this long
QR_SIZE = 20 * mm
FONT, FONT_BOLD = "CardSans", "CardSans-Bold"
NAME_MAX_PT, NAME_MIN_PT = 9.0, 6.5
NAME_FLOOR_PT = 5.5  # the smallest name size, for three lines
NAME_FIRST_BASELINE, NAME_LEADING = 15.0, 1.2  # below the text box's top; between lines
LABEL_OFFSETS = {"name": 6, "member_number": 36, "cohort": 56, "validity": 75}  # label baselines


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def top(self) -> float:
        return self.y + self.h


SAFE = Box(SAFE_MM * mm, SAFE_MM * mm, CARD_W - 2 * SAFE_MM * mm, CARD_H - 2 * SAFE_MM * mm)
HEADER_H = 12 * mm
QR_BOX = Box(SAFE.right - QR_SIZE, SAFE.y + 1 * mm, QR_SIZE, QR_SIZE)
# The back: the shared text above, and a strip at the foot for the member's KPJ number (drawn
# per card, only when the member has one; the front has no room left for it).
KPJ_PT = 6.0
BACK_TEXT_BOX = Box(SAFE.x, SAFE.y + KPJ_PT * 1.6, SAFE.w, SAFE.h - KPJ_PT * 1.6)
TEXT_BOX = Box(SAFE.x, SAFE.y, QR_BOX.x - 2.5 * mm - SAFE.x, CARD_H - HEADER_H - 1 * mm - SAFE.y)


@dataclass
class CardConfig:
    """Programme texts and logo (resources/card/card.json), so another city can use its own."""

    programme: str
    city: str
    card_title: str
    colour: str
    back_title: str
    back_paragraphs: list[str]
    back_footer: str
    cohort_labels: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    logo: Path | None = None


def load_config(path: Path | None = None) -> CardConfig:
    path = Path(path or RESOURCES / "card" / "card.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    logo = data.pop("logo", "")
    config = CardConfig(**data)
    config.logo = (path.parent / logo) if logo and (path.parent / logo).exists() else None
    return config


@cache
def register_fonts() -> None:
    """Register the shipped Unicode font once per process; ReportLab embeds a subset of it."""
    pdfmetrics.registerFont(TTFont(FONT, str(RESOURCES / "fonts" / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(RESOURCES / "fonts" / "DejaVuSans-Bold.ttf")))


def text_width(text: str, font: str, size: float) -> float:
    register_fonts()
    return pdfmetrics.stringWidth(text, font, size)


def _ellipsize(text: str, font: str, size: float, width: float) -> str:
    while text and text_width(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def fit_name(name: str, width: float, font: str = FONT_BOLD) -> tuple[float, list[str]]:
    """(font size, lines) that print the holder's whole name in the name area: one line shrunk
    from 9 to 6.5 pt, else two lines from 7.5 to 6.5 pt, else three from 6 to 5.5 pt. A word
    wider than a line (a 44-letter single name) is broken into even pieces ending in a hyphen.

    Only a name that does not fit three lines at 5.5 pt (about 120 characters; the register
    allows 150, KTP names are far shorter) loses its end to an ellipsis, and never leaves the
    safe area. The QR credential and the records keep the name whole either way.
    """
    # Widths scale with the size, so one measurement gives the largest half-point size that fits.
    unit = text_width(name, font, 1.0)
    size = min(NAME_MAX_PT, math.floor(width / unit * 2) / 2) if unit else NAME_MAX_PT
    if size >= NAME_MIN_PT and text_width(name, font, size) <= width:
        return size, [name]
    for max_lines, largest, smallest in NAME_LINES:
        size = largest
        while size >= smallest:
            lines = _name_lines(name, font, size, width)
            if len(lines) <= max_lines:
                return size, lines
            size -= 0.25
    max_lines, _, size = NAME_LINES[-1]
    lines = _name_lines(name, font, size, width)[:max_lines]
    last = lines[-1].rstrip("-")
    fits = text_width(last + "…", font, size) <= width
    lines[-1] = last + "…" if fits else _ellipsize(last, font, size, width)
    return size, lines


def name_baselines(size: float, count: int) -> list[float]:
    """Distances below TEXT_BOX.top of the name's lines (cards/pdf.py draws them there). A
    smaller name moves up towards its label, so three lines keep clear of the next label."""
    first = min(NAME_FIRST_BASELINE, LABEL_OFFSETS["name"] + 2.5 + size * 0.76)
    return [first + i * (size + NAME_LEADING) for i in range(count)]


# (lines, largest size, smallest size) tried in turn when one line at NAME_MIN_PT is too narrow;
# three lines of 6 pt still end above the member number's label (cards/pdf.py spacing).
NAME_LINES = ((2, 7.5, NAME_MIN_PT), (3, 6.0, NAME_FLOOR_PT))


def _name_lines(name: str, font: str, size: float, width: float) -> list[str]:
    lines, line = [], ""
    for word in name.split(" "):
        if not word:
            continue
        if text_width(word, font, size) > width:
            if line:
                lines.append(line)
            *whole, line = _break_word(word, font, size, width)
            lines += whole
            continue
        line = _add_word(lines, line, word, font, size, width)
    return lines + ([line] if line else [])


def _add_word(lines: list[str], line: str, word: str, font: str, size: float,
              width: float) -> str:
    """The line being filled after `word` joins it; a line it would overflow goes to `lines`
    first and `word` starts the next."""
    candidate = f"{line} {word}" if line else word
    if line and text_width(candidate, font, size) > width:
        lines.append(line)
        return word
    return candidate


def _break_word(word: str, font: str, size: float, width: float) -> list[str]:
    """The word in the fewest even pieces that fit a line each with a hyphen: WOLFESCHLEGEL-
    STEINHAUSEN rather than 35 letters and a lone tail."""
    for count in range(2, len(word) + 1):
        step = math.ceil(len(word) / count)
        pieces = [word[i : i + step] for i in range(0, len(word), step)]
        if all(text_width(p + "-", font, size) <= width for p in pieces):
            return [p + "-" for p in pieces[:-1]] + [pieces[-1]]
    return list(word)


NBSP = "\u00a0"
_SHORT_NUMBER = re.compile(r"[0-9]{1,4}[.,;:)]?")


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines no wider than `width` (a single word may be wider), broken only at plain spaces.
    A no-break space (U+00A0) holds two words together, and so does a short number with the
    word before it: a phone number such as the call centre's "175" never stands alone."""
    words: list[str] = []
    for word in text.split(" "):
        if word and words and _SHORT_NUMBER.fullmatch(word):
            words[-1] += NBSP + word
        elif word:
            words.append(word)
    lines, line = [], ""
    for word in words:
        line = _add_word(lines, line, word, font, size, width)
    return lines + ([line] if line else [])


def fit_paragraphs(
    title: str, paragraphs: list[str], footer: str, box: Box, max_pt: float = 6.6
) -> tuple[float, list[tuple[str, str, float]]]:
    """The largest font size at which the back-side text fits the box, and its lines as
    (font, text, y offset from the box top)."""
    register_fonts()
    size = max_pt
    while size > 3.5:
        lines = _flow(title, paragraphs, footer, box.w, size)
        if lines and lines[-1][2] + size * 0.3 <= box.h:
            return size, lines
        size -= 0.2
    raise ValueError("Teks bagian belakang kartu terlalu panjang untuk kartu.")


def _flow(title, paragraphs, footer, width, size) -> list[tuple[str, str, float]]:
    lead = size * 1.22
    out, y = [], size * 1.3
    for line in wrap(title, FONT_BOLD, size * 1.3, width):
        out.append((FONT_BOLD, line, y))
        y += lead * 1.3
    for paragraph in paragraphs:
        y += size * 0.35
        for line in wrap(paragraph, FONT, size, width):
            out.append((FONT, line, y))
            y += lead
    y += size * 0.35
    for line in wrap(footer, FONT_BOLD, size, width):
        out.append((FONT_BOLD, line, y))
        y += lead
    return out


def a4_slots() -> list[tuple[float, float]]:
    """Lower-left corners of the 10 cards on an A4 front page, row by row from the top left."""
    grid_w = A4_COLUMNS * CARD_W + (A4_COLUMNS - 1) * A4_GAP_X
    grid_h = A4_ROWS * CARD_H + (A4_ROWS - 1) * A4_GAP_Y
    left, bottom = (A4_W - grid_w) / 2, (A4_H - grid_h) / 2
    slots = []
    for row in range(A4_ROWS):
        y = bottom + (A4_ROWS - 1 - row) * (CARD_H + A4_GAP_Y)
        for col in range(A4_COLUMNS):
            slots.append((left + col * (CARD_W + A4_GAP_X), y))
    return slots


def a4_back_slots() -> list[tuple[float, float]]:
    """Where each card's back goes on the following page: mirrored left-right, because a
    long-edge duplex turns the sheet over its vertical axis."""
    return [(A4_W - x - CARD_W, y) for x, y in a4_slots()]


def crop_marks() -> list[tuple[float, float, float, float]]:
    """Cut lines extended into the page margins, as (x1, y1, x2, y2) segments, every one at
    least PRINTABLE_MARGIN from the paper's edges."""
    slots = a4_slots()
    xs = sorted({x for x, _ in slots} | {x + CARD_W for x, _ in slots})
    ys = sorted({y for _, y in slots} | {y + CARD_H for _, y in slots})
    gap, length = CROP_GAP, CROP_LENGTH
    marks = []
    for x in xs:
        marks.append((x, ys[0] - gap - length, x, ys[0] - gap))
        marks.append((x, ys[-1] + gap, x, ys[-1] + gap + length))
    for y in ys:
        marks.append((xs[0] - gap - length, y, xs[0] - gap, y))
        marks.append((xs[-1] + gap, y, xs[-1] + gap + length, y))
    return marks
