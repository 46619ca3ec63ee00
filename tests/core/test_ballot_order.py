"""Ballot's hand-written comparisons must order exactly as (round, replica) tuples do."""

from __future__ import annotations

import itertools
import operator

import pytest

from paxlab.core.ids import Ballot

BALLOTS = [Ballot(r, p) for r in (0, 1, 2, 10) for p in (0, 1, 2)]
OPERATORS = [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]


@pytest.mark.parametrize("compare", OPERATORS, ids=lambda op: op.__name__)
def test_compares_like_a_tuple(compare: object) -> None:
    for a, b in itertools.product(BALLOTS, BALLOTS):
        for left in (a, Ballot(a.round, a.replica)):  # the same object, and an equal one
            assert compare(left, b) == compare((a.round, a.replica), (b.round, b.replica))  # type: ignore[operator]


def test_hash_sort_and_other_types() -> None:
    assert hash(Ballot(3, 1)) == hash(Ballot(3, 1)) and {Ballot(3, 1): 1}[Ballot(3, 1)] == 1
    assert sorted(reversed(BALLOTS)) == BALLOTS and max(BALLOTS) == Ballot(10, 2)
    assert Ballot(1, 1) != (1, 1)
    with pytest.raises(TypeError):
        _ = Ballot(1, 1) < (2, 0)  # type: ignore[operator]
