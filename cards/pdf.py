"""Card PDFs: A4 sheets of 10 cards with crop marks and mirrored backs, or CR80 single cards.

Speed comes from drawing what every card shares once: the front's background and labels and the
whole back side are Form XObjects drawn with `doForm`, and the QR code is vector rectangles from
cards/qr.py. A batch is written to a temporary file and moved into place only when complete, so
a cancelled or failed batch leaves no half-written PDF behind.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from reportlab import rl_config
from reportlab.lib.colors import HexColor, black, white
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from cards import layout as L
from cards.qr import qr_operators
from storage.vocabulary import show_date

LAYOUTS = ("a4", "cr80")
# Binary (zlib only) streams: ReportLab's ASCII85 step runs in pure Python when its C accelerator
# is absent and took a quarter of the time for a 3,000-card batch, for a 25 % larger file.
rl_config.useA85 = 0


class BatchCancelled(Exception):
    """The person at the card desk cancelled the batch; nothing was written."""


@dataclass(frozen=True)
class PrintCard:
    """What one card shows. `qr_text` is the signed credential; the NIK is never on a card."""

    name: str
    member_number: str
    cohort_text: str
    valid_from: date
    valid_until: date
    serial: int
    version: int
    qr_text: str
    kpj: str = ""  # BPJS's KPJ number: a line at the foot of the back, only when there is one


def _fit_line(text: str, font: str, size: float, min_size: float, width: float):
    """Shrink (in quarter points, not below min_size), then cut with an ellipsis."""
    unit = L.text_width(text, font, 1.0)
    if unit * size > width:
        size = max(min_size, math.floor(width / unit * 4) / 4)
    if L.text_width(text, font, size) > width:
        text = L._ellipsize(text, font, size, width)
    return text, size


class CardRenderer:
    """Draws cards on one canvas; forms are defined on first use."""

    def __init__(self, canvas: Canvas, config: L.CardConfig, cut_outline: bool):
        L.register_fonts()
        self.c = canvas
        self.config = config
        self.cut_outline = cut_outline
        self.colour = HexColor(config.colour)
        self._forms_ready = False
        # The back's shared text keeps clear of the strip at its foot where a KPJ goes.
        self._back_lines = L.fit_paragraphs(
            config.back_title, config.back_paragraphs, config.back_footer, L.BACK_TEXT_BOX
        )

    def _define_forms(self) -> None:
        c = self.c
        c.beginForm("card_front", 0, 0, L.CARD_W, L.CARD_H)
        self._front_static()
        c.endForm()
        c.beginForm("card_back", 0, 0, L.CARD_W, L.CARD_H)
        self._back_static()
        c.endForm()
        self._forms_ready = True

    def _band(self) -> None:
        c = self.c
        c.saveState()
        clip = c.beginPath()
        clip.roundRect(0, 0, L.CARD_W, L.CARD_H, L.CORNER)
        c.clipPath(clip, stroke=0, fill=0)
        c.setFillColor(self.colour)
        c.rect(0, L.CARD_H - L.HEADER_H, L.CARD_W, L.HEADER_H, stroke=0, fill=1)
        c.restoreState()

    def _outline(self) -> None:
        if self.cut_outline:
            self.c.setStrokeGray(0.6)
            self.c.setLineWidth(0.3)
            self.c.roundRect(0, 0, L.CARD_W, L.CARD_H, L.CORNER, stroke=1, fill=0)

    def _front_static(self) -> None:
        c, cfg = self.c, self.config
        self._band()
        self._outline()
        text_x = L.SAFE.x
        if cfg.logo:
            side = L.HEADER_H - 3 * mm
            c.drawImage(str(cfg.logo), L.SAFE.x, L.CARD_H - L.HEADER_H + 1.5 * mm, side, side,
                        mask="auto")
            text_x += side + 2 * mm
        width = L.SAFE.right - text_x
        c.setFillColor(white)
        top = L.CARD_H - L.HEADER_H
        for text, font, size, y in (
            (cfg.card_title, L.FONT_BOLD, 6.6, top + 23),
            (cfg.programme, L.FONT, 5.6, top + 14.5),
            (cfg.city, L.FONT_BOLD, 5.6, top + 6.5),
        ):
            text, size = _fit_line(text, font, size, 4.0, width)
            c.setFont(font, size)
            c.drawString(text_x, y, text)
        c.setFillColor(self.colour)
        c.setFont(L.FONT, 5)
        labels = cfg.labels
        for key, dy in L.LABEL_OFFSETS.items():
            c.drawString(L.TEXT_BOX.x, L.TEXT_BOX.top - dy, labels.get(key, key))

    def _back_static(self) -> None:
        c = self.c
        self._outline()
        size, lines = self._back_lines
        c.setFillColor(black)
        for font, text, offset in lines:
            scale = 1.3 if font == L.FONT_BOLD and offset < size * 2 else 1.0
            c.setFont(font, size * scale)
            c.drawString(L.SAFE.x, L.SAFE.top - offset, text)

    @contextmanager
    def _card_at(self, x: float, y: float, form: str) -> Iterator[Canvas]:
        """Draw one card's side at (x, y): its shared form, then what the caller adds."""
        if not self._forms_ready:
            self._define_forms()
        c = self.c
        c.saveState()
        c.translate(x, y)
        c.doForm(form)
        yield c
        c.restoreState()

    def front(self, card: PrintCard, x: float, y: float, qr: tuple[int, str] | None = None) -> None:
        with self._card_at(x, y, "card_front"):
            self._front_fields(card)
            self._qr(card, qr)

    def _qr(self, card: PrintCard, qr: tuple[int, str] | None) -> None:
        """The QR code as vector runs (`qr`: its operators when already encoded)."""
        c = self.c
        n, ops = qr or qr_operators(card.qr_text)
        module = L.QR_SIZE / n
        c.translate(L.QR_BOX.x, L.QR_BOX.y)
        c.scale(module, module)
        c.addLiteral("0 g\n" + ops + "\nf")

    def _front_fields(self, card: PrintCard) -> None:
        c, box = self.c, L.TEXT_BOX
        c.setFillColor(black)
        size, lines = L.fit_name(card.name, box.w)
        c.setFont(L.FONT_BOLD, size)
        for line, below in zip(lines, L.name_baselines(size, len(lines)), strict=True):
            c.drawString(box.x, box.top - below, line)
        c.setFont(L.FONT_BOLD, 8.5)
        c.drawString(box.x, box.top - 45, card.member_number)
        cohort, csize = _fit_line(card.cohort_text, L.FONT, 6.5, 5.0, box.w)
        c.setFont(L.FONT, csize)
        c.drawString(box.x, box.top - 64.5, cohort)
        c.setFont(L.FONT, 6.5)
        c.drawString(box.x, box.top - 83.5,
                     f"{show_date(card.valid_from)} s.d. {show_date(card.valid_until)}")
        c.setFont(L.FONT, 4.5)
        label = self.config.labels.get("serial", "Seri")
        c.drawString(box.x, box.y + 1, f"{label} {card.serial:06d}-{card.version}")

    def back(self, x: float, y: float, card: PrintCard | None = None) -> None:
        with self._card_at(x, y, "card_back") as c:
            if card is not None and card.kpj:
                label = self.config.labels.get("kpj", "No. KPJ BPJS Ketenagakerjaan")
                text, size = _fit_line(f"{label}: {card.kpj}", L.FONT_BOLD, L.KPJ_PT, 4.0,
                                       L.SAFE.w)
                c.setFillColor(self.colour)
                c.setFont(L.FONT_BOLD, size)
                c.drawString(L.SAFE.x, L.SAFE.y + 1, text)


