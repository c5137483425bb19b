"""The dashboard's tables as one XLSX workbook (openpyxl, write-only: small memory, fast).

One sheet per table of the page, numbers as numbers (not text), so that an official can sum and
chart them in a spreadsheet. Aggregates only: no sheet names a person.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from server.dashboard.filters import FIELDS, LABELS, Filters

STAGE_COLUMNS = (("recorded", "Tercatat"), ("verified", "Terverifikasi"), ("funded", "Didanai"))
AREA_COLUMNS = (("code", "Kode"), ("name", "Nama"), ("recorded", "Tercatat"),
                ("received", "Diterima"), ("verified", "Terverifikasi"), ("funded", "Didanai"),
                ("card_printed", "Kartu dicetak"), ("card_handed_over", "Kartu diserahkan"),
                ("rejected", "Ditolak"), ("workers", "Angkatan kerja"),
                ("coverage_pct", "Cakupan %"), ("adds_pp", "Tambahan poin persen"))


def workbook(data: dict, f: Filters, device_names: bool = True) -> bytes:
    """The workbook; `device_names=False` (pimpinan) numbers the devices instead of naming them:
    a device's name may name the person who uses it."""
    book = Workbook(write_only=True)
    bold = Font(bold=True)

    def sheet(title: str, header: list[str], rows) -> None:
        ws = book.create_sheet(title[:31])
        cells = []
        for text in header:
            cell = WriteOnlyCell(ws, value=text)
            cell.font = bold
            cells.append(cell)
        ws.append(cells)
        for row in rows:
            ws.append(list(row))

    sheet("Ringkasan", ["Tahap", "Jumlah", "Target"], _summary(data, f))
    sheet("Kuota", ["Kelompok", "Kuota", "Didanai", "Sisa", "Kuota bersama"],
          [(c["label"], c["places"], c["funded"], c["left"], "ya" if c["shared"] else "")
           for c in data["quota"]["cohorts"]])
    areas = data["areas"]
    for title, rows in (("Kecamatan", [*areas["kecamatan"], areas["total"]]),
                        ("Kelurahan", areas["kelurahan"])):
        sheet(title, [h for _, h in AREA_COLUMNS],
              [[r.get(k) for k, _ in AREA_COLUMNS] for r in rows])
    for key, title in (("occupation", "Pekerjaan"), ("cohort", "Kelompok"),
                       ("sex", "Jenis kelamin"), ("age", "Usia")):
        sheet(title, ["Kode", title, *(h for _, h in STAGE_COLUMNS)],
              [[r["code"], r["name"], *(r[k] for k, _ in STAGE_COLUMNS)]
               for r in data["dims"][key]])
    sheet("Kegiatan", ["Kegiatan", "Tanggal", "Tempat", *(h for _, h in STAGE_COLUMNS)],
          [[k["name"], k["held_on"], k["place"], *(k[c] for c, _ in STAGE_COLUMNS)]
           for k in data["kegiatan"]])
    sheet("Per minggu", ["Minggu mulai (Senin)", "Diterima server", "Mulai dijamin"],
          [[w["week"], w["received"], w["cover_started"]] for w in data["weeks"]])
    sheet("Penolakan", ["Kode", "Alasan", "Jumlah"],
          [[r["code"], r["name"], r["count"]] for r in data["rejections"]])
    work = data["open"]
    sheet("Menunggu verifikator", ["Pekerjaan", "Jumlah"], [
        ("Menunggu verifikasi", work["waiting"]),
        ("Kemungkinan duplikat terbuka", work["duplicates"]),
        ("Konflik data terbuka", work["conflicts"]),
        ("Terverifikasi, belum didanai", work["verified_unfunded"])])
    budget = data["budget"]
    sheet("Anggaran", ["Kelompok", "Peserta didanai", "Komitmen setahun (Rp)",
                       f"Terpakai s.d. {budget['as_of']} (Rp)"],
          [*([c["label"], c["members"], c["commitment"], c["spent"]]
             for c in budget["cohorts"]),
           ["Jumlah", budget["total"]["members"], budget["total"]["commitment"],
            budget["total"]["spent"]]])
    claims = data["claims"]
    sheet(f"Klaim JKM {data['year']}", ["Klaim JKM (menurut tahun kematian)", "Jumlah"], [
        ("Kematian dicatat", claims["deaths"]),
        ("Klaim diajukan ke BPJS", claims["submitted"]),
        ("Klaim dibayar", claims["paid"]),
        ("Santunan diserahkan ke ahli waris", claims["handed_over"]),
        ("Santunan dibayar (Rp)", claims["paid_rupiah"])])
    sheet("Perangkat", ["Perangkat", "Peran", "Kirim terakhir", "Ambil terakhir", "Hari diam",
                        "Pendaftaran dikirim", "Diam > 7 hari", "Menunggu di perangkat",
                        "Dilaporkan pada"],
          [[d["name"] if device_names else f"Perangkat {i}", d["role"], d["last_push"],
            d["last_pull"], d["days_silent"], d["records"], "ya" if d["silent"] else "",
            d["waiting"], d["waiting_at"]]
           for i, d in enumerate(data["freshness"]["devices"], start=1)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _summary(data: dict, f: Filters) -> list[list]:
    rows = [["Tahun program", f.year, None]]
    rows += [[LABELS[name], getattr(f, name), None] for name in FIELDS[1:] if getattr(f, name)]
    rows += [[note, None, None] for note in f.notes]
    rows += [[s["label"], s["count"], s["target"]] for s in data["funnel"]["stages"]]
    rows.append(["Ditolak", data["funnel"]["rejected"], None])
    cov = data["coverage"]
    if cov["known"]:
        rows += [["Angkatan kerja kota", cov["workers"], None],
                 ["Tercakup sebelumnya (%)", cov["base_pct"], None],
                 ["Tambahan dari program (poin persen)", cov["adds_pp"], None],
                 ["Cakupan dengan program (%)", cov["total_pct"], None]]
    return rows
