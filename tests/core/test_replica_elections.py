"""Phase 1 and leadership: timeouts, candidates, promises, rejects, stepping down.

Scripted tests route every envelope by hand (tests/core/scripted.py) and assert whole
replica state; the Net tests at the end check the same rules on a running cluster.
"""

from __future__ import annotations

import re

import pytest

from paxlab.core.errors import UsageError
from paxlab.core.ids import Ballot
from paxlab.core.messages import (
    Accept,
    Boot,
    Campaign,
    ClientRequest,
    ElectionTimeout,
    Heartbeat,
    HeartbeatAck,
    Prepare,
    Promise,
    Redirect,
    Reject,
)
from paxlab.core.output import PromisedRecord, TimerCommand
from paxlab.core.replica import Role
from tests.core.harness import Net
from tests.core.scripted import Cluster, blocks, booted, env, put, request, sent, state, txn

B10, B11, B12 = Ballot(1, 0), Ballot(1, 1), Ballot(1, 2)


def fresh(**changes: object) -> dict:
    """The state of a booted replica that has heard nothing, with `changes`."""
    base = {
        "role": "follower", "leader_id": None, "promised": None, "commit_index": 0,
        "chain": [], "accepted": {}, "parked": [], "candidate": None, "leader": None,
        "queue": [], "kv": {},
    }
    base.update(changes)
    return base


def leading(ballot: Ballot, **changes: object) -> dict:
    leader = {"ballot": ballot, "next_slot": 0, "proposals": {}, "in_flight": []}
    leader.update(changes)
    return fresh(role="leader", leader_id=ballot.replica, promised=ballot, leader=leader)


# --- timers ---------------------------------------------------------------------------


def test_boot_arms_a_randomized_election_timer() -> None:
    replica = booted(0)
    out = replica.step(0, env("s0", "s0", Boot()))
    (timer,) = out.timers
    assert timer.key == "election"
    assert 300 <= timer.at_ms <= 600
    assert out.to_send == () and out.to_persist == ()
    assert state(replica) == fresh()


def test_election_timeout_while_the_leader_is_fresh_only_rearms() -> None:
    c = Cluster()
    c.now_ms = 100
    c.step(env("s1", "s0", Heartbeat(ballot=B11, commit_index=0)))
    c.now_ms = 120  # the timer armed at boot fires, but s1 spoke 20 ms ago
    out = c.timeout(0)
    assert out.to_send == ()
    assert out.timers == (
        TimerCommand(key="election", at_ms=100 + c[0].election_timeout_ms,
                     message=out.timers[0].message),
    )
    assert state(c[0]) == fresh(leader_id=1, promised=B11)


def test_single_replica_elects_itself_in_one_step() -> None:
    solo = booted(0, n=1)
    out = solo.step(1000, env("s0", "s0", ElectionTimeout()))
    assert solo.role is Role.LEADER
    assert out.to_send == ()  # its Prepare and Promise went to itself inside the step
    assert out.to_persist == (PromisedRecord(ballot=B10),)
    assert state(solo) == leading(B10)


def test_misuse_of_the_door_is_a_usage_error() -> None:
    replica = booted(0)
    replica.step(100, env("s0", "s0", ElectionTimeout()))
    with pytest.raises(UsageError, match="backwards"):
        replica.step(99, env("s0", "s0", ElectionTimeout()))
    with pytest.raises(UsageError, match="envelope for s1"):
        replica.step(100, env("s0", "s1", ElectionTimeout()))
    with pytest.raises(UsageError):
        booted(3, n=3)


def test_messages_a_server_does_not_handle_are_traced_and_dropped() -> None:
    replica = booted(1)
    before = state(replica)
    out = replica.step(5, env("c2", "s1", Redirect(client=2, seq=1, leader_hint=0)))
    assert out.trace == ("ignored c2->s1 Redirect c2#1 hint=0: not for a server",)
    assert out.to_send == () and state(replica) == before


# --- one candidate --------------------------------------------------------------------


