"""The verdict type every checker returns, so runner, report and sim speak one shape."""

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
    return CheckResult(name, "pass", details)


def fail(name: str, problems: list[str], limit: int = 5) -> CheckResult:
    """A failure listing the first `limit` problems, one per line, and how many more."""
    shown = problems[:limit]
    if len(problems) > limit:
        shown.append(f"... and {len(problems) - limit} more")
    return CheckResult(name, "fail", "\n".join(shown))


def unknown(name: str, details: str) -> CheckResult:
    return CheckResult(name, "unknown", details)
