"""`paxlab.report.screenshot`: a real headless Chromium writes a PNG of a page, scrolled to
a view; without a browser the error says how to get one."""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import pytest

from paxlab.report.screenshot import ScreenshotError, find_browser, screenshot


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def _need_browser() -> None:
    if shutil.which("chromium") is None and not os.environ.get("PAXLAB_CHROMIUM"):
        if os.environ.get("PAXLAB_BROWSER_TESTS") == "required":
            pytest.fail("PAXLAB_BROWSER_TESTS=required but chromium is not installed")
        pytest.skip("no chromium: apt-get install chromium chromium-driver")


@pytest.mark.browser
def test_a_page_becomes_a_png_of_the_asked_size_scrolled_to_its_view(tmp_path: Path) -> None:
    _need_browser()
    page = tmp_path / "page.html"
    # The page paints its background from the fragment it was opened with, so the picture
    # shows that the view reached the page and that its script ran before the shot.
    page.write_text("<html><body style='margin:0;height:3000px'><script>"
                    "document.body.style.background = location.hash === '#failure' ? "
                    "'rgb(200, 30, 30)' : 'rgb(30, 30, 200)';</script></body></html>")
    out = screenshot(page, tmp_path / "shots" / "failure.png", view="failure",
                     width=320, height=240)
    assert _png_size(out) == (320, 240)
    plain = screenshot(page, tmp_path / "plain.png", width=320, height=240)
    assert out.read_bytes() != plain.read_bytes()


def test_no_browser_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("PAXLAB_CHROMIUM", raising=False)
    with pytest.raises(ScreenshotError, match="apt-get install chromium"):
        find_browser()
    monkeypatch.setenv("PAXLAB_CHROMIUM", "no-such-browser")
    with pytest.raises(ScreenshotError, match="PAXLAB_CHROMIUM='no-such-browser'"):
        find_browser()
