"""Phase 2 with scripted envelopes: accept, accepted, commit, pipelining, batching, the
chain rule, learning commits, catch-up, invalid blocks, redirects and duplicate requests."""

from __future__ import annotations

import dataclasses

import pytest

from paxlab.core.chain import GENESIS_PREV, seal_block
from paxlab.core.ids import Ballot
from paxlab.core.messages import (
    Accept,
    Accepted,
    CatchUp,
    ClientReply,
    ClientRequest,
    Heartbeat,
    HeartbeatAck,
    Prepare,
    Redirect,
)
from paxlab.core.output import AcceptedRecord, DecidedRecord, PromisedRecord
from paxlab.core.replica import Role
from tests.core.scripted import (
    DIFFICULTY,
    Cluster,
    between,
    blocks,
    env,
    put,
    request,
    sent,
    state,
    txn,
)

B10, B22 = Ballot(1, 0), Ballot(2, 2)


def led(**overrides: object) -> Cluster:
    """s0 leads ballot 1.0 and everyone knows it."""
    c = Cluster(overrides=dict(overrides))
    c.elect(0)
    c.flush()
    c.now_ms += 1
    return c


def follower_state(promised: Ballot | None, leader_id: int | None, **changes: object) -> dict:
    base = {
        "role": "follower", "leader_id": leader_id, "promised": promised, "commit_index": 0,
        "chain": [], "accepted": {}, "parked": [], "candidate": None, "leader": None,
        "queue": [], "kv": {},
    }
    base.update(changes)
    return base


def chain_ids(c: Cluster, i: int) -> list[tuple[int, int]]:
    return [t.request_id for b in c[i].learner.chain for t in b.txns]


# --- the basic round ------------------------------------------------------------------


def test_one_put_accept_accepted_commit() -> None:
    c = led()
    out = c.client(0, put(7, 1))
    (block,) = [p.block for p in c[0].leader.proposals.values()]
    assert block == seal_block(0, GENESIS_PREV, (txn(7, 1),), DIFFICULTY)
    assert [e.describe() for e in out.to_send] == [
        f"s0->s1 Accept b=1.0 slot=0 hash={block.hash[:4]}",
        f"s0->s2 Accept b=1.0 slot=0 hash={block.hash[:4]}",
    ]
    # The leader's own acceptor voted inside the step, and persisted the vote.
    assert out.to_persist == (AcceptedRecord(slot=0, ballot=B10, block=block),)
    assert state(c[0])["leader"] == {
        "ballot": B10, "next_slot": 1, "in_flight": [(7, 1)],
        "proposals": {0: (block.hash, [0], False)},
    }
    assert state(c[0])["accepted"] == {0: (B10, block.hash)}

    (voted,) = c.deliver(lambda e: e.target == "s1")
    assert voted.to_persist == (AcceptedRecord(slot=0, ballot=B10, block=block),)
    assert [e.message for e in voted.to_send] == [
        Accepted(ballot=B10, slot=0, block_hash=block.hash)
    ]
    assert state(c[1]) == follower_state(B10, 0, accepted={0: (B10, block.hash)})

    (chosen,) = c.deliver(lambda e: e.target == "s0")
    assert chosen.committed == (block,)
    assert chosen.to_persist == (DecidedRecord(block=block),)
    # No standalone Commit: the next Accept or Heartbeat carries the commit index.
    assert [e.describe() for e in chosen.to_send] == ["s0->c7 ClientReply c7#1 ok 1"]
    assert state(c[0]) == {
        **follower_state(B10, 0, commit_index=1, chain=[block.hash], kv={"'k'": "1"}),
        "role": "leader",
        "leader": {"ballot": B10, "next_slot": 1, "in_flight": [], "proposals": {}},
    }

    # Until the next heartbeat, the followers have only accepted the block.
    c.flush()
    assert [r.commit_index for r in c.replicas] == [1, 0, 0]
    # The heartbeat tick carries commit=1: s1 learns the block it accepted; s2 gets the
    # Accept first, then learns it from the same heartbeat.
    c.now_ms += 50
    assert [e.describe() for e in sent(c.tick(0), Heartbeat)] == [
        "s0->s1 Heartbeat b=1.0 commit=1", "s0->s2 Heartbeat b=1.0 commit=1",
    ]
    c.flush()
    for i in (1, 2):
        assert state(c[i]) == follower_state(
            B10, 0, commit_index=1, chain=[block.hash], kv={"'k'": "1"}
        )


