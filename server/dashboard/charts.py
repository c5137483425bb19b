"""Bar charts drawn on the server as inline SVG: no script, nothing to download, printable.

The numbers shown beside the bars are the table's numbers; the charts add no number of their
own (so the tests that check every number check the tables).
"""

from __future__ import annotations

from markupsafe import Markup, escape

from server.dashboard.fmt import number

BAR_COLOURS = ("#1f6f8b", "#99c24d")  # the main series, the second series


def hbars(rows: list[tuple[str, int, int | None]], title: str, legend=("", "")) -> Markup:
    """Horizontal bars, one row per (label, value, optional second value drawn inside)."""
    if not rows:
        return Markup("")
    top = max(max(v, w or 0) for _, v, w in rows) or 1
    label_w, bar_w, row_h = 190, 300, 22
    height = row_h * len(rows) + (26 if legend[0] else 6)
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {label_w + bar_w + 80} {height}" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for i, (label, value, second) in enumerate(rows):
        y = i * row_h + 4
        short = label if len(label) <= 28 else label[:27] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">'
                     f'{escape(short)}</text>')
        width = round(bar_w * value / top)
        parts.append(f'<rect x="{label_w}" y="{y}" width="{width}" height="{row_h - 6}" '
                     f'fill="{BAR_COLOURS[0]}"/>')
        if second:
            inner = round(bar_w * second / top)
            parts.append(f'<rect x="{label_w}" y="{y + 5}" width="{inner}" '
                         f'height="{row_h - 16}" fill="{BAR_COLOURS[1]}"/>')
        parts.append(f'<text x="{label_w + width + 4}" y="{y + 14}">{number(value)}</text>')
    if legend[0]:
        y = row_h * len(rows) + 12
        parts.append(_legend(label_w, y, legend))
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(points: list[tuple[str, int, int]], title: str, legend=("", "")) -> Markup:
    """Vertical columns over time: (label, value, second value) per point."""
    if not points:
        return Markup("")
    top = max(max(v, w) for _, v, w in points) or 1
    width, height, left, bottom = 640, 200, 40, 30
    step = (width - left) / len(points)
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height + 20}" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    plot = height - bottom
    parts.append(f'<text x="{left - 4}" y="12" text-anchor="end">{number(top)}</text>')
    parts.append(f'<line x1="{left}" y1="{plot}" x2="{width}" y2="{plot}" stroke="#888"/>')
    for i, (label, value, second) in enumerate(points):
        x = left + i * step
        for j, v in enumerate((value, second)):
            h = plot * v / top
            parts.append(f'<rect x="{x + 1 + j * step * 0.45:.1f}" y="{plot - h:.1f}" '
                         f'width="{max(step * 0.42, 1):.1f}" height="{h:.1f}" '
                         f'fill="{BAR_COLOURS[j]}"/>')
        if len(points) <= 12 or i % max(1, len(points) // 8) == 0:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{plot + 14}" text-anchor="middle" '
                         f'class="small">{escape(label[5:])}</text>')
    parts.append(_legend(left, height + 8, legend))
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend(x: int, y: int, legend) -> str:
    out = []
    for j, text in enumerate(legend):
        if text:
            out.append(f'<rect x="{x + j * 200}" y="{y - 9}" width="10" height="10" '
                       f'fill="{BAR_COLOURS[j]}"/><text x="{x + j * 200 + 14}" y="{y}">'
                       f'{escape(text)}</text>')
    return "".join(out)
