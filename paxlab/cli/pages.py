"""The report page every run ends with: `paxlab run`, `paxlab sim --out` and `paxlab cluster
check` write RUN_DIR/report.html and print its path last, where the eye lands.

The page is a view of the results folder, never part of the verdict: if drawing it fails,
the run keeps its exit code and the line says why (`paxlab report RUN --html` retries).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["page_line", "write_page"]


def write_page(run_dir: Path) -> Path:
    """Write run_dir/report.html; raises what the report raises."""
    from paxlab.report import write_report  # the report's modules load only when drawn

    return write_report(run_dir)


def page_line(run_dir: Path) -> str:
    """Write the page and return the line to print: its path, or why there is none."""
    try:
        path = write_page(run_dir)
    except Exception as error:  # a view must not cost the run its verdict
        return (f"report: not written ({type(error).__name__}: {error}); "
                f"retry with: paxlab report {run_dir} --html")
    return f"report: {path} (open it in a browser; it works offline)"
