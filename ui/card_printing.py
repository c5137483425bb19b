"""Printing cards off the main thread: `make_cards` makes the PDF (cards.pdf.render_pdf) and, for
printing, rasterises that same PDF page by page (cards/raster.py) and paints the pages on the
QPrinter, so the printed card is exactly the saved one. The desk runs it as a `LongRun`
(ui/tasks.py), which reports progress, the end, or the failure (BatchCancelled when the operator
cancelled)."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QRectF, QSizeF
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrinter

from cards.pdf import BatchCancelled, render_pdf
from cards.raster import rasterise_page
from ui.labels import t


def make_cards(cards: list, out: Path, layout: str, printer: QPrinter | None = None, *,
               progress, cancel: threading.Event) -> int:
    """The PDF and, for printing, its pages painted on `printer`: the number of pages. Runs as a
    `LongRun` (ui/tasks.py) off the main thread; BatchCancelled when the operator cancelled."""
    pages = render_pdf(cards, Path(out), layout, progress=progress, cancel=cancel)
    if printer is not None:
        paint_pdf(printer, Path(out), pages, cancel)
    return pages


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
