"""Card PDFs: every QR decodes at 300 dpi and verifies, sizes and positions exact to 0.1 mm,
long names inside the safe area, and verification of images."""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib
from datetime import date
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from cards import layout as L
from cards.credential import CardData, Status, issue_credential
from cards.keys import generate_private_key, key_id
from cards.pdf import PrintCard, render_pdf
from cards.verify import VerifyContext, verify_image, verify_text

MM = 72 / 25.4
TODAY = date(2026, 6, 1)
NAMES = [
    "Siti Aminah",
    "Muhammad Ridwan Syahputra bin Abdul Rahman Al-Ma'ruf Hasibuan Nasution",  # 70
    "Nur'aini Désirée Çelik-Ñúñez Purbaningrum",
    "I Gusti Ngurah Agung Bagus Putra Wirawan Sastrawijaya",
    "A",
    "TAN",
]

pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils")


@pytest.fixture(scope="module")
def signer():
    key = generate_private_key()
    return key, key_id(key.public_key())


def _cards(signer, count: int) -> list[PrintCard]:
    cards = []
    for i in range(count):
        name = NAMES[i % len(NAMES)]
        data = CardData(f"JMB-2026-PR-{i + 1:06d}", name, "pekerja_rentan", date(2026, 1, 5),
                        date(2026, 12, 31), 1000 + i, 1)
        cards.append(PrintCard(name, data.member_number, "Pekerja rentan · Ojek online",
                               data.valid_from, data.valid_until, data.serial, 1,
                               issue_credential(*signer, data)))
    return cards


def _rasterise(pdf: Path, out_dir: Path, pages: list[int], dpi: int = 300) -> list[Path]:
    paths = []
    for page in pages:
        prefix = out_dir / f"p{page}"
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-f", str(page), "-l", str(page),
                        "-singlefile", "-png", str(pdf), str(prefix)], check=True)
        paths.append(prefix.with_suffix(".png"))
    return paths


def _media_boxes(pdf: bytes) -> list[tuple[float, ...]]:
    boxes = re.findall(rb"/MediaBox \[\s*([\d. ]+?)\s*\]", pdf)
    return [tuple(float(v) for v in box.split()) for box in boxes]


def _translations(pdf: bytes) -> set[tuple[float, float]]:
    """Every translation (cm with an identity matrix) in the page streams, in mm."""
    found = set()
    for start in re.finditer(rb"stream\r?\n", pdf):
        try:  # a decompressor stops at the end of the stream's deflate data
            text = zlib.decompressobj().decompress(pdf[start.end() :])
        except zlib.error:
            continue
        for x, y in re.findall(rb"1 0 0 1 ([\d.-]+) ([\d.-]+) cm", text):
            found.add((round(float(x) / MM, 2), round(float(y) / MM, 2)))
    return found


