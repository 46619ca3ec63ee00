"""How long a report page takes to open in headless chromium, for `paxlab bench-report`.

What is timed: from the navigation's start to the moment the page sets `paxlab.ready`,
read from the page itself (`paxlab.readyMs` is `performance.now()` at ready, and
performance.now()'s zero is the navigation's start). That span holds reading the file from
file://, parsing the HTML with its inline model, compiling the script, JSON.parse of the
model, preparing the tables and drawing every panel once: the page answers input from
then on. The browser's start is not in it; the first paint, a frame later, is not either.

Each open is a fresh chromium with a fresh profile, so no open finds the script compiled
or the file cached by an earlier one: every figure is a first open, as a reader has it.
selenium and chromium are optional (the browser tests' harness, tests/report/browser.py,
does the same with pytest's skip); without them `available()` says what is missing and
how to install it, and the bench reports the rest.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["INSTALL_HINT", "OpenSample", "available", "open_once"]

INSTALL_HINT = ("apt-get install chromium chromium-driver (Debian's packages) and "
                "pip install selenium")
_ARGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--disable-extensions", "--window-size=1400,1000")
_READY_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class OpenSample:
    """One open: navigation start -> paxlab.ready, and the page's own split of it."""

    ready_s: float
    parse_ms: float | None  # JSON.parse of the model and its normalising (paxlab.drawMs.parse)
    prepare_ms: float | None  # tables and layout before the first draw
    errors: tuple[str, ...]  # paxlab.errors: script errors the page caught


def _browser_paths() -> tuple[str | None, str | None]:
    browser = next((p for n in ("chromium", "chromium-browser", "google-chrome")
                    if (p := shutil.which(n))), None)
    return browser, shutil.which("chromedriver")


def available() -> str | None:
    """None when a page can be opened here; otherwise what is missing."""
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed"
    browser, driver = _browser_paths()
    if browser is None:
        return "chromium was not found on PATH"
    if driver is None:
        return "chromedriver was not found on PATH"
    return None


def open_once(page: Path) -> OpenSample:
    """Start chromium, open `page` from file://, wait for paxlab.ready, quit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = _browser_paths()
    if browser is None or driver_path is None:
        raise RuntimeError(available() or "no browser")
    with tempfile.TemporaryDirectory(prefix="paxlab-bench-chrome-") as profile:
        options = Options()
        options.binary_location = browser
        for arg in (*_ARGS, f"--user-data-dir={profile}"):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
        try:
            driver.get(page.resolve().as_uri())
            _wait_ready(driver)
            figures: dict[str, Any] = driver.execute_script(
                "return {ready: paxlab.readyMs, draw: paxlab.drawMs || {}, "
                "errors: paxlab.errors || []}")
        finally:
            driver.quit()
    draw = figures["draw"]
    return OpenSample(ready_s=float(figures["ready"]) / 1000, parse_ms=draw.get("parse"),
                      prepare_ms=draw.get("prepare"),
                      errors=tuple(str(e) for e in figures["errors"]))


def _wait_ready(driver: Any) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while not driver.execute_script("return !!(window.paxlab && window.paxlab.ready)"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"paxlab.ready not set within {_READY_TIMEOUT_S:.0f} s")
        time.sleep(0.02)
