"""Pre-vote and leader stickiness, driven by hand through the pure core.

"A candidate would first ask other servers whether its log was up-to-date enough to get
their vote. Only if the candidate believed it could get votes from a majority of the
cluster would it increment its term and start a normal election" (Ongaro, Consensus:
Bridging Theory and Practice, 9.6). Here the term is the Paxos ballot, and the election
is phase 1: pre-vote decides only when a Prepare goes out, never what an acceptor does.
"""

from __future__ import annotations

from paxlab.core.ids import Ballot
from paxlab.core.messages import (
    Campaign,
    CatchUp,
    Heartbeat,
    Prepare,
    PreVote,
    PreVoteReply,
)
from tests.core.scripted import Cluster, blocks, booted, env, sent, txn

PREVOTE = {"prevote": True}


def reply_of(out: object) -> PreVoteReply:
    (envelope,) = sent(out, PreVoteReply)  # type: ignore[arg-type]
    assert isinstance(envelope.message, PreVoteReply)
    return envelope.message


def test_a_timeout_asks_first_and_raises_no_ballot() -> None:
    c = Cluster(3, overrides=PREVOTE)
    c.now_ms = 1000
    out = c.timeout(0)
    assert [e.describe() for e in out.to_send] == [
        "s0->s1 PreVote b=1.0 commit=0", "s0->s2 PreVote b=1.0 commit=0",
    ]
    assert not out.to_persist and c[0].role.value == "follower"
    assert c[0].acceptor.promised is None and c[0].max_round_seen == 0


def test_a_majority_of_grants_runs_phase_1() -> None:
    c = Cluster(3, overrides=PREVOTE)
    c.now_ms = 1000
    c.timeout(0)
    (granted,) = c.deliver(lambda e: e.target == "s1")
    assert reply_of(granted).granted
    c.drop(lambda e: e.target == "s2")
    (won,) = c.deliver(lambda e: e.target == "s0")
    assert c[0].role.value == "candidate" and c[0].candidate.ballot == Ballot(1, 0)
    assert [e.describe() for e in sent(won, Prepare)] == [
        "s0->s1 Prepare b=1.0 from_slot=0", "s0->s2 Prepare b=1.0 from_slot=0",
    ]
    c.flush()
    assert c[0].leader is not None


def test_a_server_that_hears_a_leader_refuses_until_it_goes_quiet() -> None:
    r1 = booted(1, 3, **PREVOTE)
    r1.step(100, env("s0", "s1", Heartbeat(ballot=Ballot(1, 0), commit_index=0)))
    ask = env("s2", "s1", PreVote(ballot=Ballot(2, 2), commit_index=0))
    assert not reply_of(r1.step(200, ask)).granted  # heard s0 100 ms ago
    quiet = 100 + r1.params.election_timeout_ms_min
    assert not reply_of(r1.step(quiet - 1, ask)).granted
    answer = reply_of(r1.step(quiet, ask))
    assert answer == PreVoteReply(ballot=Ballot(2, 2), granted=True, max_round=1)
    # A grant changes nothing: no promise, no round learned, still following s0.
    assert r1.acceptor.promised == Ballot(1, 0) and r1.max_round_seen == 1
    assert r1.leader_id == 0


def test_a_leader_refuses_a_pre_vote() -> None:
    c = Cluster(3, overrides=PREVOTE)
    c.elect(0)
    c.now_ms += 10_000
    out = c.step(env("s2", "s0", PreVote(ballot=Ballot(9, 2), commit_index=5)))
    assert not reply_of(out).granted and c[0].leader is not None


def test_a_candidate_with_a_shorter_decided_prefix_is_refused() -> None:
    r1 = booted(1, 3, **PREVOTE)
    chain = blocks((txn(1, 1),), (txn(1, 2),))
    r1.step(10, env("s0", "s1", CatchUp(blocks=tuple(chain))))
    assert r1.commit_index == 2 and r1.leader_id is None
    behind = env("s2", "s1", PreVote(ballot=Ballot(1, 2), commit_index=1))
    level = env("s2", "s1", PreVote(ballot=Ballot(1, 2), commit_index=2))
    assert not reply_of(r1.step(1000, behind)).granted
    assert reply_of(r1.step(1000, level)).granted


def test_an_isolated_server_keeps_its_ballot_and_cannot_depose_the_leader() -> None:
    c = Cluster(3, overrides=PREVOTE)
    c.elect(0)
    ballot = c[0].leader.ballot
    before = (c[2].acceptor.promised, c[2].max_round_seen)
    for _ in range(5):  # s2 is cut off: nothing it sends arrives, nothing reaches it
        for _ in range(7):  # s0 and s1 keep in touch
            c.now_ms += 100
            c.tick(0)
            c.flush(lambda e: "s2" not in (e.source, e.target))
        out = c.timeout(2)
        assert [e.message for e in sent(out, PreVote)] == [PreVote(ballot=Ballot(2, 2),
                                                                   commit_index=0)] * 2
        c.drop(lambda e: e.source == "s2")
    assert (c[2].acceptor.promised, c[2].max_round_seen) == before
    # The link heals: s2's next round reaches servers that still hear s0, and fails.
    c.now_ms += 20
    c.timeout(2)
    c.flush()
    assert c[0].leader is not None and c[0].leader.ballot == ballot
    assert c[2].role.value == "follower" and c[2].acceptor.promised == ballot
    c.tick(0)
    c.flush()
    assert c[2].leader_id == 0 and c[2].max_round_seen == ballot.round


def test_a_candidate_that_times_out_asks_again_without_a_higher_ballot() -> None:
    c = Cluster(3, overrides=PREVOTE)
    c.now_ms = 1000
    c.step(env("s0", "s0", Campaign()))  # a campaign skips pre-vote: candidate at once
    assert c[0].candidate is not None and c[0].candidate.ballot == Ballot(1, 0)
    c.drop()
    c.now_ms += 1000
    out = c.timeout(0)
    assert c[0].role.value == "follower"
    assert [e.describe() for e in sent(out, PreVote)] == [
        "s0->s1 PreVote b=2.0 commit=0", "s0->s2 PreVote b=2.0 commit=0",
    ]
    c.now_ms += 1000
    again = c.timeout(0)  # still nobody answers: same ballot
    assert {e.message.ballot for e in sent(again, PreVote)} == {Ballot(2, 0)}


def test_without_prevote_a_timeout_runs_phase_1_at_once() -> None:
    c = Cluster(3)
    c.now_ms = 1000
    out = c.timeout(0)
    assert not sent(out, PreVote)
    assert c[0].candidate is not None
    assert [e.describe() for e in sent(out, Prepare)] == [
        "s0->s1 Prepare b=1.0 from_slot=0", "s0->s2 Prepare b=1.0 from_slot=0",
    ]


def test_a_single_server_needs_no_one_else() -> None:
    c = Cluster(1, overrides=PREVOTE)
    c.now_ms = 1000
    c.timeout(0)
    assert c[0].leader is not None
