"""Printing cards off the main thread: `CardJob` makes the PDF (cards.pdf.render_pdf) and, for
printing, rasterises that same PDF page by page (cards/raster.py) and paints the pages on the
QPrinter, so the printed card is exactly the saved one. It runs on its own QThread and reports
progress, `done` or `failed` (BatchCancelled when the operator cancelled)."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, QRectF, QSizeF, Signal, Slot
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrinter

from cards.pdf import BatchCancelled, render_pdf
from cards.raster import rasterise_page
from ui.labels import t


class CardJob(QObject):
    """Makes the PDF and, for printing, paints its pages on a QPrinter; runs on its own thread.

    `done(pages)` after everything was produced, `failed(exc)` otherwise (BatchCancelled when
    the operator cancelled)."""

    progress = Signal(int, int)
    done = Signal(int)
    failed = Signal(object)

    def __init__(self, cards: list, out: Path, layout: str, printer: QPrinter | None = None):
        super().__init__()
        self.cards, self.out, self.layout, self.printer = cards, Path(out), layout, printer
        self.cancel = threading.Event()

    @Slot()
    def run(self) -> None:
        try:
            pages = render_pdf(self.cards, self.out, self.layout,
                               progress=lambda d, t: self.progress.emit(d, t), cancel=self.cancel)
            if self.printer is not None:
                paint_pdf(self.printer, self.out, pages, self.cancel)
        except Exception as exc:  # handed to the main thread, which shows it
            self.failed.emit(exc)
            return
        self.done.emit(pages)


def paint_pdf(printer: QPrinter, pdf: Path, pages: int, cancel: threading.Event | None = None,
              dpi: int = 300) -> None:
    """Paint each PDF page, rasterised at `dpi`, over the whole paper; aborts on cancel."""
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError(t("desk.printer_failed"))
    try:
        for page in range(1, pages + 1):
            if cancel is not None and cancel.is_set():
                printer.abort()
                raise BatchCancelled()
            if page > 1 and not printer.newPage():
                raise OSError(t("desk.printer_stopped"))
            image = QImage.fromData(rasterise_page(pdf, page, dpi), "PNG")
            # True size from the paper's corner (full-page mode): never stretched to the paper,
            # so a card stays 85.60 x 53.98 mm whatever paper the printer reports.
            scale = printer.resolution() / dpi
            painter.drawImage(QRectF(0, 0, image.width() * scale, image.height() * scale), image)
    finally:
        painter.end()


def printer_for(layout: str) -> QPrinter:
    """A printer set to the layout's paper (A4 portrait, or ID-1 landscape for a card
    printer), printing from the paper's corner."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    if layout == "cr80":
        size = QPageSize(QSizeF(85.60, 53.98), QPageSize.Unit.Millimeter, "CR80",
                         QPageSize.SizeMatchPolicy.ExactMatch)
    else:
        size = QPageSize(QPageSize.PageSizeId.A4)
    printer.setPageSize(size)
    printer.setPageOrientation(QPageLayout.Orientation.Portrait)
    printer.setFullPage(True)
    return printer