def test_a4_every_qr_decodes_at_300_dpi_and_verifies(signer, tmp_path):
    cards = _cards(signer, 12)
    pdf = tmp_path / "a4.pdf"
    assert render_pdf(cards, pdf, "a4") == 4
    fronts = _rasterise(pdf, tmp_path, [1, 3])  # pages 2 and 4 are the backs
    context = VerifyContext({signer[1]: signer[0].public_key()})
    decoded = {}
    for page_no, page in zip((0, 2), fronts, strict=True):
        with Image.open(page) as image:
            found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        for symbol in found:
            centre_x = sum(p.x for p in (symbol.position.top_left, symbol.position.bottom_right))
            centre_y = sum(p.y for p in (symbol.position.top_left, symbol.position.bottom_right))
            centre = (centre_x / 2 / 300 * 25.4, 297 - centre_y / 2 / 300 * 25.4)  # mm, from bottom
            decoded[symbol.text] = (page_no, centre)
        assert len(found) == (10 if page_no == 0 else 2)
    assert set(decoded) == {c.qr_text for c in cards}
    for index, card in enumerate(cards):
        page_no, (cx, cy) = decoded[card.qr_text]
        x, y = L.a4_slots()[index % 10]
        expected = ((x + L.QR_BOX.x + L.QR_SIZE / 2) / MM, (y + L.QR_BOX.y + L.QR_SIZE / 2) / MM)
        assert page_no == 2 * (index // 10)
        assert abs(cx - expected[0]) < 0.5 and abs(cy - expected[1]) < 0.5
        assert verify_text(card.qr_text, context, TODAY).valid


def test_page_sizes_and_card_positions_exact(signer, tmp_path):
    # Independent arithmetic from the spec: ID-1 85.60 x 53.98 mm, A4 210 x 297 mm, 2 x 5 cards
    # with 6 mm and 2 mm gaps, centred: left 16.40 mm, bottom 9.55 mm.
    columns = [16.40, 16.40 + 85.60 + 6]
    rows = [9.55 + (4 - r) * (53.98 + 2) for r in range(5)]
    expected = [(c, r) for r in rows for c in columns]
    got = [(x / MM, y / MM) for x, y in L.a4_slots()]
    assert all(abs(a - b) < 0.1 for e, g in zip(expected, got, strict=True) for a, b in zip(e, g, strict=True))
    backs = [(x / MM, y / MM) for x, y in L.a4_back_slots()]
    for (fx, fy), (bx, by) in zip(expected, backs, strict=True):  # mirrored for long-edge duplex
        assert abs(bx - (210 - fx - 85.60)) < 0.1 and abs(by - fy) < 0.1
    pdf = tmp_path / "a4.pdf"
    render_pdf(_cards(signer, 12), pdf, "a4")
    data = pdf.read_bytes()
    for box in _media_boxes(data):
        assert abs(box[2] / MM - 210) < 0.1 and abs(box[3] / MM - 297) < 0.1
    placed = _translations(data)
    for x, y in expected + [(210 - x - 85.60, y) for x, y in expected]:
        assert any(abs(x - px) < 0.1 and abs(y - py) < 0.1 for px, py in placed), (x, y)
    assert b"/FontFile2" in data  # the TrueType font is embedded (as a subset)
    cr80 = tmp_path / "cr80.pdf"
    assert render_pdf(_cards(signer, 3), cr80, "cr80") == 6
    boxes = _media_boxes(cr80.read_bytes())
    assert len(boxes) == 6
    for box in boxes:
        assert abs(box[2] / MM - 85.60) < 0.1 and abs(box[3] / MM - 53.98) < 0.1


def test_crop_marks_stay_in_the_margins():
    cards = [(x, y, x + L.CARD_W, y + L.CARD_H) for x, y in L.a4_slots()]
    for x1, y1, x2, y2 in L.crop_marks():
        assert 5 * MM <= min(x1, x2) and max(x1, x2) <= L.A4_W - 5 * MM
        assert 5 * MM <= min(y1, y2) and max(y1, y2) <= L.A4_H - 5 * MM
        for cx1, cy1, cx2, cy2 in cards:  # never across a card
            assert max(x1, x2) <= cx1 or min(x1, x2) >= cx2 or max(y1, y2) <= cy1 or min(
                y1, y2) >= cy2


WORD_44 = "Wolfeschlegelsteinhausenbergerdorffvoralternw"[:44]
NAME_72 = "Muhammad Ridwan Syahputra bin Abdul Rahman Al-Ma'ruf Hasibuan Nasution D"
LONG_NAMES = [WORD_44, NAME_72, WORD_44.upper(), NAME_72.upper(), "X" * 90,
              "Wolfeschlegelsteinhausenbergerdorff" * 2,
              "Nur'aini Désirée Çelik-Ñúñez Purbaningrum Wolfeschlegelsteinhausenbergerdorff Siti"]


def _unbroken(lines: list[str]) -> str:
    """The name the lines show: a line ending in a hyphen the layout added joins the next."""
    out = ""
    for line in lines:
        out += line[:-1] if line.endswith("-") and not out.endswith(" ") else line + " "
    return out.strip()


@pytest.mark.parametrize("name", NAMES + LONG_NAMES)
def test_the_card_prints_the_whole_name_inside_its_area(name):
    assert len(WORD_44) == 44 and len(NAME_72) == 72 and " " not in WORD_44
    size, lines = L.fit_name(name, L.TEXT_BOX.w)
    assert L.NAME_FLOOR_PT <= size <= L.NAME_MAX_PT and 1 <= len(lines) <= 3
    for line in lines:
        assert L.text_width(line, L.FONT_BOLD, size) <= L.TEXT_BOX.w
    assert _unbroken(lines) == name and "…" not in "".join(lines)  # nothing lost
    if " " not in name and len(lines) > 1:  # one long word: even pieces, no lone tail
        assert max(map(len, lines)) - min(map(len, lines)) <= 2
    # Vertically: the first line below the "Nama" label, the last above "Nomor peserta".
    baselines = L.name_baselines(size, len(lines))
    assert baselines[0] - size * 0.76 >= L.LABEL_OFFSETS["name"] + 5 * 0.24 + 0.5
    assert baselines[-1] + size * 0.24 <= L.LABEL_OFFSETS["member_number"] - 5 * 0.76 - 2


def test_only_a_name_longer_than_three_lines_is_cut():
    size, lines = L.fit_name("WWWWWWWW " * 20, L.TEXT_BOX.w)
    assert size == L.NAME_FLOOR_PT and len(lines) == 3 and lines[-1].endswith("…")
    assert all(L.text_width(line, L.FONT_BOLD, size) <= L.TEXT_BOX.w for line in lines)


def test_long_names_on_the_printed_card(signer, tmp_path):
    cards = []
    for i, name in enumerate([WORD_44, NAME_72]):
        data = CardData(f"JMB-2026-PR-{i + 1:06d}", name, "pekerja_rentan", date(2026, 1, 5),
                        date(2026, 12, 31), 2000 + i, 1)
        cards.append(PrintCard(name, data.member_number, "Pekerja rentan", data.valid_from,
                               data.valid_until, data.serial, 1, issue_credential(*signer, data)))
    pdf = tmp_path / "long.pdf"
    render_pdf(cards, pdf, "cr80")
    for page, name in ((1, WORD_44), (3, NAME_72)):
        text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
                              capture_output=True, text=True, check=True).stdout
        lines = [line for line in text.splitlines() if line.strip()]
        start = lines.index("Nama") + 1
        end = lines.index("Nomor peserta")
        assert _unbroken(lines[start:end]) == name


