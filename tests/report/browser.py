"""The browser harness for the report page's tests: headless Debian chromium driven by
selenium, with a throwaway profile, a fixed window and no network services.

Where the browser is missing the tests skip and say how to install it, unless
PAXLAB_BROWSER_TESTS=required (CI sets it), where a missing browser is a failure: a CI
machine that silently skipped them would pass without ever opening a page.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

__all__ = ["INSTALL_HINT", "REQUIRED_ENV", "WINDOW", "chrome", "open_page", "png_colours",
           "wait_until"]

REQUIRED_ENV = "PAXLAB_BROWSER_TESTS"
INSTALL_HINT = ("install the browser with `apt-get install chromium chromium-driver` and "
                "selenium with `pip install selenium`")
WINDOW = (1400, 1000)
ARGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-default-apps", "--disable-extensions", "--hide-scrollbars",
        "--force-device-scale-factor=1", "--lang=en-US")


def _unavailable(reason: str) -> None:
    message = f"browser tests need chromium, chromedriver and selenium: {reason}; {INSTALL_HINT}"
    if os.environ.get(REQUIRED_ENV) == "required":
        pytest.fail(f"{message} ({REQUIRED_ENV}=required)", pytrace=False)
    pytest.skip(message)


def _find(names: tuple[str, ...]) -> str | None:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


@contextmanager
def chrome(window: tuple[int, int] = WINDOW) -> Iterator[Any]:
    """A headless chromium (selenium WebDriver) with a fresh profile; quit on exit."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed")
    browser = _find(("chromium", "chromium-browser", "google-chrome"))
    driver_path = _find(("chromedriver",))
    if browser is None or driver_path is None:
        _unavailable(("chromium" if browser is None else "chromedriver") + " was not found on PATH")
    with tempfile.TemporaryDirectory(prefix="paxlab-chrome-") as profile:
        options = Options()
        options.binary_location = browser
        for arg in ARGS:
            options.add_argument(arg)
        options.add_argument(f"--user-data-dir={profile}")
        options.add_argument(f"--window-size={window[0]},{window[1]}")
        try:
            driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
        except Exception as exc:  # selenium raises many kinds when the browser cannot start
            _unavailable(f"chromium did not start ({type(exc).__name__}: {str(exc)[:300]})")
        try:
            driver.set_window_size(*window)
            yield driver
        finally:
            driver.quit()


def wait_until(predicate: Callable[[], Any], timeout_s: float = 10.0, what: str = "") -> Any:
    """The predicate's first truthy value; fails the test at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what or predicate}")
        time.sleep(0.02)


def open_page(driver: Any, page: bytes, folder: Path, fragment: str = "",
              name: str = "report.html") -> Path:
    """Write `page` to folder/name, open it from file:// and wait for paxlab.ready."""
    path = folder / name
    path.write_bytes(page)
    driver.get(path.resolve().as_uri() + fragment)
    wait_until(lambda: driver.execute_script("return !!(window.paxlab && window.paxlab.ready)"),
               what="window.paxlab.ready")
    return path


def png_colours(png: bytes) -> tuple[int, float]:
    """(distinct colours, share of the commonest colour) of an 8-bit RGB(A) PNG: a blank
    screenshot has one colour covering nearly everything."""
    try:
        from PIL import Image
    except ImportError:
        return _png_colours_plain(png)
    import io

    image = Image.open(io.BytesIO(png)).convert("RGB")
    counts = image.getcolors(maxcolors=1 << 24) or []
    total = image.width * image.height
    return len(counts), max((c for c, _ in counts), default=total) / total


def _png_colours_plain(png: bytes) -> tuple[int, float]:
    """The same without Pillow: undo the PNG row filters by hand (slow, but only a fallback)."""
    pos, idat, width, height, channels = 8, b"", 0, 0, 4
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, _, colour_type = struct.unpack(">IIBB", data[:10])
            channels = {2: 3, 6: 4}[colour_type]
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    raw, stride, counts = zlib.decompress(idat), width * channels, {}
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, row = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = row[i - channels] if i >= channels else 0
            b, c = prev[i], prev[i - channels] if i >= channels else 0
            if kind == 1:
                row[i] = (row[i] + a) & 255
            elif kind == 2:
                row[i] = (row[i] + b) & 255
            elif kind == 3:
                row[i] = (row[i] + ((a + b) >> 1)) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for i in range(0, stride, channels):
            key = bytes(row[i:i + 3])
            counts[key] = counts.get(key, 0) + 1
        prev = row
    return len(counts), max(counts.values()) / (width * height)