def _crop_marks(c: Canvas) -> None:
    c.setStrokeColor(black)
    c.setLineWidth(0.25)
    for x1, y1, x2, y2 in L.crop_marks():
        c.line(x1, y1, x2, y2)


Progress = Callable[[int, int], None]


def _check(cancel) -> None:
    if cancel is not None and (cancel() if callable(cancel) else cancel.is_set()):
        raise BatchCancelled()


def draw_a4(c: Canvas, r: CardRenderer, cards: Sequence[PrintCard], progress, cancel, qrs: Iterator) -> int:
    per_sheet = len(L.a4_slots())
    pages = 0
    for start in range(0, len(cards), per_sheet):
        _check(cancel)
        sheet = cards[start : start + per_sheet]
        for card, (x, y) in zip(sheet, L.a4_slots(), strict=False):
            r.front(card, x, y, next(qrs))
        _crop_marks(c)
        c.showPage()
        for card, (x, y) in zip(sheet, L.a4_back_slots(), strict=False):
            r.back(x, y, card)
        _crop_marks(c)
        c.showPage()
        pages += 2
        if progress:
            progress(start + len(sheet), len(cards))
    return pages


def draw_cr80(c: Canvas, r: CardRenderer, cards: Sequence[PrintCard], progress, cancel, qrs: Iterator) -> int:
    for i, card in enumerate(cards):
        _check(cancel)
        r.front(card, 0, 0, next(qrs))
        c.showPage()
        r.back(0, 0, card)
        c.showPage()
        if progress and (i % 10 == 9 or i == len(cards) - 1):
            progress(i + 1, len(cards))
    return 2 * len(cards)


def render_pdf(
    cards: Sequence[PrintCard],
    out: Path,
    layout: str = "a4",
    *,
    config: L.CardConfig | None = None,
    progress: Progress | None = None,
    cancel=None,
    workers: int | None = None,
) -> int:
    """Write the cards to `out` (atomically) and return the number of pages.

    `cancel` is a threading.Event or a callable returning True to stop; a cancelled batch
    raises BatchCancelled and leaves `out` untouched. QR codes are encoded in `workers` helper
    processes for big batches (default: one per core); 0 encodes them in this process.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"Tata letak tidak dikenal: {layout} (pilih a4 atau cr80)")
    if not cards:
        raise ValueError("Tidak ada kartu untuk dicetak.")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".kartu-", suffix=".pdf", dir=out.parent)
    os.close(fd)
    try:
        size = (L.A4_W, L.A4_H) if layout == "a4" else (L.CARD_W, L.CARD_H)
        c = Canvas(tmp, pagesize=size, pageCompression=1)
        c.setTitle("Kartu peserta")
        c.setCreator("jamsos-jambi")
        r = CardRenderer(c, config or L.load_config(), cut_outline=(layout == "a4"))
        draw = draw_a4 if layout == "a4" else draw_cr80
        with _qr_stream([card.qr_text for card in cards], workers) as qrs:
            pages = draw(c, r, cards, progress, cancel, qrs)
        _check(cancel)
        c.save()
        os.replace(tmp, out)
        return pages
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


PARALLEL_FROM = 300  # below this, starting helper processes costs more than it saves
_CHUNK = 100


@contextmanager
def _qr_stream(texts: list[str], workers: int | None):
    """QR operators in card order. Encoding is two thirds of the work per card, so big batches
    encode in separate processes (the GIL would serialise threads) while this one lays out
    pages. 'spawn' because the card desk calls this from a thread, where fork is unsafe."""
    workers = (os.cpu_count() or 1) if workers is None else workers
    if workers < 1 or len(texts) < PARALLEL_FROM:
        yield map(qr_operators, texts)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        try:
            yield pool.map(qr_operators, texts, chunksize=_CHUNK)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
