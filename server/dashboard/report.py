"""The monthly report as a PDF (ReportLab): the month's activity, the funnel against targets, the
quota, coverage, places, who, budget and open work, with charts. Aggregates only, for any role.

The month's own figures (received, covers begun, kegiatan held) are that month's; the running
totals are the state on the day the report is made (for a past month: as of now, not as of the
month's end; the report says so).
"""

from __future__ import annotations

import calendar
import io
from datetime import date, datetime

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from cards.layout import FONT, FONT_BOLD, register_fonts
from server.dashboard import queries
from server.dashboard.filters import FIELDS, LABELS, Filters
from server.dashboard.fmt import MONTHS, day, decimal, number, rupiah
from server.store import Store
from storage.config import load_program_config

ACCENT = colors.HexColor("#1f6f8b")
SECOND = colors.HexColor("#99c24d")
WIDTH = A4[0] - 30 * mm


def parse_month(text: str) -> date:
    """'2026-11' -> date(2026, 11, 1); ValueError otherwise."""
    year, month = text.strip().split("-")
    if len(year) != 4 or len(month) != 2:
        raise ValueError(text)
    return date(int(year), int(month), 1)


def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=12)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5,
                                textColor=colors.HexColor("#5b6b75")),
        "title": ParagraphStyle("title", parent=base, fontName=FONT_BOLD, fontSize=15,
                                leading=19, textColor=ACCENT),
        "h2": ParagraphStyle("h2", parent=base, fontName=FONT_BOLD, fontSize=11.5, leading=15,
                             spaceBefore=8, spaceAfter=4),
    }


def _table(rows: list[list], widths: list[float], numeric_from: int = 1,
           total_row: bool = False) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    style = [
        ("FONT", (0, 0), (-1, -1), FONT, 8),
        ("FONT", (0, 0), (-1, 0), FONT_BOLD, 8),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#d5dde2")),
        ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if total_row:
        style.append(("FONT", (0, -1), (-1, -1), FONT_BOLD, 8))
    table.setStyle(TableStyle(style))
    return table


def _style_bars(chart, first: list[int], second: list[int], category_pt: float) -> None:
    """The two series' colours, the embedded font and a value axis from 0, for both charts."""
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = category_pt
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max([1, *first, *second])
    chart.bars[0].fillColor, chart.bars[1].fillColor = ACCENT, SECOND
    chart.bars.strokeColor = None


def _hbar_chart(labels: list[str], first: list[int], second: list[int], legend) -> Drawing:
    height = 14 * len(labels) + 44
    drawing = Drawing(WIDTH, height)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 120, 34, WIDTH - 150, height - 40
    chart.data = [list(reversed(first)), list(reversed(second))]
    chart.categoryAxis.categoryNames = list(reversed([lb[:24] for lb in labels]))
    _style_bars(chart, first, second, category_pt=7)
    chart.barSpacing, chart.groupSpacing = 0.5, 3
    drawing.add(chart)
    _legend(drawing, legend, 120, 4)
    return drawing


def _column_chart(labels: list[str], first: list[int], second: list[int], legend) -> Drawing:
    drawing = Drawing(WIDTH, 150)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 35, 35, WIDTH - 45, 100
    chart.data = [first or [0], second or [0]]
    chart.categoryAxis.categoryNames = [lb[5:] for lb in labels] or [""]
    _style_bars(chart, first, second, category_pt=6)
    chart.categoryAxis.labels.angle = 90
    chart.categoryAxis.labels.dy = -14
    drawing.add(chart)
    _legend(drawing, legend, 35, 2)
    return drawing


def _legend(drawing: Drawing, legend, x: float, y: float) -> None:
    from reportlab.graphics.shapes import Rect

    for i, (text, colour) in enumerate(zip(legend, (ACCENT, SECOND), strict=True)):
        drawing.add(Rect(x + i * 120, y, 7, 7, fillColor=colour, strokeColor=None))
        drawing.add(String(x + i * 120 + 10, y, text, fontName=FONT, fontSize=7))


def monthly_report(store: Store, first: date, f: Filters, today: date) -> bytes:
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    f.year = first.year
    as_of = min(today, last)
    data = queries.overview(store, f, as_of)
    month = queries.month_activity(store, f, first, last)
    s = _styles()
    story = _head(s, f, first, today, as_of)
    story += _month_part(s, month, first)
    story += _funnel_part(s, data)
    story += _area_part(s, data)
    story += _who_part(s, data)
    story += _budget_part(s, data)
    story += _claims_part(s, data)
    story += _work_part(s, data)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=14 * mm, bottomMargin=14 * mm,
                            title=f"Laporan bulanan {MONTHS[first.month - 1]} {first.year}",
                            author="Pemerintah Kota Jambi", creator="Jamsos Kota Jambi")
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return out.getvalue()


