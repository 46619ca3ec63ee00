"""A PNG of a report page, taken by headless Chromium: the pictures in README and in issue
trackers come from the same page a user opens, made by our own command.

Chromium's own `--screenshot` flag is enough (no driver, no Python package): it loads the
page from `file://`, lets its script run, and writes what the window shows. A view such as
`failure` is the page's URL fragment, which the page scrolls to when it loads.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["BROWSER_NAMES", "ScreenshotError", "find_browser", "screenshot"]

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
"""Tried in order on PATH when PAXLAB_CHROMIUM does not name a browser."""

_INSTALL_HINT = ("install Chromium (Debian: apt-get install chromium) or set PAXLAB_CHROMIUM "
                 "to a Chromium or Chrome executable")

# Flags that keep a headless Chromium quiet on a machine with a closed network: no first-run
# page, no background fetches, no updates. --no-sandbox because CI runs as root.
_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run",
          "--hide-scrollbars", "--force-device-scale-factor=1")


class ScreenshotError(Exception):
    """No browser, or the browser did not write the picture: the message says which."""


def find_browser() -> str:
    """The Chromium to use: PAXLAB_CHROMIUM, else the first of BROWSER_NAMES on PATH."""
    named = os.environ.get("PAXLAB_CHROMIUM")
    if named:
        found = shutil.which(named)
        if found is None:
            raise ScreenshotError(f"PAXLAB_CHROMIUM={named!r} is not an executable; "
                                  f"{_INSTALL_HINT}")
        return found
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found is not None:
            return found
    raise ScreenshotError(f"no Chromium found (tried {', '.join(BROWSER_NAMES)}); "
                          f"{_INSTALL_HINT}")


def screenshot(page: Path, out: Path, *, view: str | None = None, width: int = 1400,
               height: int = 1600, timeout_s: float = 60.0) -> Path:
    """Write a `width` x `height` PNG of `page` (an HTML file) to `out`, scrolled to
    `view` (e.g. "failure", "messages", "chains") when given. Returns `out`."""
    browser = find_browser()
    url = page.resolve().as_uri() + (f"#{view}" if view else "")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="paxlab-chromium-") as profile:
        target = Path(profile) / "shot.png"
        command = [browser, *_FLAGS, f"--user-data-dir={profile}/profile",
                   f"--window-size={width},{height}",
                   # The page's script draws its canvases after load; give it virtual time.
                   "--virtual-time-budget=5000", f"--screenshot={target}", url]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s,
                                  check=False)
        except subprocess.TimeoutExpired as error:
            raise ScreenshotError(f"{browser} did not finish in {timeout_s:.0f} s") from error
        if not target.exists() or target.stat().st_size == 0:
            lines = [line for line in done.stderr.splitlines() if "dbus" not in line.lower()]
            tail = lines[-1] if lines else f"exit code {done.returncode}"
            raise ScreenshotError(f"{browser} wrote no screenshot of {page}: {tail}")
        shutil.move(str(target), out)
    return out