def test_accepted_answers_that_do_not_match_are_ignored() -> None:
    c = led()
    c.client(0, put(7, 1))
    c.drop()
    block = c[0].leader.proposals[0].block
    before = state(c[0])
    for wrong in [
        Accepted(ballot=Ballot(0, 1), slot=0, block_hash=block.hash),
        Accepted(ballot=B10, slot=0, block_hash="e" * 64),
        Accepted(ballot=B10, slot=5, block_hash=block.hash),
    ]:
        out = c.step(env("s1", "s0", wrong))
        assert out.to_send == () and out.committed == ()
    assert state(c[0]) == before


def test_a_duplicate_accepted_counts_once() -> None:
    c = Cluster(n=5)
    c.elect(0)
    c.drop()
    c.client(0, put(7, 1))
    c.drop()
    block = c[0].leader.proposals[0].block
    vote = Accepted(ballot=B10, slot=0, block_hash=block.hash)
    c.step(env("s1", "s0", vote))
    c.step(env("s1", "s0", vote))
    assert c[0].commit_index == 0 and c[0].leader.proposals[0].acks == {0, 1}
    c.step(env("s3", "s0", vote))
    assert c[0].commit_index == 1


def test_unanswered_accepts_are_resent_on_the_heartbeat_tick() -> None:
    c = led()
    c.client(0, put(7, 1))
    c.deliver(lambda e: e.target == "s1")
    c.drop()  # s1's Accepted is lost, and so is s2's Accept
    c.now_ms += 99
    assert sent(c.tick(0), Accept) == []  # accept_retry_ms not yet up
    c.drop()
    c.now_ms += 1
    out = c.tick(0)
    assert [e.describe()[:22] for e in sent(out, Accept)] == [
        "s0->s1 Accept b=1.0 sl", "s0->s2 Accept b=1.0 sl",
    ]
    c.flush()
    c.tick(0)  # the next heartbeat carries the commit to the followers
    c.flush()
    assert [r.commit_index for r in c.replicas] == [1, 1, 1]


# --- pipelining and batching ----------------------------------------------------------


def test_pipelining_keeps_the_window_full_and_commits_in_order() -> None:
    c = led(pipeline_window=2, batch_size_max=1)
    for seq in range(1, 6):
        c.client(0, put(7, seq, value=str(seq)))
    accepts = sent(c.pending, Accept, to="s1")
    assert [e.message.slot for e in accepts] == [0, 1]  # two in flight, the rest wait
    assert state(c[0])["queue"] == [(7, 3), (7, 4), (7, 5)]
    assert c[0].leader.proposals[1].block.prev == c[0].leader.proposals[0].block.hash

    # s1 votes for both; its vote for slot 1 reaches the leader first. Slot 1 is then
    # chosen, but the chain only grows from slot 0.
    c.deliver(lambda e: e.target == "s1")
    c.drop(lambda e: e.target == "s2")
    (out,) = c.deliver(lambda e: e.target == "s0" and e.message.slot == 1)
    assert out.committed == () and out.to_send == ()
    assert state(c[0])["leader"]["proposals"] == {
        0: (c[0].leader.proposals[0].block.hash, [0], False),
        1: (c[0].leader.proposals[1].block.hash, [0, 1], True),
    }
    outs = c.deliver(lambda e: e.target == "s0")
    committed = [b.height for o in outs for b in o.committed]
    assert committed == [0, 1]
    new_accepts = sent([e for o in outs for e in o.to_send], Accept, to="s1")
    assert [(e.message.slot, e.message.commit_index) for e in new_accepts] == [(2, 2), (3, 2)]
    assert state(c[0])["queue"] == [(7, 5)]
    c.flush(between(0, 1))
    assert c[0].commit_index == 5
    assert chain_ids(c, 0) == [(7, s) for s in range(1, 6)]