def _footer(canvas, doc) -> None:
    canvas.saveState()
    canvas.setFont(FONT, 7)
    canvas.drawRightString(A4[0] - 15 * mm, 8 * mm, f"Halaman {doc.page}")
    canvas.drawString(15 * mm, 8 * mm, "Jamsos Kota Jambi · laporan bulanan program")
    canvas.restoreState()


def _head(s, f: Filters, first: date, today: date, as_of: date) -> list:
    config = load_program_config()
    month_name = f"{MONTHS[first.month - 1]} {first.year}"
    filters = [f"{LABELS[n]}: {getattr(f, n)}" for n in FIELDS[1:] if getattr(f, n)]
    story = [
        Paragraph(f"Laporan Bulanan {month_name}", s["title"]),
        Paragraph(f"{config.programme} — {config.city}", s["base"]),
        Paragraph(f"Dibuat {day(today.isoformat())} pukul {datetime.now():%H:%M}. Angka bulan "
                  f"ini: 1–{calendar.monthrange(first.year, first.month)[1]} {month_name}. "
                  f"Angka kumulatif: keadaan per {day(as_of.isoformat())} (tahun program "
                  f"{first.year}).", s["small"]),
    ]
    if filters:
        story.append(Paragraph("Saringan: " + "; ".join(filters), s["small"]))
    for note in f.notes:
        story.append(Paragraph(note, s["small"]))
    return story


def _month_part(s, month: dict, first: date) -> list:
    story = [Paragraph(f"Bulan {MONTHS[first.month - 1]} {first.year}", s["h2"]),
             _table([["", "Jumlah"],
                     ["Pendaftaran diterima server", number(month["received"])],
                     ["Peserta mulai dijamin", number(month["cover_started"])],
                     ["Kegiatan pendataan", number(len(month["kegiatan"]))]],
                    [WIDTH * 0.6, WIDTH * 0.2])]
    if month["kegiatan"]:
        rows = [["Kegiatan", "Tanggal", "Tempat", "Pendaftaran"]]
        rows += [[k["name"][:50], day(k["held_on"]), k["place"], number(k["recorded"])]
                 for k in month["kegiatan"]]
        story += [Spacer(1, 4), _table(rows, [WIDTH * 0.45, WIDTH * 0.2, WIDTH * 0.2,
                                              WIDTH * 0.15], numeric_from=3)]
    return story


def _funnel_part(s, d: dict) -> list:
    rows = [["Tahap", "Jumlah", "Target*"]]
    rows += [[st["label"], number(st["count"]), number(st["target"])]
             for st in d["funnel"]["stages"]]
    rows.append(["Ditolak", number(d["funnel"]["rejected"]), ""])
    quota = [["Kelompok", "Kuota*", "Didanai", "Sisa"]]
    quota += [[c["label"] + (" (bersama)" if c["shared"] else ""), number(c["places"]),
               number(c["funded"]), number(c["left"])] for c in d["quota"]["cohorts"]]
    story = [Paragraph("Alur pendaftaran dan kuota", s["h2"]),
             _table(rows, [WIDTH * 0.5, WIDTH * 0.2, WIDTH * 0.2]), Spacer(1, 5),
             _table(quota, [WIDTH * 0.45, WIDTH * 0.18, WIDTH * 0.18, WIDTH * 0.18])]
    cov = d["coverage"]
    if cov["known"]:
        story.append(Paragraph(
            f"Cakupan: {decimal(cov['base_pct'], 1)}%* dari {number(cov['workers'])} pekerja "
            f"kota ({cov['as_of']}) sudah tercakup; program menambah "
            f"<b>{decimal(cov['adds_pp'])} poin persen</b> ({number(cov['funded'])} peserta "
            f"didanai), menjadi {decimal(cov['total_pct'])}%.", s["base"]))
    story.append(Paragraph("* Angka dari konfigurasi program, belum diverifikasi dengan sumber "
                           "resmi.", s["small"]))
    return story


def _area_part(s, d: dict) -> list:
    areas = d["areas"]
    rows = [["Kecamatan", "Tercatat", "Terverifikasi", "Didanai", "Kartu diserahkan",
             "Tambahan pp"]]
    widths = [WIDTH * 0.25, WIDTH * 0.13, WIDTH * 0.15, WIDTH * 0.13, WIDTH * 0.19,
              WIDTH * 0.15]
    for r in [*areas["kecamatan"], areas["total"]]:
        rows.append([r["name"], number(r["recorded"]), number(r["verified"]),
                     number(r["funded"]), number(r["card_handed_over"]),
                     decimal(r["adds_pp"])])
    chart = _hbar_chart([r["name"] for r in areas["kecamatan"]],
                        [r["recorded"] for r in areas["kecamatan"]],
                        [r["funded"] for r in areas["kecamatan"]], ("Tercatat", "Didanai"))
    return [Paragraph("Per kecamatan", s["h2"]),
            KeepTogether([chart] if areas["kecamatan"] else []),
            _table(rows, widths, total_row=True)]