def test_timeout_makes_a_candidate_and_promises_make_a_leader() -> None:
    """The messages and traces of this election are in testdata/election_by_timeout.txt;
    here, each replica's whole state and the timers after each step."""
    c = Cluster()
    c.now_ms = 1000
    out = c.timeout(0)
    assert out.to_persist == (PromisedRecord(ballot=B10),)  # its own promise
    assert state(c[0]) == fresh(role="candidate", promised=B10, candidate=(B10, 0, [0]))

    (promise_out,) = c.deliver(lambda e: e.target == "s1")
    assert promise_out.to_persist == (PromisedRecord(ballot=B10),)  # before it is sent
    assert state(c[1]) == fresh(promised=B10)

    (won,) = c.deliver(lambda e: e.target == "s0")
    assert [(t.key, t.at_ms) for t in won.timers] == [("election", None), ("heartbeat", 1050)]
    assert state(c[0]) == leading(B10)

    # The late Prepare to s2 and the heartbeats make everyone a follower of s0.
    c.flush()
    assert state(c[1]) == fresh(leader_id=0, promised=B10)
    assert state(c[2]) == fresh(leader_id=0, promised=B10)


def test_promises_that_do_not_match_the_candidacy_are_ignored() -> None:
    c = Cluster(n=5)
    c.now_ms = 1000
    c.timeout(0)
    c.drop()
    for wrong in [
        Promise(ballot=Ballot(1, 3), from_slot=0, commit_index=0, accepted=(), decided=()),
        Promise(ballot=B10, from_slot=4, commit_index=0, accepted=(), decided=()),
    ]:
        c.step(env("s1", "s0", wrong))
        c.step(env("s2", "s0", wrong))
    right = Promise(ballot=B10, from_slot=0, commit_index=0, accepted=(), decided=())
    c.step(env("s1", "s0", right))
    c.step(env("s1", "s0", right))  # a duplicate counts once: 2 of 5 is no majority
    assert state(c[0]) == fresh(role="candidate", promised=B10, candidate=(B10, 0, [0, 1]))
    c.step(env("s4", "s0", right))
    assert c[0].role is Role.LEADER


def test_a_candidate_that_times_out_again_uses_a_higher_round() -> None:
    c = Cluster()
    c.now_ms = 1000
    c.timeout(0)
    c.drop()
    c.now_ms = 2000
    out = c.timeout(0)
    assert sent(out, Prepare)[0].message == Prepare(ballot=Ballot(2, 0), from_slot=0)
    assert state(c[0]) == fresh(
        role="candidate", promised=Ballot(2, 0), candidate=(Ballot(2, 0), 0, [0])
    )


def test_the_next_round_is_above_every_round_seen() -> None:
    c = Cluster()
    c.now_ms = 1000
    c.step(env("s2", "s0", Reject(ballot=Ballot(7, 2))))  # e.g. a stale accept's nack
    out = c.timeout(0)
    assert sent(out, Prepare)[0].message.ballot == Ballot(8, 0)


# --- stale and higher ballots ---------------------------------------------------------


def test_a_stale_prepare_gets_reject_with_the_promised_ballot() -> None:
    """Paxos Made Simple: an acceptor that promised n ignores (here: nacks) lower
    prepares, so the proposer learns the ballot to beat."""
    c = Cluster()
    c.now_ms = 1000
    c.step(env("s2", "s1", Prepare(ballot=Ballot(5, 2), from_slot=0)))
    before = state(c[1])
    out = c.step(env("s0", "s1", Prepare(ballot=Ballot(4, 0), from_slot=0)))
    assert [e.describe() for e in out.to_send] == ["s1->s0 Reject b=5.2"]
    assert out.to_persist == ()
    assert state(c[1]) == before == fresh(promised=Ballot(5, 2))


def test_stale_accept_and_heartbeat_get_reject_and_change_nothing() -> None:
    c = Cluster()
    c.now_ms = 1000
    c.step(env("s2", "s1", Prepare(ballot=B12, from_slot=0)))
    before = state(c[1])
    (block,) = blocks((txn(1, 1),))
    for stale in [
        Accept(ballot=B10, slot=0, block=block, commit_index=0),
        Heartbeat(ballot=B11, commit_index=0),
    ]:
        out = c.step(env("s0", "s1", stale))
        assert [e.message for e in out.to_send] == [Reject(ballot=B12)]
        assert out.to_persist == ()
    assert state(c[1]) == before


