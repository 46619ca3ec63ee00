"""The role is stored once and changes only through become_<role>, which refuses an
illegal move; the dispatch table sends each message only to the roles that handle it."""

from __future__ import annotations

import pytest

from paxlab.core import Ballot, Role
from paxlab.core.leader import CandidateState, LeaderState
from paxlab.core.messages import Accepted, HeartbeatAck, Promise
from paxlab.core.replica_base import FollowerState
from tests.core.scripted import Cluster, booted, env


def test_role_leader_and_candidate_are_read_from_one_role_state() -> None:
    c = Cluster()
    assert type(c[0]._state) is FollowerState
    assert (c[0].role, c[0].leader, c[0].candidate) == (Role.FOLLOWER, None, None)
    c.now_ms = 1000
    c.timeout(0)
    assert type(c[0]._state) is CandidateState and c[0].candidate is c[0]._state
    assert c[0].role is Role.CANDIDATE and c[0].leader is None
    c.flush()
    assert type(c[0]._state) is LeaderState and c[0].leader is c[0]._state
    assert c[0].role is Role.LEADER and c[0].candidate is None


def test_illegal_role_moves_are_refused() -> None:
    follower = booted(0)
    with pytest.raises(AssertionError, match="already a follower"):
        follower.become_follower(None)
    with pytest.raises(AssertionError, match="only a candidate becomes leader"):
        follower.become_leader([])
    c = Cluster()
    c.elect(0)
    with pytest.raises(AssertionError, match="a leader does not run"):
        c[0].become_candidate()


def test_a_follower_ignores_what_only_a_candidate_or_leader_handles() -> None:
    follower = booted(1)
    before = (follower.role, follower.acceptor.promised, follower.commit_index)
    promise = Promise(ballot=follower.acceptor.promised or _ballot(), from_slot=0,
                      commit_index=0, accepted=(), decided=())
    for message in (promise, Accepted(ballot=_ballot(), slot=0, block_hash="ab" * 32),
                    HeartbeatAck(ballot=_ballot(), commit_index=0)):
        out = follower.step(10, env("s0", "s1", message))
        assert out.to_send == () and out.to_persist == () and out.trace == ()
    assert (follower.role, follower.acceptor.promised, follower.commit_index) == before


def _ballot() -> Ballot:
    return Ballot(1, 0)