def _who_part(s, d: dict) -> list:
    story = [Paragraph("Per kelompok, jenis kelamin, usia dan pekerjaan", s["h2"])]
    for key, title in (("cohort", "Kelompok"), ("sex", "Jenis kelamin"), ("age", "Usia"),
                       ("occupation", "Pekerjaan")):
        rows = [[title, "Tercatat", "Terverifikasi", "Didanai"]]
        rows += [[r["name"], number(r["recorded"]), number(r["verified"]), number(r["funded"])]
                 for r in d["dims"][key]]
        story += [_table(rows, [WIDTH * 0.46] + [WIDTH * 0.18] * 3), Spacer(1, 4)]
    weeks = d["weeks"][-26:]
    if weeks:
        story.append(KeepTogether([
            Paragraph("Per minggu (26 minggu terakhir)", s["h2"]),
            _column_chart([w["week"] for w in weeks], [w["received"] for w in weeks],
                          [w["cover_started"] for w in weeks],
                          ("Diterima server", "Mulai dijamin"))]))
    return story


def _budget_part(s, d: dict) -> list:
    b = d["budget"]
    rows = [["Kelompok", "Peserta didanai", "Komitmen setahun", f"Terpakai s.d. {b['as_of']}"]]
    rows += [[c["label"], number(c["members"]), rupiah(c["commitment"]), rupiah(c["spent"])]
             for c in b["cohorts"]]
    rows.append(["Jumlah", number(b["total"]["members"]), rupiah(b["total"]["commitment"]),
                 rupiah(b["total"]["spent"])])
    return [KeepTogether([
                Paragraph(f"Anggaran iuran JKK + JKM (APBD) {b['year']}", s["h2"]),
                _table(rows, [WIDTH * 0.34, WIDTH * 0.18, WIDTH * 0.24, WIDTH * 0.24],
                       total_row=True)]),
            Paragraph("Iuran bulanan menurut penghasilan yang dilaporkan dan versi konfigurasi "
                      "program yang berlaku pada bulan itu, dikurangi potongan yang berlaku, × "
                      "bulan masa jaminan." + ("" if b["verified"] else
                                               " Tarif belum diverifikasi."), s["small"])]


# The rows of two count tables: (key in the overview's numbers, label).
CLAIM_COUNTS = (("deaths", "Kematian dicatat"), ("submitted", "Klaim diajukan ke BPJS"),
                ("paid", "Klaim dibayar"), ("handed_over", "Santunan diserahkan ke ahli waris"))
OPEN_WORK = (("waiting", "Menunggu verifikasi"), ("duplicates", "Kemungkinan duplikat terbuka"),
             ("conflicts", "Konflik data terbuka"),
             ("verified_unfunded", "Terverifikasi, belum didanai"))


def _count_rows(heading: str, values: dict, labels) -> list[list[str]]:
    """A heading row, then a row per (key, label) with its number."""
    return [[heading, "Jumlah"], *([label, number(values[key])] for key, label in labels)]


def _claims_part(s, d: dict) -> list:
    c = d["claims"]
    rows = _count_rows("Klaim JKM", c, CLAIM_COUNTS)
    rows.append(["Santunan dibayar", rupiah(c["paid_rupiah"])])
    return [KeepTogether([
                Paragraph(f"Klaim JKM (kematian tahun {d['year']})", s["h2"]),
                _table(rows, [WIDTH * 0.6, WIDTH * 0.25])]),
            Paragraph("Menurut tahun kematian, untuk seluruh kota; klaim yang dibayar termasuk "
                      "yang sudah diserahkan.", s["small"])]


def _work_part(s, d: dict) -> list:
    rows = _count_rows("Menunggu verifikator", d["open"], OPEN_WORK)
    rejected = [["Alasan penolakan", "Jumlah"]]
    rejected += [[r["name"], number(r["count"])] for r in d["rejections"]]
    fresh = d["freshness"]
    return [Paragraph("Pekerjaan terbuka, penolakan, perangkat", s["h2"]),
            _table(rows, [WIDTH * 0.6, WIDTH * 0.2]), Spacer(1, 4),
            _table(rejected, [WIDTH * 0.6, WIDTH * 0.2]), Spacer(1, 4),
            Paragraph(f"{number(fresh['silent'])} dari {number(len(fresh['devices']))} perangkat "
                      f"tidak sinkron lebih dari 7 hari (sebelumnya mengirim "
                      f"{number(fresh['silent_records'])} pendaftaran). Saat terakhir sinkron, "
                      f"perangkat itu menyatakan {number(fresh['silent_waiting'])} pendaftaran "
                      "masih menunggu dikirim"
                      + (f" ({number(fresh['silent_unreported'])} perangkat diam belum pernah "
                         "melaporkan antreannya)" if fresh["silent_unreported"] else "") + ".",
                      s["base"])]
