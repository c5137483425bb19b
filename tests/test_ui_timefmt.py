"""One date format and local time everywhere in the window (01-12-2026, 01-12-2026 18:04 WIB)."""

import re
import time
from datetime import date
from pathlib import Path

import pytest

from ui import timefmt
from ui.registrations_model import format_timestamp


@pytest.fixture
def wib(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Jakarta")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_server_times_in_utc_are_shown_in_local_time(wib):
    assert timefmt.format_time("2026-12-01T11:04:43+00:00") == "01-12-2026 18:04"
    assert timefmt.format_time("2026-12-01T11:04:43Z") == "01-12-2026 18:04"
    assert timefmt.format_time("2026-12-01T18:04:43+07:00") == "01-12-2026 18:04"
    assert timefmt.format_time("2026-12-01T23:30:00+00:00") == "02-12-2026 06:30"  # next day
    assert timefmt.format_time("") == ""
    assert timefmt.zone_name() == "WIB"
    assert format_timestamp("2026-12-01T11:04:43+00:00") == "01-12-2026 18:04"


def test_dates_are_day_month_year():
    assert timefmt.format_date(date(2026, 12, 1)) == "01-12-2026"
    assert timefmt.format_date("2026-12-01") == "01-12-2026"
    assert timefmt.format_date("2026-12-01T11:04:43+00:00") == "01-12-2026"
    assert timefmt.format_date(None) == ""


def test_the_last_sync_is_shown_in_local_time(qtbot, worker, wib):
    from ui.sync_panel import SyncPanel

    done = []
    worker.call(lambda r: r.set_setting("last_sync_at", "2026-12-01T11:04:43+00:00"),
                on_result=done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=3000)
    panel = SyncPanel(worker)
    qtbot.addWidget(panel)
    try:
        qtbot.waitUntil(lambda: "18:04" in panel.last_sync_label.text(), timeout=3000)
        assert "01-12-2026 18:04 WIB" in panel.last_sync_label.text()
        assert "T11:04" not in panel.last_sync_label.text()
    finally:
        panel.shutdown()


def test_no_window_module_cuts_iso_text_into_a_date_or_time():
    """Raw ISO slices ("2026-12-01", "2026-12-01 11:04" in UTC) go through ui/timefmt.py."""
    pattern = re.compile(r"\[:1[06]\]|replace\(\s*['\"]T['\"]\s*,")
    modules = [p for p in Path("ui").glob("*.py") if p.name != "timefmt.py"]
    offenders = [f"{path.name}:{n}" for path in modules
                 for n, line in enumerate(path.read_text().splitlines(), 1)
                 if pattern.search(line)]
    assert offenders == []
