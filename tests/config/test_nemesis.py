"""The nemesis fault item: exact error texts, every problem reported, none spurious."""

from __future__ import annotations

from typing import Any

import pytest

from tests.config.helpers import ALL_KINDS, fault, problems

BAD_NEMESIS_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown nemesis kind", fault("nemesis", kinds=["crash", "explode"], until_ms=100),
     f"t.yaml: faults[0].kinds[1] = 'explode': expected one of: {ALL_KINDS}"),
    ("nemesis kinds empty", fault("nemesis", kinds=[], until_ms=100),
     f"t.yaml: faults[0].kinds = []: expected a non-empty list of kinds, from: {ALL_KINDS}"),
    ("nemesis kinds not a list", fault("nemesis", kinds="crash", until_ms=100),
     f"t.yaml: faults[0].kinds = 'crash': expected a non-empty list of kinds, from: "
     f"{ALL_KINDS}"),
    ("nemesis kind twice", fault("nemesis", kinds=["lossy", "lossy"], until_ms=100),
     "t.yaml: faults[0].kinds[1] = 'lossy': lossy is listed twice"),
    ("nemesis kind needs servers",
     {"cluster": {"servers": 2}, **fault("nemesis", kinds=["fail_link", "crash"], until_ms=9)},
     "t.yaml: faults[0].kinds[1] = 'crash': crash needs at least 3 servers "
     "(cluster.servers is 2)"),
    ("until_ms equal to at_ms", fault("nemesis", at_ms=100, kinds=["lossy"], until_ms=100),
     "t.yaml: faults[0].until_ms = 100: expected an integer > faults[0].at_ms (100)"),
    ("until_ms before at_ms", fault("nemesis", at_ms=100, kinds=["lossy"], until_ms=50),
     "t.yaml: faults[0].until_ms = 50: expected an integer > faults[0].at_ms (100)"),
    ("nemesis without until_ms", fault("nemesis", kinds=["lossy"]),
     "t.yaml: faults[0].until_ms: missing; expected an integer >= 0"),
    ("nemesis interval 0", fault("nemesis", kinds=["lossy"], until_ms=9, interval_ms=0),
     "t.yaml: faults[0].interval_ms = 0: expected an integer >= 1"),
    ("nemesis negative seed", fault("nemesis", kinds=["lossy"], until_ms=9, seed=-2),
     "t.yaml: faults[0].seed = -2: expected an integer >= 0 or null"),
]


@pytest.mark.parametrize(("data", "message"), [(d, m) for _, d, m in BAD_NEMESIS_INPUTS],
                         ids=[case for case, _, _ in BAD_NEMESIS_INPUTS])
def test_bad_input_gives_exact_message(data: dict[str, Any], message: str) -> None:
    assert problems(data)[0] == message


def test_invalid_at_ms_does_not_cause_a_spurious_until_ms_error() -> None:
    assert problems(fault("nemesis", at_ms=-5, kinds=["lossy"], until_ms=0)) == (
        "t.yaml: faults[0].at_ms = -5: expected an integer >= 0",)


def test_every_problem_of_a_nemesis_is_reported() -> None:
    found = problems({"cluster": {"servers": 2}, **fault(
        "nemesis", at_ms=10, kinds=["pause", "boom", "pause"], until_ms=10, interval_ms=0)})
    assert [line.split(" = ")[0] for line in found] == [
        "t.yaml: faults[0].interval_ms", "t.yaml: faults[0].kinds[0]",
        "t.yaml: faults[0].kinds[1]", "t.yaml: faults[0].kinds[2]", "t.yaml: faults[0].until_ms"]