def test_loser_steps_down_on_reject() -> None:
    c = Cluster()
    c.now_ms = 1000
    c.timeout(0)
    c.timeout(1)
    # s0's Prepare reaches s1 first: s1 has promised itself 1.1 and says so.
    (nack,) = c.deliver(lambda e: e.source == "s0" and e.target == "s1")
    assert [e.describe() for e in nack.to_send] == ["s1->s0 Reject b=1.1"]
    (stepped,) = c.deliver(lambda e: e.source == "s1" and e.target == "s0"
                           and isinstance(e.message, Reject))
    assert stepped.trace == ("rejected by s1: b=1.1 > b=1.0", "candidate -> follower (leader None)")
    assert state(c[0]) == fresh(promised=B10)
    c.flush()
    assert [r.role for r in c.replicas] == [Role.FOLLOWER, Role.LEADER, Role.FOLLOWER]
    assert state(c[1]) == leading(B11)
    assert state(c[0]) == state(c[2]) == fresh(leader_id=1, promised=B11)


def test_loser_steps_down_on_a_higher_prepare() -> None:
    c = Cluster()
    c.now_ms = 1000
    c.timeout(0)
    c.timeout(1)
    (out,) = c.deliver(lambda e: e.source == "s1" and e.target == "s0")
    assert out.trace[0] == "candidate -> follower (leader None)"
    assert out.to_persist == (PromisedRecord(ballot=B11),)
    assert [e.describe() for e in out.to_send] == [
        "s0->s1 Promise b=1.1 commit=0 decided=0 accepted=[]"
    ]
    assert state(c[0]) == fresh(promised=B11)
    # Its own Prepare b=1.0 is now stale everywhere that matters.
    c.flush()
    assert [r.role for r in c.replicas] == [Role.FOLLOWER, Role.LEADER, Role.FOLLOWER]


def test_two_winners_at_two_ballots_and_the_lower_one_steps_down() -> None:
    """Both candidates gather a majority (s2 promises 1.0, then 1.1). Each ballot still
    has one leader; the 1.0 leader hears Reject b=1.1 on its first heartbeat."""
    c = Cluster()
    c.now_ms = 1000
    c.timeout(0)
    c.timeout(1)
    c.deliver(lambda e: e.source == "s0" and e.target == "s2")
    c.deliver(lambda e: e.source == "s2" and e.target == "s0")  # s0 wins 1.0 with s2
    assert c[0].role is Role.LEADER
    c.deliver(lambda e: e.source == "s1" and e.target == "s2")
    c.deliver(lambda e: e.source == "s2" and e.target == "s1")  # s1 wins 1.1 with s2
    assert [r.role for r in c.replicas] == [Role.LEADER, Role.LEADER, Role.FOLLOWER]
    assert (c[0].leader.ballot, c[1].leader.ballot) == (B10, B11)

    (hb_out,) = c.deliver(lambda e: e.source == "s0" and e.target == "s2"
                          and isinstance(e.message, Heartbeat))
    assert [e.describe() for e in hb_out.to_send] == ["s2->s0 Reject b=1.1"]
    c.deliver(lambda e: e.target == "s0" and isinstance(e.message, Reject))
    assert c[0].role is Role.FOLLOWER
    c.flush()
    assert [r.role for r in c.replicas] == [Role.FOLLOWER, Role.LEADER, Role.FOLLOWER]
    assert state(c[0]) == fresh(leader_id=1, promised=B11)


def test_a_leader_hearing_a_higher_heartbeat_follows_it() -> None:
    c = Cluster()
    c.elect(0)
    c.now_ms += 10
    out = c.step(env("s2", "s0", Heartbeat(ballot=Ballot(3, 2), commit_index=0)))
    assert ("heartbeat", None) in [(t.key, t.at_ms) for t in out.timers]
    assert [e.message for e in sent(out, HeartbeatAck)] == [
        HeartbeatAck(ballot=Ballot(3, 2), commit_index=0)
    ]
    assert state(c[0]) == fresh(leader_id=2, promised=Ballot(3, 2))


def test_a_leader_steps_down_on_a_higher_prepare_and_redirects_its_queue() -> None:
    c = Cluster(overrides={"pipeline_window": 1})
    c.elect(0)
    c.client(0, put(7, 1))
    c.client(0, put(7, 2))  # window full: waits in the queue
    assert state(c[0])["queue"] == [(7, 2)]
    c.now_ms += 5
    out = c.step(env("s1", "s0", Prepare(ballot=Ballot(2, 1), from_slot=0)))
    assert out.trace[0] == "leader -> follower (leader None)"
    assert [e.describe() for e in out.to_send] == [
        "s0->c7 Redirect c7#2 hint=None",
        "s0->s1 Promise b=2.1 commit=0 decided=0 accepted=["
        f"0: b=1.0 hash={c[0].acceptor.accepted[0].block.hash[:4]}]",
    ]
    assert c[0].role is Role.FOLLOWER and len(c[0].queue) == 0


