"""PDF pages as images, with poppler's pdftoppm, for printing through the system's print dialog.

Printing the rasterised PDF (rather than drawing the card a second time with another toolkit)
keeps one layout: what is printed is exactly the PDF that "Simpan sebagai PDF" writes and that
the tests decode at 300 dpi.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


class RasterError(RuntimeError):
    """pdftoppm is missing or failed (Indonesian message)."""


def rasterise_page(pdf: Path, page: int, dpi: int = 300) -> bytes:
    """PNG bytes of one page (1-based), in grey."""
    if shutil.which("pdftoppm") is None:
        raise RasterError("Program pdftoppm (poppler-utils) belum terpasang; kartu tidak dapat "
                          "dikirim ke printer. Gunakan 'Simpan sebagai PDF'.")
    result = subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-gray", "-f", str(page), "-l", str(page), "-png",
         "-singlefile", str(pdf)],
        capture_output=True, check=False,
    )
    if result.returncode != 0 or not result.stdout:
        raise RasterError("Halaman kartu tidak dapat disiapkan untuk printer.")
    return result.stdout
