"""Every setting of the application, declared once: name, default, type, labels and help.

The settings window builds its form from SETTINGS; the registry stores values in the `settings`
table as JSON. Internal settings (written by the program itself, e.g. the device id) are declared
here too, so that nothing is stored under an undeclared name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    type: type
    label_id: str  # Indonesian label, shown first
    label_en: str
    help_id: str = ""
    choices: tuple = ()
    internal: bool = False  # set by the program, not shown in the settings form
    minimum: int | None = None


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "operator_name", "", str, "Nama petugas", "Operator name",
        "Nama petugas pendata yang sedang bekerja di perangkat ini.",
    ),
    Setting(
        "current_event_id", "", str, "Kegiatan saat ini", "Current event",
        "Kegiatan (misalnya Kampung Bahagia) yang diisikan otomatis pada pendaftaran baru.",
    ),
    Setting(
        "server_url", "", str, "Alamat server", "Server address",
        "Alamat server pusat untuk sinkronisasi, misalnya https://jamsos.jambikota.go.id.",
    ),
    Setting(
        "sync_batch_size", 200, int, "Ukuran paket sinkronisasi", "Sync batch size",
        "Jumlah pendaftaran yang dikirim dalam satu paket.", minimum=1,
    ),
    Setting(
        "idle_lock_minutes", 10, int, "Kunci layar setelah (menit)", "Lock after idle (minutes)",
        "Aplikasi terkunci jika tidak digunakan selama sekian menit.", minimum=1,
    ),
    Setting(
        "login_max_failures", 5, int, "Batas salah kata sandi", "Failed log-ins before lockout",
        "Setelah sekian kali berturut-turut salah masuk, akun petugas dikunci sementara.",
        minimum=1,
    ),
    Setting(
        "login_lockout_minutes", 15, int, "Lama akun dikunci (menit)",
        "Lockout time (minutes)",
        "Berapa lama akun petugas dikunci setelah terlalu sering salah masuk.", minimum=1,
    ),
    Setting(
        "language", "id", str, "Bahasa", "Language",
        "Bahasa tampilan aplikasi.", choices=("id", "en"),
    ),
    Setting(
        "device_id", "", str, "ID perangkat", "Device id",
        "Dibuat sekali saat basis data pertama kali dibuka.", internal=True,
    ),
    Setting(
        "nik_hash_key", "", str, "Kunci hash NIK", "NIK hash key",
        "Diberikan server; dipakai untuk memeriksa NIK ganda tanpa menyimpan NIK orang lain.",
        internal=True,
    ),
    Setting(
        "last_sync_at", "", str, "Sinkronisasi terakhir", "Last sync",
        "Waktu sinkronisasi terakhir yang berhasil.", internal=True,
    ),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def declared(name: str) -> Setting:
    """The declaration of `name`; KeyError for a name that was never declared."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"undeclared setting: {name}") from None


def coerce(name: str, value: Any) -> Any:
    """`value` as the declared type of `name`; ValueError (Indonesian) when it does not fit."""
    setting = declared(name)
    if setting.type is int:
        if isinstance(value, bool):
            raise ValueError(f"{setting.label_id}: harus berupa angka.")
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"{setting.label_id}: harus berupa angka.") from None
        if setting.minimum is not None and value < setting.minimum:
            raise ValueError(f"{setting.label_id}: paling kecil {setting.minimum}.")
    elif setting.type is str:
        value = "" if value is None else str(value)
    elif setting.type is bool:
        value = bool(value)
    if setting.choices and value not in setting.choices:
        allowed = ", ".join(map(str, setting.choices))
        raise ValueError(f"{setting.label_id}: pilih salah satu dari {allowed}.")
    return value