def test_boxes_inside_the_safe_area_and_back_text_fits():
    safe = L.SAFE
    for box in (L.TEXT_BOX, L.QR_BOX):
        assert safe.x <= box.x and box.right <= safe.right
        assert safe.y <= box.y and box.top <= safe.top
    assert L.TEXT_BOX.right < L.QR_BOX.x
    # The back's text box leaves the strip at the foot for a KPJ line, inside the safe area.
    back = L.BACK_TEXT_BOX
    assert (back.x, back.w, back.top) == (safe.x, safe.w, safe.top)
    assert back.y - safe.y >= L.KPJ_PT * 1.5
    config = L.load_config()
    size, lines = L.fit_paragraphs(config.back_title, config.back_paragraphs,
                                   config.back_footer, back)
    assert size >= 4.5  # still readable
    for font, text, offset in lines:
        scale = 1.3 if font == L.FONT_BOLD and offset < size * 2 else 1.0
        assert L.text_width(text, font, size * scale) <= back.w
        assert offset <= back.h
    assert any("175" in text for _, text, _ in lines)
    assert any("Rp42 juta" in text for _, text, _ in lines)


@pytest.mark.parametrize("page", [1, 2])
def test_nothing_is_printed_in_the_5_mm_border_and_every_cut_has_its_marks(signer, tmp_path, page):
    """Measured on the rendered sheet (fronts and mirrored backs): the 5 mm that office printers
    do not print stays white, and at both ends of every cut line there is a mark inside it."""
    pdf = tmp_path / "a4.pdf"
    render_pdf(_cards(signer, 10), pdf, "a4")
    dpi = 200
    (png,) = _rasterise(pdf, tmp_path, [page], dpi=dpi)
    per_mm = dpi / 25.4
    with Image.open(png) as image:
        gray = image.convert("L")
    width, height = gray.size
    border = round(5 * per_mm)
    pixels = gray.load()
    dark = [(x, y) for y in range(height) for x in range(width)
            if (x < border or y < border or x >= width - border or y >= height - border)
            and pixels[x, y] < 160]
    assert dark == []
    # Where each cut line meets the margin, the band from 5 mm to the cards holds its mark.
    slots = L.a4_slots() if page == 1 else L.a4_back_slots()
    xs = sorted({x for x, _ in slots} | {x + L.CARD_W for x, _ in slots})
    ys = sorted({y for _, y in slots} | {y + L.CARD_H for _, y in slots})

    def dark_near(x_mm: float, y_mm: float) -> bool:
        cx, cy = round(x_mm * per_mm), round((297 - y_mm) * per_mm)
        return any(pixels[x, y] < 160 for x in range(cx - 2, cx + 3) for y in range(cy - 2, cy + 3))

    for x in xs:
        for y_mm in (ys[0] / MM - 2.5, ys[-1] / MM + 2.5):
            assert dark_near(x / MM, y_mm), (x / MM, y_mm)
    for y in ys:
        for x_mm in (xs[0] / MM - 2.5, xs[-1] / MM + 2.5):
            assert dark_near(x_mm, y / MM), (x_mm, y / MM)