def test_batching_puts_up_to_batch_size_max_requests_in_one_block() -> None:
    c = led(pipeline_window=1, batch_size_max=3)
    for seq in range(1, 6):
        c.client(0, request(seq, 1, value="1"))
    assert [len(p.block.txns) for p in c[0].leader.proposals.values()] == [1]
    assert state(c[0])["queue"] == [(2, 1), (3, 1), (4, 1), (5, 1)]
    c.flush(between(0, 1))
    assert [len(b.txns) for b in c[0].learner.chain] == [1, 3, 1]
    assert chain_ids(c, 0) == [(s, 1) for s in range(1, 6)]


def test_a_new_leader_batches_what_it_queued_as_a_candidate() -> None:
    c = Cluster(overrides={"batch_size_max": 2})
    c.now_ms = 1000
    c.timeout(0)
    for client in range(1, 6):
        c.client(0, request(client, 1))
    c.flush()
    assert [[t.client for t in b.txns] for b in c[0].learner.chain] == [[1, 2], [3, 4], [5]]
    c.tick(0)  # the next heartbeat carries the last commit to the followers
    c.flush()
    assert all(r.commit_index == 3 for r in c.replicas)


# --- the chain rule -------------------------------------------------------------------

CHAIN = blocks((txn(1, 1),), (txn(1, 2),), (txn(1, 3),))


def accept(slot: int, ballot: Ballot = B10, block=None, commit: int = 0) -> Accept:
    return Accept(ballot=ballot, slot=slot, block=block or CHAIN[slot], commit_index=commit)


def test_an_accept_ahead_of_its_predecessor_is_parked_until_it_arrives() -> None:
    c = Cluster()
    c.now_ms = 10
    out = c.step(env("s0", "s1", accept(2)))
    out = c.step(env("s0", "s1", accept(1)))
    assert out.to_send == () and out.to_persist == ()
    assert state(c[1]) == follower_state(B10, 0, parked=[1, 2])

    out = c.step(env("s0", "s1", accept(0)))
    assert [e.message.slot for e in out.to_send] == [0, 1, 2]
    assert out.to_persist == tuple(
        AcceptedRecord(slot=s, ballot=B10, block=CHAIN[s]) for s in range(3)
    )
    assert state(c[1]) == follower_state(
        B10, 0, accepted={s: (B10, CHAIN[s].hash) for s in range(3)}
    )


def test_an_accept_that_does_not_link_is_not_accepted() -> None:
    c = Cluster()
    c.now_ms = 10
    (stray,) = blocks((txn(1, 1),), prev="a" * 64)  # slot 0 must link to genesis
    out = c.step(env("s0", "s1", accept(0, block=stray)))
    assert sent(out, Accepted) == []
    assert state(c[1])["accepted"] == {}
    # Slot 1 whose prev is not the block accepted for slot 0 at this ballot.
    c.step(env("s0", "s1", accept(0)))
    (other,) = blocks((txn(9, 9),), start=1, prev="b" * 64)
    out = c.step(env("s0", "s1", accept(1, block=other)))
    assert out.to_send == ()
    assert state(c[1])["accepted"] == {0: (B10, CHAIN[0].hash)}


def test_a_predecessor_accepted_at_another_ballot_does_not_link() -> None:
    """Slot 1 at ballot 2.2 may only follow slot 0 accepted at 2.2 (acceptor.py)."""
    c = Cluster()
    c.now_ms = 10
    c.step(env("s0", "s1", accept(0)))  # at 1.0
    out = c.step(env("s2", "s1", accept(1, ballot=B22)))
    assert out.to_send == ()
    assert state(c[1]) == follower_state(
        B22, 2, accepted={0: (B10, CHAIN[0].hash)}, parked=[1]
    )
    out = c.step(env("s2", "s1", accept(0, ballot=B22)))  # the new leader re-proposes it
    assert [(e.message.ballot, e.message.slot) for e in out.to_send] == [(B22, 0), (B22, 1)]
    assert state(c[1])["accepted"] == {0: (B22, CHAIN[0].hash), 1: (B22, CHAIN[1].hash)}


def test_parked_accepts_of_an_older_ballot_are_dropped_on_a_new_promise() -> None:
    c = Cluster()
    c.now_ms = 10
    c.step(env("s0", "s1", accept(1)))
    assert state(c[1])["parked"] == [1]
    c.step(env("s2", "s1", Heartbeat(ballot=B22, commit_index=0)))
    assert state(c[1])["parked"] == []
    out = c.step(env("s0", "s1", accept(0)))  # stale now
    assert [e.describe() for e in out.to_send] == ["s1->s0 Reject b=2.2"]


