"""The dashboard in a real browser: headless Debian Chromium loads it from a live server on
loopback, logs in, applies a filter through the form, downloads the XLSX and the PDF, and the
numbers it rendered equal the independent SQL counts; the console shows no error.

Never skipped in CI (`CI` set): there a missing Chromium fails the test. `make test` installs
`chromium` and `chromium-driver` with apt when they are missing (Makefile, `sysdeps`).
"""

from __future__ import annotations

import io
import os

import openpyxl
import pytest
from dashboard_browser import Browser, available
from dashboard_util import PASSWORD, USERS, Fixture, expected_numbers, parse_shown

from server.rules import server_today

if not available():
    if os.environ.get("CI"):
        pytest.fail("Chromium is missing in CI: apt-get install chromium chromium-driver "
                    "(make sysdeps)", pytrace=False)
    pytest.skip("Chromium is not installed here (make sysdeps installs it)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def fx(tmp_path_factory, server_engine):
    fixture = Fixture(tmp_path_factory.mktemp("dashboard-browser") / "server", count=400)
    yield fixture
    fixture.stop()


def _shown(browser) -> dict:
    return {k: parse_shown(v) for k, v in browser.numbers().items()}


def test_log_in_filter_and_download_in_chromium(fx, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    downloads = tmp_path / "unduhan"
    downloads.mkdir()
    today = server_today()
    with Browser(downloads) as browser:
        browser.driver.execute_cdp_cmd("Page.setDownloadBehavior",
                                       {"behavior": "allow", "downloadPath": str(downloads)})
        browser.log_in(fx.url, USERS["disnaker"], PASSWORD)
        assert browser.driver.current_url == f"{fx.url}/dashboard"
        assert _shown(browser) == expected_numbers(fx.store, today.year, {}, today)

        kecamatan = fx.store.reader().execute(
            "SELECT kecamatan_code FROM registrations GROUP BY kecamatan_code "
            "ORDER BY COUNT(*) DESC LIMIT 1").fetchone()[0]
        Select(browser.driver.find_element(By.ID, "f-year")).select_by_value("2025")
        Select(browser.driver.find_element(By.ID, "f-kecamatan")).select_by_value(kecamatan)
        browser.driver.find_element(By.ID, "apply").click()
        browser.wait_for(lambda: "kecamatan=" in browser.driver.current_url)
        filters = {"year": 2025, "kecamatan": kecamatan}
        shown = _shown(browser)
        assert shown == expected_numbers(fx.store, 2025, filters, today)
        assert shown["funnel.recorded"] > 0

        browser.driver.find_element(By.ID, "xlsx").click()
        book = openpyxl.load_workbook(io.BytesIO(browser.downloaded(".xlsx").read_bytes()))
        summary = {r[0]: r[1] for r in book["Ringkasan"].iter_rows(values_only=True)}
        assert summary["Tercatat"] == shown["funnel.recorded"]
        assert summary["Kecamatan"] == kecamatan

        month = browser.driver.find_element(By.ID, "report-month")
        browser.driver.execute_script("arguments[0].value = '2025-11'", month)
        browser.driver.find_element(By.ID, "report").click()
        pdf = browser.downloaded(".pdf")
        assert pdf.name == "laporan-2025-11.pdf" and pdf.read_bytes().startswith(b"%PDF")

        browser.driver.get(f"{fx.url}/dashboard/people?year=2025")
        assert "Daftar pendaftar 2025" in browser.driver.page_source
        assert browser.console_errors() == []


def test_a_phone_sized_screen_needs_no_sideways_scrolling(fx):
    with Browser(None, width=390, height=844, phone=True) as browser:
        browser.log_in(fx.url, USERS["pimpinan"], PASSWORD)
        widths = browser.driver.execute_script(
            "return [document.documentElement.clientWidth, "
            "document.documentElement.scrollWidth]")
        assert widths[1] <= widths[0] + 2
        assert browser.console_errors() == []
