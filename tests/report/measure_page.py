"""The page's budget figures on a synthetic run of 10,000 ops and about 100,000 messages:
`python -m tests.report.measure_page [--ops N] [--keep FILE]`.

Prints the HTML's size, the time render_page takes, and the time from navigation to
window.paxlab.ready in headless chromium (performance.now() at ready, whose zero is the
navigation's start), plus how long a zoom and a filter take once the page is open.
Budgets (issue 13): under 10 MB, interactive under 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from paxlab.report.page import render_page
from tests.report.browser import chrome, open_page
from tests.report.fixtures.models import big_model

__all__ = ["main", "measure"]


def measure(ops: int = 10_000, opens: int = 3, keep: Path | None = None) -> dict:
    """The figures as a dict (sizes in bytes, times in ms)."""
    model = big_model(ops)
    started = time.perf_counter()
    page = render_page(model)
    render_ms = (time.perf_counter() - started) * 1000
    ready, zoom, filt = [], [], []
    with tempfile.TemporaryDirectory() as tmp, chrome() as driver:
        for _ in range(opens):
            open_page(driver, page, Path(tmp))
            ready.append(driver.execute_script("return paxlab.readyMs"))
            errors = driver.execute_script("return paxlab.errors")
            if errors:
                raise AssertionError(f"script errors: {errors}")
            end = model["run"]["end_us"]
            zoom.append(driver.execute_script(
                "const t = performance.now(); paxlab.setView(arguments[0], arguments[1]);"
                "paxlab.setView(0, arguments[2]); return (performance.now() - t) / 2",
                end // 2, end // 2 + 200_000, end))
            filt.append(driver.execute_script(
                "const t = performance.now(); paxlab.filter({kinds: ['Accept']});"
                "paxlab.filter({kinds: null}); return (performance.now() - t) / 2"))
            stats = driver.execute_script("return paxlab.stats()")
    if keep is not None:
        keep.write_bytes(page)
    return {"ops": len(model["ops"]["f"]), "messages": model["messages"]["count"],
            "html_bytes": len(page), "render_ms": round(render_ms),
            "ready_ms": round(statistics.median(ready)), "ready_ms_all": [round(r) for r in ready],
            "zoom_ms": round(statistics.median(zoom)), "filter_ms": round(statistics.median(filt)),
            "aggregated_arrows": stats["arrows"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, default=None, help="also write the page here")
    args = parser.parse_args()
    r = measure(args.ops, keep=args.keep)
    print(f"{r['ops']:,} ops, {r['messages']:,} messages: page {r['html_bytes'] / 1e6:.2f} MB "
          f"(budget 10 MB), render_page {r['render_ms']} ms, navigation to paxlab.ready "
          f"{r['ready_ms']} ms median of {r['ready_ms_all']} (budget 2000 ms); "
          f"zoom {r['zoom_ms']} ms, filter {r['filter_ms']} ms; "
          f"{r['aggregated_arrows']:,} aggregated arrows at the whole-run view")


if __name__ == "__main__":
    main()
