"""Every text the window shows, Indonesian first, English as a translation.

One table keyed by a stable name keeps the wording in one place and lets the operator choose
the language (setting `language`, applied when the window opens): the window's own texts here,
each part's in its data file under ui/texts/, and the programme's words (reasons, cohorts,
statuses) by code through `term`, their Indonesian being the shared vocabulary's. No widget
shows a text that does not come from here (tests/test_ui_english.py). `t(key, **values)`
formats the text with `str.format`.
"""

from __future__ import annotations

from ui import texts

LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
_language = "id"

TEXT: dict[str, tuple[str, str]] = {
    # window
    "app.title": ("Pendaftaran Pekerja Rentan — Kota Jambi", "Vulnerable Worker Registration — Jambi City"),
    "tab.form": ("Pendaftaran", "Registration"),
    "tab.list": ("Daftar Peserta", "Registered Workers"),
    "tab.cards": ("Kartu", "Cards"),
    "tab.card_check": ("Periksa kartu", "Check a card"),
    "tab.verifier": ("Verifikasi", "Verification"),
    "tab.claims": ("Klaim && PDP", "Claims && PDP"),  # "&&": a "&" in a tab title
    "tab.sync": ("Sinkronisasi", "Sync"),
    "menu.file": ("&Berkas", "&File"),
    "menu.demo": ("Buat data &contoh…", "Create &demo data…"),
    "menu.quit": ("&Keluar", "&Quit"),
    "menu.language": ("&Bahasa", "&Language"),
    "menu.help": ("B&antuan", "&Help"),
    "menu.about": ("&Tentang aplikasi", "&About"),
    "about.text": (
        "Pendaftaran pekerja rentan untuk perlindungan BPJS Ketenagakerjaan (JKK dan JKM) "
        "yang iurannya dibayar Pemerintah Kota Jambi. Data disimpan di perangkat ini dan "
        "dikirim ke server kota saat sinkronisasi.",
        "Registration of vulnerable workers for BPJS Ketenagakerjaan cover (JKK and JKM) paid "
        "by the City of Jambi. Data is kept on this device and sent to the city server on sync.",
    ),
    "about.version": ("Versi {version}", "Version {version}"),
    "help.own_guide": ("&Panduan untuk peran saya", "&Guide for my role"),
    "language.restart": (
        "Bahasa akan berganti setelah aplikasi dibuka ulang.",
        "The language changes after the app is restarted.",
    ),
    # status bar
    "status.today": ("Hari ini: {n}", "Today: {n}"),
    "status.total": ("Total: {n}", "Total: {n}"),
    "status.waiting": ("Menunggu sinkron: {n}", "Waiting for sync: {n}"),
    "status.busy": ("Menyimpan…", "Saving…"),
    # form fields
    "f.nik": ("NIK", "NIK"),
    "f.full_name": ("Nama lengkap (sesuai KTP)", "Full name (as on ID card)"),
    "f.birth_place": ("Tempat lahir", "Place of birth"),
    "f.birth_date": ("Tanggal lahir", "Date of birth"),
    "f.sex": ("Jenis kelamin", "Sex"),
    "f.street": ("Alamat (jalan, nomor)", "Address (street, number)"),
    "f.rt_rw": ("RT / RW", "RT / RW"),
    "f.kecamatan": ("Kecamatan", "District (kecamatan)"),
    "f.kelurahan": ("Kelurahan", "Village (kelurahan)"),
    "f.postal_code": ("Kode pos", "Postal code"),
    "f.phone": ("Nomor HP", "Phone"),
    "f.occupation": ("Pekerjaan", "Occupation"),
    "f.cohort": ("Kelompok", "Cohort"),
    "f.income": ("Penghasilan per bulan (Rp)", "Monthly income (Rp)"),
    "f.heirs": ("Ahli waris", "Heirs"),
    "f.consent": ("Persetujuan", "Consent"),
    "f.event": ("Kegiatan", "Event"),
    "f.notes": ("Catatan", "Notes"),
    "ph.nik": ("16 angka", "16 digits"),
    "ph.date": ("HH-BB-TTTT", "DD-MM-YYYY"),
    "ph.income": ("contoh: 1.500.000", "e.g. 1.500.000"),
    "ph.phone": ("08…", "08…"),
    "ph.search_occupation": ("ketik untuk mencari…", "type to search…"),
    "sex.none": ("— pilih —", "— choose —"),
    "sex.L": ("Laki-laki", "Male"),
    "sex.P": ("Perempuan", "Female"),
    "choose": ("— pilih —", "— choose —"),
    "section.person": ("Data pribadi", "Personal data"),
    "section.address": ("Alamat", "Address"),
    "section.work": ("Pekerjaan", "Work"),
    "section.heirs": ("Ahli waris", "Heirs"),
    "section.consent": ("Persetujuan dan kegiatan", "Consent and event"),
    # NIK verdicts
    "nik.ok": ("NIK sah — lahir {date}, {sex}", "Valid NIK — born {date}, {sex}"),
    "nik.check": ("NIK terbaca (lahir {date}, {sex}), tetapi perlu diperiksa:", "NIK readable (born {date}, {sex}), but needs a look:"),
    "nik.typing": ("{n} dari 16 angka", "{n} of 16 digits"),
    "nik.checking": ("Memeriksa apakah sudah terdaftar…", "Checking whether already registered…"),
    # heirs
    "heir.name": ("Nama ahli waris", "Heir's name"),
    "heir.relationship": ("Hubungan", "Relationship"),
    "heir.phone": ("Nomor HP", "Phone"),
    "heir.nik": ("NIK (boleh kosong)", "NIK (optional)"),
    "heir.nik_ph": ("boleh kosong", "optional"),
    "heir.add": ("+ Tambah ahli waris", "+ Add heir"),
    "heir.remove": ("Hapus", "Remove"),
    # consent and event
    "consent.check": (
        "Peserta sudah membaca/dibacakan dan menyetujui pernyataan persetujuan",
        "The worker has read (or heard) and agrees to the consent statement",
    ),
    "consent.version": ("Versi teks: {version}", "Text version: {version}"),
    "consent.view": ("Lihat teks…", "View text…"),
    "consent.title": ("Teks persetujuan", "Consent text"),
    "consent.missing": ("(teks persetujuan belum diatur)", "(no consent text configured)"),
    "event.none": ("— tanpa kegiatan —", "— no event —"),
    "event.new": ("Kegiatan baru…", "New event…"),
    "event.new.title": ("Kegiatan baru", "New event"),
    "event.new.prompt": (
        "Nama kegiatan (contoh: Kampung Bahagia RT 05 Kenali Asam Bawah):",
        "Event name (e.g. Kampung Bahagia RT 05 Kenali Asam Bawah):",
    ),
    # warnings and saving
    "warn.title": ("Periksa peringatan berikut sebelum menyimpan:", "Check these warnings before saving:"),
    "warn.confirm": (
        "Saya sudah memeriksa peringatan di atas dan tetap ingin menyimpan",
        "I have checked the warnings above and want to save anyway",
    ),
    "warn.need_confirm": (
        "Ada peringatan yang perlu dikonfirmasi. Centang kotak konfirmasi lalu simpan lagi.",
        "There are warnings to confirm. Tick the confirmation box and save again.",
    ),
    "err.fix": ("Data belum bisa disimpan. Perbaiki isian yang ditandai merah.", "Not saved yet. Fix the fields marked in red."),
    "err.date": ("Tanggal tidak dikenali. Tulis seperti 17-08-1985.", "Date not recognised. Write it like 17-08-1985."),
    "err.income": ("Penghasilan harus ditulis dengan angka, contoh 1.500.000.", "Income must be written in digits, e.g. 1.500.000."),
    "err.occupation": ("Tidak ada pekerjaan yang memuat \"{text}\". Ketik bagian lain dari namanya atau pilih dari daftar.", "No occupation contains \"{text}\". Type another part of its name or choose from the list."),
    "btn.save": ("&Simpan", "&Save"),
    "btn.save_correction": ("&Simpan koreksi", "&Save correction"),
    "btn.clear": ("&Kosongkan", "C&lear"),
    "btn.revert": ("&Batalkan perubahan", "&Undo changes"),
    "saved.new": ("Tersimpan: {name} ({nik}). Silakan isi peserta berikutnya.", "Saved: {name} ({nik}). Ready for the next worker."),
    "saved.correction": ("Koreksi tersimpan: {name} ({nik}), versi {version}.", "Correction saved: {name} ({nik}), version {version}."),
    "clear.confirm": ("Kosongkan formulir? Isian yang belum disimpan akan dibuang.", "Clear the form? Unsaved input will be discarded."),
    # drafts
    "draft.title": ("Isian belum disimpan", "Unsaved input"),
    "draft.offer": (
        "Ada isian yang belum disimpan dari {when}{who}. Lanjutkan?",
        "There is unsaved input from {when}{who}. Continue with it?",
    ),
    "draft.when": ("{day} pukul {clock}", "{day} at {clock}"),
    "draft.continue": ("&Lanjutkan", "&Continue"),
    "draft.discard": ("&Buang", "&Discard"),
    # list
    "list.search": ("Cari nama atau awal NIK…", "Search name or NIK prefix…"),
    "list.all_kelurahan": ("Semua kelurahan", "All kelurahan"),
    "list.all_events": ("Semua kegiatan", "All events"),
    "list.all_status": ("Semua status", "All statuses"),
    "list.count": ("{n} peserta", "{n} workers"),
    "list.open": ("&Buka", "&Open"),
    "col.nik": ("NIK", "NIK"),
    "col.full_name": ("Nama", "Name"),
    "col.birth_date": ("Tgl lahir", "Born"),
    "col.kelurahan": ("Kelurahan", "Kelurahan"),
    "col.event": ("Kegiatan", "Event"),
    "col.status": ("Status", "Status"),
    "col.sync": ("Sinkron", "Sync"),
    "col.kpj": ("No. KPJ", "KPJ no."),
    "col.updated": ("Diperbarui", "Updated"),
    "sync.pending": ("Menunggu", "Waiting"),
    "sync.synced": ("Terkirim", "Sent"),
    "sync.conflict": ("Konflik", "Conflict"),
    "sync.rejected": ("Ditolak server", "Rejected by server"),
    # record dialog
    "record.title": ("Data peserta — {name}", "Worker record — {name}"),
    "record.history": ("Riwayat versi", "Version history"),
    "record.version": ("Versi {version} — {when} oleh {who}", "Version {version} — {when} by {who}"),
    "record.status": ("Status: {status}", "Status: {status}"),
    "record.reason": ("Alasan: {reason}", "Reason: {reason}"),
    "record.member": ("Nomor peserta: {number}", "Member number: {number}"),
    "record.kpj": ("No. KPJ BPJS Ketenagakerjaan: {kpj} (mulai {start})",
                   "BPJS Ketenagakerjaan KPJ no.: {kpj} (from {start})"),
    "record.not_found": ("Data peserta tidak ditemukan.", "Record not found."),
    "record.read_only": ("Hanya baca: peran Anda tidak dapat mengoreksi pendaftaran.",
                         "Read only: your role cannot correct registrations."),
    # long work
    "import.title": ("Impor daftar", "Import a list"),
    "import.filter": ("Daftar CSV atau Excel (*.csv *.xlsx *.xlsm);;Semua berkas (*)",
                      "CSV or Excel lists (*.csv *.xlsx *.xlsm);;All files (*)"),
    "import.explain": (
        "Setiap baris diperiksa dengan aturan yang sama seperti formulir dan disimpan per "
        "kelompok 500 baris. Baris yang ditolak dilaporkan dengan alasannya; NIK yang sudah "
        "terdaftar tidak didaftarkan dua kali. Kegiatan yang dipilih di formulir dicatat untuk "
        "setiap baris.",
        "Every row is checked with the same rules as the form and saved in groups of 500 rows. "
        "Refused rows are reported with their reasons; a NIK already registered is not "
        "registered twice. The kegiatan chosen in the form is recorded for every row."),
    "import.reading": ("Membaca berkas…", "Reading the file…"),
    "import.dialog_title": ("Impor daftar — {name}", "Import a list — {name}"),
    "import.source": ("Lembar '{sheet}', judul kolom di baris {line}, {rows} baris data.",
                      "Sheet '{sheet}', headings on line {line}, {rows} data rows."),
    "import.source_csv": ("Berkas CSV, {rows} baris data.", "CSV file, {rows} data rows."),
    "import.mapping_help": (
        "Pilih untuk setiap kolom berkas, kolom pendaftaran mana yang diisinya. Kolom bertanda "
        "* wajib.",
        "Choose for each column of the file which registration column it fills. Columns marked "
        "* are required."),
    "import.mapping_kept": ("Pemetaan kolom dari impor sebelumnya dengan judul kolom yang sama.",
                            "Column mapping from an earlier import with the same headings."),
    "import.col_source": ("Kolom di berkas", "Column in the file"),
    "import.col_sample": ("Contoh isi", "Sample values"),
    "import.col_target": ("Diimpor sebagai", "Imported as"),
    "import.not_imported": ("— tidak diimpor —", "— not imported —"),
    "import.missing": ("Kolom wajib belum dipilih: {names}.", "Required columns not chosen: {names}."),
    "import.twice": ("Dipilih untuk lebih dari satu kolom: {names}.",
                     "Chosen for more than one column: {names}."),
    "import.ready": ("Semua kolom wajib sudah dipilih.", "Every required column is chosen."),
    "import.dry_run": ("&Uji coba", "&Dry run"),
    "import.start": ("&Impor", "&Import"),
    "import.checking": ("Memeriksa baris (uji coba)…", "Checking rows (dry run)…"),
    "import.dry_result": (
        "Uji coba, belum ada yang disimpan — {would} dari {total} baris akan didaftarkan:\n"
        "{new} baru · {already} sudah terdaftar (NIK sama) · {similar} mungkin duplikat (nama "
        "mirip, tanggal lahir sama) · {warnings} menunggu peringatan diterima · {refused} "
        "ditolak",
        "Dry run, nothing saved yet — {would} of {total} rows would be registered:\n"
        "{new} new · {already} already registered (same NIK) · {similar} possible duplicates "
        "(similar name, same birth date) · {warnings} waiting for warnings to be accepted · "
        "{refused} refused"),
    "import.counts": (
        "{new} baru · {already} sudah terdaftar · {similar} mungkin duplikat · {warnings} "
        "menunggu peringatan diterima · {refused} ditolak",
        "{new} new · {already} already registered · {similar} possible duplicates · "
        "{warnings} waiting for warnings to be accepted · {refused} refused"),
    "import.accept_warnings": (
        "Simpan juga baris yang hanya berisi peringatan (mis. nama mirip)",
        "Also save rows that only have warnings (e.g. a similar name)"),
    "import.progress": ("Mengimpor pendaftaran…", "Importing registrations…"),
    "import.done": ("{n} dari {total} baris didaftarkan.", "{n} of {total} rows registered."),
    "import.with_warnings": ("{n} di antaranya dengan peringatan yang diterima.",
                             "{n} of them with accepted warnings."),
    "import.skipped": ("{n} baris tidak didaftarkan:", "{n} rows not registered:"),
    "import.row": ("baris {line} ({nik} {name}): {reason}", "line {line} ({nik} {name}): {reason}"),
    "import.save_report": ("Simpan daftar yang ditolak…", "Save the refused rows…"),
    "menu.import": ("&Impor daftar (CSV/XLSX)…", "&Import a list (CSV/XLSX)…"),
    "error.import": ("Berkas tidak dapat diimpor.\n\n{detail}",
                     "The file cannot be imported.\n\n{detail}"),
    "demo.title": ("Data contoh", "Demo data"),
    "demo.prompt": ("Berapa pekerja fiktif yang dibuat?", "How many fictitious workers?"),
    "demo.progress": ("Membuat data contoh…", "Creating demo data…"),
    "demo.done": ("{n} data contoh dibuat.", "{n} demo records created."),
    "progress.cancel": ("Batal", "Cancel"),
    "progress.cancelled": ("Dibatalkan. Data yang sudah tersimpan tetap ada.", "Cancelled. What was already saved is kept."),
    # operators: log-in, first run, lock screen, management
    "login.title": ("Masuk — Jamsos Jambi", "Log in — Jamsos Jambi"),
    "login.heading": ("Masuk sebagai petugas", "Log in as an operator"),
    "login.username": ("Nama pengguna", "Username"),
    "login.password": ("Kata sandi", "Password"),
    "login.submit": ("&Masuk", "&Log in"),
    "login.quit": ("&Tutup aplikasi", "&Quit"),
    "login.checking": ("Memeriksa…", "Checking…"),
    "login.demo_hint": (
        "Mode demo: akun contoh {users}, semuanya dengan kata sandi {password}",
        "Demo mode: sample accounts {users}, all with the password {password}",
    ),
    "first.title": ("Akun admin pertama", "First admin account"),
    "first.intro": (
        "Belum ada akun petugas di perangkat ini. Buat akun admin pertama: akun ini dipakai "
        "untuk masuk dan untuk menambah petugas lain. Ingat kata sandinya; tanpa kata sandi "
        "data di perangkat ini tidak dapat dibuka dari aplikasi.",
        "There is no operator account on this device yet. Create the first admin account: it "
        "is used to log in and to add other operators. Remember its password; without it the "
        "data on this device cannot be opened from the app.",
    ),
    "first.create": ("&Buat akun dan masuk", "&Create account and log in"),
    "op.display_name": ("Nama lengkap", "Full name"),
    "op.role": ("Peran", "Role"),
    "op.password_again": ("Ulangi kata sandi", "Repeat password"),
    "op.old_password": ("Kata sandi lama", "Current password"),
    "op.new_password": ("Kata sandi baru", "New password"),
    "op.password_rule": ("Paling sedikit {n} karakter.", "At least {n} characters."),
    "lock.title": ("Layar terkunci", "Screen locked"),
    "lock.text": (
        "Aplikasi dikunci karena tidak digunakan, atau dikunci oleh petugas. Isian yang belum "
        "disimpan tetap ada. Masukkan kata sandi {name}, atau masuk sebagai petugas lain.",
        "The app was locked after a pause, or by the operator. Unsaved input is kept. Enter "
        "{name}'s password, or log in as another operator.",
    ),
    "lock.logged_out": (
        "Petugas sudah keluar. Isian yang belum disimpan tetap ada. Masuk untuk melanjutkan.",
        "The operator has logged out. Unsaved input is kept. Log in to continue.",
    ),
    "menu.operator": ("&Petugas", "&Operator"),
    "menu.lock": ("&Kunci layar", "&Lock screen"),
    "menu.logout": ("&Keluar akun", "Log &out"),
    "menu.password": ("&Ganti kata sandi…", "&Change password…"),
    "menu.operators": ("K&elola petugas…", "&Manage operators…"),
    "menu.dashboard": ("&Dasbor program (peramban)…", "Programme &dashboard (browser)…"),
    "dashboard.no_server": ("Perangkat ini belum terhubung ke server pusat. Daftarkan perangkat "
                            "dulu di tab Sinkronisasi.",
                            "This device is not connected to the central server yet. Enrol it "
                            "first in the Sync tab."),
    "status.operator": ("Petugas: {name} ({role})", "Operator: {name} ({role})"),
    "ops.title": ("Kelola petugas", "Manage operators"),
    "ops.add": ("&Tambah petugas…", "&Add operator…"),
    "ops.reset": ("&Atur ulang kata sandi…", "&Reset password…"),
    "ops.unlock": ("&Buka kunci", "&Unlock"),
    "ops.deactivate": ("&Nonaktifkan", "&Deactivate"),
    "ops.close": ("T&utup", "&Close"),
    "ops.col.username": ("Nama pengguna", "Username"),
    "ops.col.name": ("Nama", "Name"),
    "ops.col.role": ("Peran", "Role"),
    "ops.col.state": ("Keadaan", "State"),
    "ops.active": ("Aktif", "Active"),
    "ops.inactive": ("Nonaktif", "Inactive"),
    "ops.locked": ("Terkunci sampai {clock}", "Locked until {clock}"),
    "ops.failures": ("Aktif, {n} kali salah", "Active, {n} failed"),
    "ops.add.title": ("Tambah petugas", "Add operator"),
    "ops.reset.title": ("Atur ulang kata sandi {name}", "Reset {name}'s password"),
    "ops.deactivate.confirm": (
        "Nonaktifkan akun {name}? Akun ini tidak dapat masuk lagi; data yang pernah "
        "disimpannya tetap ada.",
        "Deactivate {name}'s account? It can no longer log in; what it saved is kept.",
    ),
    "ops.done.add": ("Akun {name} dibuat.", "Account {name} created."),
    "ops.done.reset": ("Kata sandi {name} diganti.", "{name}'s password was changed."),
    "ops.done.unlock": ("Kunci akun {name} dibuka.", "{name}'s account was unlocked."),
    "ops.done.deactivate": ("Akun {name} dinonaktifkan.", "{name}'s account was deactivated."),
    "ops.choose": ("Pilih satu petugas di daftar.", "Choose an operator in the list."),
    "ops.admin_only": ("Hanya admin yang dapat mengelola petugas.", "Only an admin can manage operators."),
    "password.title": ("Ganti kata sandi", "Change password"),
    "password.done": ("Kata sandi diganti.", "Password changed."),
    "btn.ok": ("&Simpan", "&Save"),
    "btn.cancel": ("&Batal", "&Cancel"),
    # errors
    "error.title": ("Terjadi masalah", "Something went wrong"),
    "error.storage": (
        "Data tidak dapat disimpan atau dibaca.\n\n{detail}\n\nIsian di layar tidak hilang; "
        "coba lagi setelah masalahnya diatasi.",
        "The data could not be saved or read.\n\n{detail}\n\nWhat is on screen is kept; "
        "try again once the problem is solved.",
    ),
    "error.unexpected": (
        "Terjadi kesalahan yang tidak terduga ({kind}). Isian di layar tidak hilang.",
        "An unexpected error occurred ({kind}). What is on screen is kept.",
    ),
    "error.open": (
        "Basis data tidak dapat dibuka.\n\n{detail}",
        "The database could not be opened.\n\n{detail}",
    ),
}


