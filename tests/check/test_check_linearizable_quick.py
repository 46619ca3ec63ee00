"""linearizable tries each key's search without the zones first (_new_search) and keeps it
when it finds a linearization within a few steps per op. These tests hold the check to
the search with zones from the start: the same verdicts, explanations and step counts.
The search also reads Op.is_searched and Op.is_required inline: held to the properties."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paxlab.check import linearizable
from paxlab.check.linearizable import _Search, check_linearizable
from paxlab.check.ops import Op
from paxlab.check.verdict import CheckResult
from tests.check.test_check_linearizable import History, _alternations, register_histories


def _zones_first(history: list[dict], monkeypatch: pytest.MonkeyPatch, **kwargs: float
                 ) -> CheckResult:  # fmt: skip
    """The check as it was: every key's search made with zones at once."""
    with monkeypatch.context() as m:
        m.setattr(linearizable, "_new_search", lambda ops, deadline: _Search(ops))
        return check_linearizable(history, **kwargs)


@settings(max_examples=200, deadline=None)
@given(register_histories(values=3, keys=2), st.randoms(use_true_random=False))
def test_quick_searches_change_no_answer(history: list[dict], rng: random.Random) -> None:
    reads = [e for e in history if e["type"] == "ok" and e["f"] == "get"]
    written = [e["value"] for e in history if e["f"] == "put"]
    if reads and rng.random() < 0.6:  # some histories fail, some of them by the zones
        rng.choice(reads)["value"] = rng.choice([None, "'never'", *written])
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert check_linearizable(history) == _zones_first(history, monkeypatch)


def test_keys_past_the_quick_steps_get_the_search_with_zones(monkeypatch) -> None:
    made: list[bool] = []
    real = _Search

    def counted(ops, prune=True, zones=True):  # type: ignore[no-untyped-def]
        made.append(zones)
        return real(ops, prune, zones)

    passing, failing = _alternations(5, 10), _alternations(5, 11)  # thousands of steps
    stale = History().put(1, "1", 0, 1).put(2, "2", 2, 3).get(3, "1", 4, 5).done()
    for history in (passing, failing, stale):
        expected = _zones_first(history, monkeypatch)
        monkeypatch.setattr(linearizable, "_Search", counted)
        made.clear()
        assert check_linearizable(history) == expected
        assert made[:2] == [False, True]  # the quick try, then the search as it was
        monkeypatch.setattr(linearizable, "_Search", real)
    assert check_linearizable(passing).verdict == "pass"
    quick = History().put(1, "1", 0, 1).get(2, "1", 2, 3).done()
    monkeypatch.setattr(linearizable, "_Search", counted)
    made.clear()
    assert check_linearizable(quick).verdict == "pass"
    assert made == [False]  # decided by the quick try alone


def test_out_of_time_is_still_unknown_with_the_quick_try(monkeypatch) -> None:
    history = _alternations(10, 20) + History().put(999, "1", 0, 1, key="'easy'").done()
    result = check_linearizable(history, budget_s=0.05)
    assert result == _zones_first(history, monkeypatch, budget_s=0.05)
    assert result.verdict == "unknown"


def test_the_search_picks_ops_as_op_says() -> None:
    ops = [Op(1, seq, f, "'x'", "1", 0, outcome, 5)
           for seq, (f, outcome) in enumerate((f, outcome) for f in ("put", "get", "cas")
                                              for outcome in ("ok", "fail", "info", "open"))]
    search = _Search(ops, zones=False)
    assert search.ops == [op for op in ops if op.is_searched]
    assert search.required == [op.is_required for op in search.ops]
