"""`make screenshots` redoes every picture of the README, in a real X window (Xvfb, xcb)."""

import re
import subprocess
from pathlib import Path

from ui.screenshots import PICTURES

ROOT = Path(__file__).resolve().parent.parent


def test_every_readme_picture_has_a_maker():
    shown = set(re.findall(r"docs/screenshots/([\w.-]+\.png)", (ROOT / "README.md").read_text()))
    dashboard = ROOT / "tests" / "dashboard_screenshots.py"
    by_chromium = set(re.findall(r'"(dashboard[\w-]*\.png)"', dashboard.read_text())
                      ) if dashboard.exists() else set()
    assert shown - set(PICTURES) - by_chromium == set()


def test_make_screenshots_uses_xvfb_and_the_xcb_platform():
    recipe = subprocess.run(["make", "-n", "-B", "screenshots"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout
    assert "Xvfb" in recipe and "-screen 0 1366x768x24" in recipe
    assert "QT_QPA_PLATFORM=xcb" in recipe and "QT_QPA_PLATFORM=offscreen" not in recipe
    assert "-m ui.screenshots docs/screenshots" in recipe
    assert "apt-get install -y -qq xvfb" in recipe  # installed when missing, as poppler is
