"""Checkers that judge a finished run from its records alone: chains valid and identical,
KV equal to the replay, acknowledged writes committed exactly once and never lost, reads of
written values only, and a linearizable history.

They import only paxlab.results and the standard library, never paxlab.core, so a core
bug cannot hide from them and an outside tool can check a run the same way.
"""

from paxlab.check.explain import Explanation, explain_linearizability
from paxlab.check.runner import CHECK_NAMES, check_records, check_run, checks_passed
from paxlab.check.verdict import CheckResult, Verdict

__all__ = [
    "CHECK_NAMES",
    "CheckResult",
    "Explanation",
    "Verdict",
    "check_records",
    "check_run",
    "checks_passed",
    "explain_linearizability",
]