def test_an_accept_for_a_committed_slot_is_answered_only_if_it_matches() -> None:
    c = Cluster()
    c.now_ms = 10
    c.step(env("s0", "s1", accept(0)))
    c.step(env("s0", "s1", Heartbeat(ballot=B10, commit_index=1)))
    out = c.step(env("s0", "s1", accept(0)))
    assert [e.message for e in out.to_send] == [
        Accepted(ballot=B10, slot=0, block_hash=CHAIN[0].hash)
    ]
    assert out.to_persist == ()
    (other,) = blocks((txn(5, 5),))
    assert c.step(env("s0", "s1", accept(0, block=other))).to_send == ()


# --- learning commits -----------------------------------------------------------------


def test_a_follower_learns_a_commit_from_a_heartbeat() -> None:
    c = Cluster()
    c.now_ms = 10
    c.step(env("s0", "s1", accept(0)))
    out = c.step(env("s0", "s1", Heartbeat(ballot=B10, commit_index=1)))
    assert out.committed == (CHAIN[0],)
    assert out.to_persist == (DecidedRecord(block=CHAIN[0]),)
    assert [e.message for e in out.to_send] == [HeartbeatAck(ballot=B10, commit_index=1)]
    assert state(c[1]) == follower_state(
        B10, 0, commit_index=1, chain=[CHAIN[0].hash], kv={"'k'": "1"}
    )


def test_a_follower_learns_commits_from_the_accept_it_gets_next() -> None:
    c = Cluster()
    c.now_ms = 10
    c.step(env("s0", "s1", accept(0)))
    out = c.step(env("s0", "s1", accept(1, commit=1)))
    assert out.committed == (CHAIN[0],)
    assert state(c[1])["accepted"] == {1: (B10, CHAIN[1].hash)}


def test_a_commit_for_a_block_accepted_at_another_ballot_is_not_learned() -> None:
    """Only the block accepted at the committing leader's ballot is known to be its
    choice; any other block in that slot may have been replaced."""
    c = Cluster()
    c.now_ms = 10
    c.step(env("s0", "s1", accept(0)))
    out = c.step(env("s2", "s1", Heartbeat(ballot=B22, commit_index=1)))
    assert out.committed == ()
    assert [e.message for e in out.to_send] == [HeartbeatAck(ballot=B22, commit_index=0)]
    out = c.step(env("s2", "s1", accept(1, ballot=B22, commit=1)))
    assert out.committed == ()
    assert c[1].commit_index == 0


def test_a_lagging_follower_catches_up_after_a_heartbeat_ack() -> None:
    c = led(catchup_blocks_max=2)
    for seq in range(1, 4):
        c.client(0, put(7, seq, value=str(seq)))
        c.flush(between(0, 1))  # s2 hears nothing
    # s1 learned slots 0 and 1 from the Accepts that followed; slot 2 comes with the
    # next heartbeat.
    assert [r.commit_index for r in c.replicas] == [3, 2, 0]
    c.now_ms += 50
    c.tick(0)
    (ack_out,) = c.deliver(lambda e: e.target == "s2")
    assert [e.message for e in ack_out.to_send] == [HeartbeatAck(ballot=B10, commit_index=0)]
    (catch,) = c.deliver(lambda e: e.target == "s0" and e.source == "s2")
    (env_catch,) = catch.to_send
    assert env_catch.describe() == "s0->s2 CatchUp from=0 count=2"  # bounded
    (learned,) = c.deliver(lambda e: e.target == "s2")
    assert [b.height for b in learned.committed] == [0, 1]
    assert learned.to_send == ()
    c.drop()
    c.now_ms += 50
    c.tick(0)
    c.flush()
    assert state(c[2]) == state(c[1]) == follower_state(
        B10, 0, commit_index=3, chain=[b.hash for b in c[0].learner.chain], kv={"'k'": "3"}
    )


# --- invalid blocks -------------------------------------------------------------------

