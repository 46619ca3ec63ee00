"""The verdict type every checker returns: part of the results contract, not of a checker.

summary.json holds one `{name, verdict, details}` per check, and the report, the summary
writer, the lab, the simulator and the checkers all speak this one shape. It lives in
results (which check imports) rather than in check (which imports results), so the two
packages do not import each other; `paxlab.check` re-exports it under the old names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["CheckResult", "Verdict", "fail", "passed", "unknown"]

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
    """A pass, with what was checked."""
    return CheckResult(name, "pass", details)


def fail(name: str, problems: list[str], limit: int = 5) -> CheckResult:
    """A failure listing the first `limit` problems, one per line, and how many more."""
    shown = problems[:limit]
    if len(problems) > limit:
        shown.append(f"... and {len(problems) - limit} more")
    return CheckResult(name, "fail", "\n".join(shown))


def unknown(name: str, details: str) -> CheckResult:
    """The checker could not decide; never shown or counted as a pass."""
    return CheckResult(name, "unknown", details)
