"""Screenshots of the dashboard for the README, taken in headless Debian Chromium from a live
server on loopback holding fictitious registrations.

    .venv/bin/python tests/dashboard_screenshots.py docs/screenshots
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard_browser import Browser  # noqa: E402
from dashboard_util import PASSWORD, USERS, Fixture  # noqa: E402


def take(out: Path, count: int = 6000) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    made = []
    with tempfile.TemporaryDirectory() as tmp:
        fixture = Fixture(Path(tmp) / "server", count=count)
        try:
            with Browser(None, width=1280, height=900) as browser:
                browser.driver.get(f"{fixture.url}/dashboard")
                made.append(out / "dashboard_login.png")
                browser.screenshot(made[-1], full_height=False)
                browser.log_in(fixture.url, USERS["disnaker"], PASSWORD)
                made.append(out / "dashboard.png")
                browser.screenshot(made[-1])
                browser.driver.set_window_size(1280, 900)
                kecamatan = fixture.store.reader().execute(
                    "SELECT kecamatan_code FROM registrations LIMIT 1").fetchone()[0]
                browser.driver.get(f"{fixture.url}/dashboard/people?kecamatan={kecamatan}")
                made.append(out / "dashboard_people.png")
                browser.screenshot(made[-1], full_height=False)
            with Browser(None, width=390, height=844, phone=True) as phone:
                phone.log_in(fixture.url, USERS["pimpinan"], PASSWORD)
                made.append(out / "dashboard_phone.png")
                phone.screenshot(made[-1], full_height=False)
        finally:
            fixture.stop()
    return made


if __name__ == "__main__":
    for path in take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