TAMPERED = dataclasses.replace(CHAIN[0], hash="f" * 64)
WEAK = seal_block(0, GENESIS_PREV, (txn(1, 1),), 0)
assert int(WEAK.hash, 16) >> (256 - DIFFICULTY) != 0, "pick a txn whose nonce 0 is weak"


@pytest.mark.parametrize("bad", [TAMPERED, WEAK], ids=["bad-hash", "weak-pow"])
def test_an_invalid_block_in_an_accept_is_rejected_with_a_trace(bad) -> None:
    c = Cluster()
    c.now_ms = 10
    out = c.step(env("s0", "s1", accept(0, block=bad)))
    assert out.to_send == ()
    assert not any(isinstance(r, AcceptedRecord) for r in out.to_persist)
    assert out.trace[-1].startswith("rejected s0->s1 Accept b=1.0 slot=0")
    s = state(c[1])
    assert (s["accepted"], s["parked"], s["chain"]) == ({}, [], [])
    # The real block is still welcome afterwards.
    assert sent(c.step(env("s0", "s1", accept(0))), Accepted)


@pytest.mark.parametrize("bad", [TAMPERED, WEAK], ids=["bad-hash", "weak-pow"])
def test_an_invalid_block_in_a_catch_up_is_rejected_with_a_trace(bad) -> None:
    c = Cluster()
    c.now_ms = 10
    out = c.step(env("s0", "s1", CatchUp(blocks=(bad, CHAIN[1]))))
    assert out.committed == () and out.to_persist == () and out.to_send == ()
    assert out.trace[-1].startswith("rejected s0->s1 CatchUp from=0 count=2: block 0")
    assert state(c[1]) == follower_state(None, None)


def test_a_catch_up_that_does_not_link_to_the_chain_is_refused() -> None:
    c = Cluster()
    c.now_ms = 10
    (stray,) = blocks((txn(1, 1),), prev="a" * 64)
    out = c.step(env("s0", "s1", CatchUp(blocks=(stray,))))
    assert out.committed == () and "links to" in out.trace[-1]
    out = c.step(env("s0", "s1", CatchUp(blocks=tuple(CHAIN))))
    assert [b.height for b in out.committed] == [0, 1, 2]


def test_a_catch_up_below_the_commit_index_is_old_news_or_a_loud_conflict() -> None:
    c = Cluster()
    c.now_ms = 10
    c.step(env("s0", "s1", CatchUp(blocks=(CHAIN[0],))))
    out = c.step(env("s0", "s1", CatchUp(blocks=(CHAIN[0],))))
    assert out == type(out)()  # the same block again: old news, nothing to do
    (other,) = blocks((txn(4, 4),))
    out = c.step(env("s0", "s1", CatchUp(blocks=(other,))))
    # A different block at a decided height means two blocks chosen for one slot: it is
    # refused and traced, never silently skipped.
    assert out.committed == () and any("conflicting decided block" in t for t in out.trace)
    assert state(c[1])["chain"] == [CHAIN[0].hash]


def test_an_accept_parked_before_a_catch_up_is_accepted_after_it() -> None:
    c = Cluster()
    c.now_ms = 10
    ballot = Ballot(1, 0)
    # Slot 1 arrives first and cannot link: s1 holds nothing yet, so it parks it.
    out = c.step(env("s0", "s1", Accept(ballot=ballot, slot=1, block=CHAIN[1], commit_index=0)))
    assert out.to_send == ()
    # Catch-up brings the decided block 0; the parked Accept for slot 1 now links.
    out = c.step(env("s0", "s1", CatchUp(blocks=(CHAIN[0],))))
    assert [e.describe() for e in out.to_send] == [
        f"s1->s0 Accepted b=1.0 slot=1 hash={CHAIN[1].hash[:4]}"
    ]


# --- redirects and duplicate requests -------------------------------------------------


def test_a_follower_redirects_to_its_leader() -> None:
    c = led()
    out = c.client(2, put(7, 1))
    assert [e.describe() for e in out.to_send] == ["s2->c7 Redirect c7#1 hint=0"]
    assert out.to_persist == () and state(c[2])["queue"] == []


