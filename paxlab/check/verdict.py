"""The checkers' verdict type (re-exported from paxlab.results.verdict) and their text table.

`CheckResult`, `Verdict` and their constructors live in `paxlab.results.verdict`, because
summary.json holds them and results must not import check (check imports results). They
are re-exported here so every `from paxlab.check.verdict import ...` keeps working.
"""

from __future__ import annotations

from collections.abc import Sequence

from paxlab.results import verdict as _verdict

CheckResult = _verdict.CheckResult
Verdict = _verdict.Verdict
fail = _verdict.fail
passed = _verdict.passed
unknown = _verdict.unknown

__all__ = ["CheckResult", "Verdict", "fail", "passed", "plain_table", "unknown"]


def plain_table(rows: Sequence[Sequence[object]], headers: Sequence[str]) -> str:
    """Rows as left-aligned text columns, exactly as tabulate's "plain" format lays them
    out (a test compares the two). check/ imports only the standard library, so that an
    outside tool can run it as it is; hence this copy rather than tabulate itself."""
    cells = [[str(h) for h in headers], *([str(c) for c in row] for row in rows)]
    widths = [max(len(headers[i]) + 2, *(len(r[i]) for r in cells)) for i in range(len(headers))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells
    )
