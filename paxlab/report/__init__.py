"""The offline HTML report of a results folder: a model of the run (`build_model`), drawn
by `paxlab.report.page` into one self-contained page (`write_report`), and PNG plots
(`paxlab.report.png`, with the optional matplotlib).

Only `cli` and `bench` import this package; it reads results folders through
`paxlab.results` and judges nothing itself beyond what `paxlab.check` says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from paxlab.report.model import build_model
from paxlab.results.format import write_atomic_bytes

__all__ = ["REPORT_FILE", "build_model", "write_report"]

REPORT_FILE = "report.html"


def write_report(run_dir: Path, out: Path | None = None,
                 model: dict[str, Any] | None = None) -> Path:
    """Build the model of `run_dir`, draw it, and write the page to `out` (default
    run_dir/report.html) atomically, so a reader never opens half a page. Returns the path.
    `model`: build_model(run_dir) when the caller has it already (it also draws PNGs)."""
    from paxlab.report.page import render_page  # the page's assets load only when drawn

    run_dir = Path(run_dir)
    path = Path(out) if out is not None else run_dir / REPORT_FILE
    write_atomic_bytes(path, render_page(model if model is not None else build_model(run_dir)))
    return path