def test_a_retry_after_commit_gets_the_saved_result_and_is_not_proposed_again() -> None:
    # 8#1 is client 8's newest op: its retry gets the saved result. 7#1 is older than
    # client 7's newest (7#2): a late copy (the client moved on), never proposed again,
    # and its result is retired (kv.ClientSeqs), so it gets no answer at all.
    c = led()
    c.client(0, request(7, 1, "'a'", "1"))
    c.client(0, request(8, 1, "'a'"))  # a get
    c.flush()
    c.client(0, request(7, 2, "'a'", "2"))
    c.flush()
    before = state(c[0])
    assert before["kv"] == {"'a'": "2"}
    c.to_clients.clear()
    for retry in [request(7, 1, "'a'", "1"), request(8, 1, "'a'")]:
        out = c.client(0, retry)
        assert sent(out, Accept) == [] and out.to_persist == ()
    assert [e.message for e in c.to_clients] == [
        ClientReply(client=8, seq=1, outcome="ok", value="1"),  # what it read then
    ]
    assert state(c[0]) == before
    assert chain_ids(c, 0) == [(7, 1), (8, 1), (7, 2)]


def test_a_retry_while_in_flight_or_queued_is_not_proposed_twice() -> None:
    c = led(pipeline_window=1)
    c.client(0, put(7, 1))
    c.client(0, put(8, 1))  # queued behind the window
    for _ in range(3):
        assert c.client(0, put(7, 1)).to_send == ()
        assert c.client(0, put(8, 1)).to_send == ()
    assert state(c[0])["queue"] == [(8, 1)]
    assert state(c[0])["leader"]["in_flight"] == [(7, 1)]
    c.flush()
    assert chain_ids(c, 0) == [(7, 1), (8, 1)]
    replies = [e.message for e in c.to_clients if isinstance(e.message, ClientReply)]
    assert [(r.client, r.seq) for r in replies] == [(7, 1), (8, 1)]


def test_a_retry_to_the_next_leader_of_an_adopted_request_is_not_proposed_twice() -> None:
    """s0 gets c7#1 accepted by s1 only and goes quiet; s1 takes over (with s2), adopts
    the block, and ignores the client's retry because that block is in flight."""
    c = led()
    c.client(0, put(7, 1))
    c.deliver(lambda e: e.target == "s1")
    c.drop()
    c.now_ms += 1000
    c.timeout(1)
    c.client(1, put(7, 1, value="1"))  # the client retries at s1 while it campaigns
    c.flush(between(1, 2))
    assert c[1].role is Role.LEADER
    assert chain_ids(c, 1) == [(7, 1)]
    assert c[1].learner.chain[0].hash == c[0].acceptor.accepted[0].block.hash


def test_a_leader_redirects_nothing_it_has_taken() -> None:
    c = led()
    out = c.client(0, ClientRequest(client=3, seq=1, op="get", key="'z'", value=None))
    assert sent(out, Redirect) == []
    c.flush()
    assert [e.message for e in c.to_clients] == [
        ClientReply(client=3, seq=1, outcome="ok", value=None)  # missing key reads None
    ]


def test_promised_record_precedes_every_answer_that_depends_on_it() -> None:
    c = Cluster()
    c.now_ms = 10
    out = c.step(env("s0", "s1", accept(0)))
    assert out.to_persist == (
        PromisedRecord(ballot=B10),
        AcceptedRecord(slot=0, ballot=B10, block=CHAIN[0]),
    )


def test_an_invalid_block_does_not_even_make_an_acceptor_follow() -> None:
    c = Cluster()
    c.now_ms = 10
    bad = dataclasses.replace(CHAIN[0], nonce=CHAIN[0].nonce + "0")  # hash no longer matches
    out = c.step(env("s0", "s1", Accept(ballot=Ballot(5, 0), slot=0, block=bad, commit_index=0)))
    assert out.to_persist == () and out.to_send == ()
    assert c[1].acceptor.promised is None and c[1].leader_id is None
    assert any("does not match contents" in t for t in out.trace)


def test_a_client_address_cannot_send_protocol_messages() -> None:
    c = Cluster()
    c.now_ms = 10
    out = c.step(env("c3", "s1", Prepare(ballot=Ballot(9, 0), from_slot=0)))
    assert out.to_send == () and out.to_persist == ()
    assert c[1].acceptor.promised is None
    assert any("wrong kind of sender" in t for t in out.trace)