def _join(*tables: texts.Table) -> None:
    """Add the tables of the window's parts (ui/texts/); a key is never defined twice."""
    for table in tables:
        twice = TEXT.keys() & table.keys()
        if twice:
            raise KeyError(f"texts defined twice: {sorted(twice)}")
        TEXT.update(table)


_join(*texts.tables())


def set_language(language: str) -> None:
    """Choose the language for texts made from now on ("id" or "en"; anything else → "id")."""
    global _language
    _language = language if language in LANGUAGES else "id"


def language() -> str:
    return _language


def t(key: str, **values: object) -> str:
    """The text for `key` in the current language, formatted with `values`."""
    indonesian, english = TEXT[key]
    text = english if _language == "en" else indonesian
    return text.format(**values) if values else text


def term(kind: str, code: str, fallback: str = "") -> str:
    """A programme word by its code (`kind` "reject", "reprint", "cohort", "status",
    "relationship" or "step"; ui/texts/terms.py); an unknown code shows `fallback` (the
    server's own label) or the code."""
    key = f"{kind}.{code}"
    return t(key) if key in TEXT else (fallback or code)


def plain(key: str, **values: object) -> str:
    """The text without Qt's `&` mnemonic marker (for messages and tests)."""
    return t(key, **values).replace("&", "")
