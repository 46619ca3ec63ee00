"""The verdict type every checker returns, so runner, report and sim speak one shape."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["CheckResult", "Verdict", "fail", "passed", "plain_table", "unknown"]

Verdict = Literal["pass", "fail", "unknown"]
"""unknown: the checker could not decide (its input was unusable). It never counts as pass."""


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome. details says what was checked (with counts) on pass, or exactly
    what broke (server, height, client, seq) otherwise, so nobody has to rerun to find out."""

    name: str
    verdict: Verdict
    details: str


def passed(name: str, details: str) -> CheckResult:
    return CheckResult(name, "pass", details)


def fail(name: str, problems: list[str], limit: int = 5) -> CheckResult:
    """A failure listing the first `limit` problems, one per line, and how many more."""
    shown = problems[:limit]
    if len(problems) > limit:
        shown.append(f"... and {len(problems) - limit} more")
    return CheckResult(name, "fail", "\n".join(shown))


def unknown(name: str, details: str) -> CheckResult:
    return CheckResult(name, "unknown", details)


def plain_table(rows: Sequence[Sequence[object]], headers: Sequence[str]) -> str:
    """Rows as left-aligned text columns, exactly as tabulate's "plain" format lays them
    out (a test compares the two). check/ imports only the standard library, so that an
    outside tool can run it as it is; hence this copy rather than tabulate itself."""
    cells = [[str(h) for h in headers], *([str(c) for c in row] for row in rows)]
    widths = [max(len(headers[i]) + 2, *(len(r[i]) for r in cells)) for i in range(len(headers))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells
    )