# --- losing the majority --------------------------------------------------------------


def test_a_leader_without_answers_for_an_election_timeout_steps_down() -> None:
    c = Cluster()
    c.elect(0)
    since = c.now_ms
    c.drop()
    c.now_ms = since + 550  # within election_timeout_ms_max of taking over
    out = c.tick(0)
    assert c[0].role is Role.LEADER and len(sent(out, Heartbeat)) == 2
    c.drop()
    c.now_ms = since + 600
    out = c.tick(0)
    assert out.trace == ("lost contact with a majority; stepping down",
                         "leader -> follower (leader None)")
    assert out.to_send == ()
    assert [t.key for t in out.timers] == ["heartbeat", "election"]
    assert out.timers[0].at_ms is None
    assert state(c[0]) == fresh(promised=B10)


def test_one_recent_ack_keeps_a_three_replica_leader() -> None:
    c = Cluster()
    c.elect(0)
    since = c.now_ms
    c.drop()
    c.now_ms = since + 500
    c.step(env("s2", "s0", HeartbeatAck(ballot=B10, commit_index=0)))
    c.now_ms = since + 700
    c.tick(0)
    assert c[0].role is Role.LEADER
    c.drop()
    c.now_ms = since + 1100  # that ack is now older than the window
    c.tick(0)
    assert c[0].role is Role.FOLLOWER


def test_a_cut_off_leader_steps_down_even_while_clients_keep_it_busy() -> None:
    """Its own Accepted answers must not count as contact with another replica: a
    leader alone with its clients keeps proposing (and self-accepting) while its
    pipeline window has room, which a wide window makes forever."""
    c = Cluster(overrides={"pipeline_window": 64})
    c.elect(0)
    since = c.now_ms
    for k in range(1, 20):
        c.now_ms = since + 50 * k
        c.client(0, put(7, k))
        c.tick(0)
        c.drop()
    assert c[0].role is Role.FOLLOWER


def test_five_replicas_a_leader_with_one_follower_is_a_minority() -> None:
    c = Cluster(n=5, overrides={"pipeline_window": 64})
    c.elect(0)
    since = c.now_ms
    for k in range(1, 20):
        c.now_ms = since + 50 * k
        c.client(0, put(7, k))
        c.tick(0)
        c.flush(lambda e: "s1" in (e.source, e.target))  # s1 keeps answering
        assert c[0].leader is None or c[0].leader.last_ack_ms.get(1) == c.now_ms
    assert c[0].role is Role.FOLLOWER


# --- nomination -----------------------------------------------------------------------


def test_nomination_starts_an_election_only_when_the_leader_is_silent() -> None:
    c = Cluster()
    c.elect(0)
    c.flush()
    heard = c.now_ms
    assert state(c[1]) == fresh(leader_id=0, promised=B10)

    c.now_ms = heard + 99  # quiet for less than 2 heartbeat intervals
    out = c.client(1, request(7, 1, nominate=True))
    assert [e.describe() for e in out.to_send] == ["s1->c7 Redirect c7#1 hint=0"]
    assert state(c[1]) == fresh(leader_id=0, promised=B10)

    c.now_ms = heard + 100
    out = c.client(1, request(7, 1, nominate=False))  # not nominated: just a hint
    assert [e.describe() for e in out.to_send] == ["s1->c7 Redirect c7#1 hint=0"]

    out = c.client(1, request(7, 1, nominate=True))
    assert out.trace == ("nominated by c7", "candidate b=2.1 from_slot=0")
    assert [e.describe() for e in out.to_send] == [
        "s1->s0 Prepare b=2.1 from_slot=0",
        "s1->s2 Prepare b=2.1 from_slot=0",
    ]
    assert state(c[1]) == fresh(
        role="candidate", promised=Ballot(2, 1), candidate=(Ballot(2, 1), 0, [1]),
        queue=[(7, 1)],
    )
    # It wins, and the nominating request is the first thing it proposes.
    c.flush()
    assert c[1].role is Role.LEADER
    assert c[1].commit_index == 1
    assert [t.request_id for t in c[1].learner.chain[0].txns] == [(7, 1)]
    assert [e.describe() for e in c.to_clients[-1:]] == ["s1->c7 ClientReply c7#1 ok None"]


