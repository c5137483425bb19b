"""Headless Debian Chromium driven by Selenium and the system chromedriver, for the dashboard's
browser test, its screenshots and its benchmark. Nothing is downloaded: Selenium Manager is never
asked, the browser and driver are the `chromium` and `chromium-driver` packages.

`Browser(download_dir)` starts Chromium with a fresh profile (deleted on exit), the flags that keep
it off the network (no sync, no component updates, no background networking), and the console
log captured, so a test can require that the page logged no error.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--disable-extensions", "--mute-audio",
         "--disable-dev-shm-usage")


def available() -> bool:
    return os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)


class Browser:
    def __init__(self, download_dir: Path | None, width: int = 1280, height: int = 900,
                 phone: bool = False):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile}")
        options.add_argument(f"--window-size={width},{height}")
        if phone:  # a desktop window is never narrower than 500 px: emulate a phone's screen
            options.add_experimental_option("mobileEmulation", {"deviceMetrics": {
                "width": width, "height": height, "pixelRatio": 2.0, "touch": True}})
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        if download_dir is not None:
            options.add_experimental_option("prefs", {
                "download.default_directory": str(download_dir),
                "download.prompt_for_download": False,
                "plugins.always_open_pdf_externally": True,
            })
        self.download_dir = download_dir
        self.driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        self.driver.set_page_load_timeout(60)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    # --- actions ------------------------------------------------------------------------

    def log_in(self, base_url: str, username: str, password: str, path: str = "/dashboard"):
        from selenium.webdriver.common.by import By

        self.driver.get(base_url + path)
        self.driver.find_element(By.ID, "username").send_keys(username)
        self.driver.find_element(By.ID, "password").send_keys(password)
        self.driver.find_element(By.ID, "login").click()
        self.wait_for(lambda: "/login" not in self.driver.current_url
                      or self.driver.find_elements(By.CSS_SELECTOR, ".error"))

    def wait_for(self, condition, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = condition()
            if found:
                return found
            time.sleep(0.05)
        raise TimeoutError("the page did not reach the expected state")

    def numbers(self) -> dict[str, str]:
        """{data-n key: the text shown} of every number on the page."""
        script = ("return Array.from(document.querySelectorAll('[data-n]'))"
                  ".map(e => [e.dataset.n, e.textContent.trim()]);")
        return dict(self.driver.execute_script(script))

    def page_ready(self, url: str) -> float:
        """Load `url` and return navigation start to the load event, in seconds."""
        self.driver.get(url)
        timing = self.driver.execute_script(
            "const t = performance.getEntriesByType('navigation')[0];"
            "return [t.startTime, t.loadEventEnd];")
        return (timing[1] - timing[0]) / 1000

    def console_errors(self) -> list[dict]:
        return [e for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]

    def downloaded(self, suffix: str, timeout: float = 60) -> Path:
        """The file ending in `suffix` once Chromium finished writing it."""
        def done():
            files = [p for p in self.download_dir.iterdir() if p.name.endswith(suffix)]
            return files[0] if files else None

        return self.wait_for(done, timeout)

    @property
    def cookies(self) -> dict[str, str]:
        return {c["name"]: c["value"] for c in self.driver.get_cookies()}

    def screenshot(self, path: Path, full_height: bool = True) -> None:
        if full_height:
            height = self.driver.execute_script("return document.documentElement.scrollHeight")
            width = self.driver.execute_script("return window.innerWidth")
            self.driver.set_window_size(width, min(height + 120, 12000))
        self.driver.save_screenshot(str(path))