@pytest.mark.parametrize("footer", [
    None,  # the shipped card.json
    "Informasi dan pengaduan: Call Center BPJS Ketenagakerjaan 175",
    "Pengaduan: hubungi Call Center 175 atau datang ke kantor cabang terdekat",
])
def test_the_call_centre_number_never_stands_alone(footer, tmp_path):
    config = L.load_config()
    footer = footer or config.back_footer
    for width_mm in range(30, 80):
        box = L.Box(0, 0, width_mm * MM, L.SAFE.h * 3)
        _, lines = L.fit_paragraphs(config.back_title, config.back_paragraphs, footer, box)
        for _, text, _ in lines:
            assert not re.fullmatch(r"[0-9]{1,4}[.,]?", text.strip()), (width_mm, text)
        assert any(re.search(r"\w[ \u00a0]175", text) for _, text, _ in lines), width_mm
    # On the printed back, "Call Center 175" is one line of text.
    pdf = tmp_path / "back.pdf"
    render_pdf([_card_for_back()], pdf, "cr80")
    text = subprocess.run(["pdftotext", "-f", "2", "-l", "2", "-layout", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert any("175" in line and re.search(r"\w\s+175", line) for line in text.splitlines())


def _card_for_back() -> PrintCard:
    key = generate_private_key()
    data = CardData("JMB-2026-PR-000001", "SITI", "pekerja_rentan", date(2026, 1, 1),
                    date(2026, 12, 31), 1, 1)
    return PrintCard("SITI", data.member_number, "Pekerja rentan", data.valid_from,
                     data.valid_until, 1, 1, issue_credential(key, key_id(key.public_key()), data))


def test_the_qr_quiet_zone_is_at_least_four_modules(signer, tmp_path):
    """CARD_QR_FORMAT.md §1: the symbol is 20 mm without its quiet zone, and 4 modules of the
    largest module size (version 6, 41 modules; no genuine credential is shorter) stay white:
    measured in the layout and in a 600 dpi rendering of a card."""
    from cards.qr import qr_matrix

    shortest = issue_credential(*signer, CardData("1", "A", "pekerja_rentan", date(2026, 1, 1),
                                                  date(2026, 1, 1), 1, 1))
    size, _ = qr_matrix(shortest)
    assert len(shortest) == 128 and (size - 17) // 4 == 6  # QR version 6: 17 + 4 * 6 modules
    module = L.QR_SIZE / 41
    gaps = {"text": L.QR_BOX.x - L.TEXT_BOX.right, "right edge": L.CARD_W - L.QR_BOX.right,
            "bottom edge": L.QR_BOX.y, "header": L.CARD_H - L.HEADER_H - L.QR_BOX.top}
    assert all(gap >= 4 * module for gap in gaps.values()), gaps
    pdf = tmp_path / "card.pdf"
    render_pdf(_cards(signer, 2)[1:], pdf, "cr80")
    dpi = 600
    (page,) = _rasterise(pdf, tmp_path, [1], dpi=dpi)
    px = dpi / 72
    with Image.open(page) as image:
        gray = image.convert("L")
        top = gray.height - (L.QR_BOX.top + 4 * module) * px
        zone = (int((L.QR_BOX.x - 4 * module) * px) + 1, int(top) + 1,
                int((L.QR_BOX.right + 4 * module) * px) - 1,
                int(gray.height - (L.QR_BOX.y - 4 * module) * px) - 1)
        inner = (int(L.QR_BOX.x * px) - 2, int(gray.height - L.QR_BOX.top * px) - 2,
                 int(L.QR_BOX.right * px) + 2, int(gray.height - L.QR_BOX.y * px) + 2)
        dark = [(x, y) for y in range(zone[1], zone[3]) for x in range(zone[0], zone[2])
                if not (inner[0] <= x <= inner[2] and inner[1] <= y <= inner[3])
                and gray.getpixel((x, y)) < 200]
    assert dark == []


def test_verify_image_valid_missing_and_damaged(signer, tmp_path):
    card = _cards(signer, 1)[0]
    pdf = tmp_path / "one.pdf"
    render_pdf([card], pdf, "cr80")
    subprocess.run(["pdftoppm", "-r", "300", "-f", "1", "-l", "1", "-png", str(pdf),
                    str(tmp_path / "c")], check=True)
    photo = next(tmp_path.glob("c-*.png"))
    context = VerifyContext({signer[1]: signer[0].public_key()})
    assert verify_image(photo, context, TODAY).valid
    # No QR code at all: the card's back side.
    blank = tmp_path / "blank.png"
    Image.new("L", (400, 300), 255).save(blank)
    verdict = verify_image(blank, context, TODAY)
    assert verdict.status is Status.UNREADABLE and "Tidak ada kode QR" in verdict.message
    # A damaged code: a stripe of ink over its middle.
    with Image.open(photo) as image:
        damaged = image.convert("L")
    px = 300 / 25.4
    qr_left = L.QR_BOX.x / MM * px
    qr_top = damaged.height - (L.QR_BOX.top / MM) * px
    side = L.QR_SIZE / MM * px
    ImageDraw.Draw(damaged).rectangle(
        (qr_left, qr_top + side * 0.3, qr_left + side, qr_top + side * 0.7), fill=0)
    damaged_path = tmp_path / "damaged.png"
    damaged.save(damaged_path)
    verdict = verify_image(damaged_path, context, TODAY)
    assert verdict.status is Status.UNREADABLE and not verdict.valid
    not_an_image = tmp_path / "note.png"
    not_an_image.write_text("bukan gambar")
    assert verify_image(not_an_image, context, TODAY).status is Status.UNREADABLE


def test_qr_codes_from_helper_processes_match_in_process(signer, monkeypatch):
    from cards import pdf
    from cards.qr import qr_operators

    texts = [card.qr_text for card in _cards(signer, 6)]
    monkeypatch.setattr(pdf, "PARALLEL_FROM", 1)
    with pdf._qr_stream(texts, workers=2) as stream:
        assert list(stream) == [qr_operators(t) for t in texts]