def test_a_follower_that_never_heard_a_leader_redirects_with_no_hint() -> None:
    c = Cluster()
    c.now_ms = 10
    out = c.client(2, request(4, 3))
    assert [e.message for e in out.to_send] == [Redirect(client=4, seq=3, leader_hint=None)]
    assert state(c[2]) == fresh()


def test_a_candidate_queues_client_requests() -> None:
    c = Cluster()
    c.now_ms = 1000
    c.timeout(0)
    out = c.client(0, ClientRequest(client=3, seq=1, op="get", key="'a'", value=None))
    assert out.to_send == ()
    assert state(c[0])["queue"] == [(3, 1)]


# --- on a running cluster -------------------------------------------------------------

LEADER_LINE = re.compile(r"^(s\d+): leader b=(\d+)\.(\d+) ")


def leaders_by_ballot(net: Net) -> dict[tuple[int, int], set[str]]:
    found: dict[tuple[int, int], set[str]] = {}
    for line in net.traces:
        if match := LEADER_LINE.match(line):
            found.setdefault((int(match[2]), int(match[3])), set()).add(match[1])
    return found


def test_simultaneous_timeouts_end_with_one_stable_leader() -> None:
    # Equal timeouts: every replica runs at once, every round, until ballots sort it out.
    net = Net(servers=5, seed=3, params={"election_timeout_ms_min": 300,
                                         "election_timeout_ms_max": 300})
    net.run_until(lambda: len(net.leaders()) == 1, deadline_ms=5000)
    candidates = [line for line in net.traces if ": candidate b=" in line]
    assert len(candidates) >= 2, "the test wants competing candidates"
    net.run_for(3000)
    (leader,) = net.leaders()
    by_ballot = leaders_by_ballot(net)
    assert all(len(nodes) == 1 for nodes in by_ballot.values())
    assert all(nodes == {f"s{b[1]}"} for b, nodes in by_ballot.items())
    final = net.replicas[leader].leader.ballot
    assert all(r.acceptor.promised == final for r in net.replicas)
    assert all(r.leader_id == leader for r in net.replicas)


def test_an_isolated_leader_steps_down_and_the_rest_elect_another() -> None:
    net = Net(servers=3, seed=5)
    net.run_until(lambda: len(net.leaders()) == 1, deadline_ms=3000)
    (old,) = net.leaders()
    net.isolate(old)
    net.run_until(lambda: net.replicas[old].role is not Role.LEADER, deadline_ms=800)
    net.run_until(lambda: len(net.leaders()) == 1, deadline_ms=2000)
    (new,) = net.leaders()
    assert new != old
    net.heal()
    net.run_for(1000)
    assert net.leaders() == [new]
    assert net.replicas[old].leader_id == new


def test_a_promise_carrying_an_invalid_block_is_refused_whole() -> None:
    import dataclasses

    from paxlab.core.messages import AcceptedEntry

    c = Cluster(n=3)
    c.now_ms = 1000
    c.timeout(0)
    c.drop()
    (good,) = blocks((txn(1, 1),))
    bad = dataclasses.replace(good, nonce=good.nonce + "7")  # hash no longer matches
    poisoned = Promise(ballot=B10, from_slot=0, commit_index=1, accepted=(), decided=(bad,))
    out = c.step(env("s1", "s0", poisoned))
    assert c[0].role is Role.CANDIDATE and c[0].commit_index == 0
    assert any("does not match contents" in t for t in out.trace)
    entry = AcceptedEntry(slot=0, ballot=Ballot(0, 2), block=bad)
    out = c.step(env("s2", "s0", Promise(ballot=B10, from_slot=0, commit_index=0,
                                         accepted=(entry,), decided=())))
    assert c[0].role is Role.CANDIDATE, "a bad accepted block must not reach a takeover plan"


def test_campaign_runs_for_leader_now_even_under_a_live_leader() -> None:
    """A console's `elect`: an ElectionTimeout waits out a leader heard within the timeout,
    a Campaign does not; the higher ballot it runs with is what deposes the old leader."""
    replica = booted(1)
    replica.step(100, env("s0", "s1", Heartbeat(ballot=B10, commit_index=0)))
    assert replica.role is Role.FOLLOWER and replica.leader_id == 0
    replica.step(110, env("s1", "s1", ElectionTimeout()))
    assert replica.role is Role.FOLLOWER  # the leader spoke 10 ms ago: it waits
    out = replica.step(120, env("s1", "s1", Campaign()))
    assert replica.role is Role.CANDIDATE
    assert any(e.message.describe().startswith("Prepare") for e in out.to_send)
