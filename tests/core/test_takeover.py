"""Takeover: what a new leader proposes for the open slots, from its promises.

Paxos Made Simple: "a proposer ... issues a proposal with number n and value v, where v
is the value of the highest-numbered proposal among the responses" -- or any value if
no acceptor reported one. Here the values are blocks and the open slots are many.
"""

from __future__ import annotations

from paxlab.core.chain import GENESIS_PREV, Block, seal_block
from paxlab.core.ids import Ballot
from paxlab.core.kv import KVStore
from paxlab.core.leader import plan_takeover
from paxlab.core.messages import Accept, AcceptedEntry, CatchUp, Prepare, Promise, Reject
from paxlab.core.replica import Role
from tests.core.scripted import DIFFICULTY, Cluster, between, blocks, env, put, state, txn

B10, B21, B92 = Ballot(1, 0), Ballot(2, 1), Ballot(9, 2)
A, A1 = blocks((txn(1, 1),), (txn(1, 2),))
B, B1 = blocks((txn(2, 1),), (txn(2, 2),))


def promise(*entries: tuple[int, Ballot, Block], commit: int = 0, from_slot: int = 0,
            ballot: Ballot = B92) -> Promise:
    return Promise(
        ballot=ballot, from_slot=from_slot, commit_index=commit, decided=(),
        accepted=tuple(AcceptedEntry(slot=s, ballot=b, block=k) for s, b, k in entries),
    )


def plan(*promises: Promise, commit: int = 0, tip: str = GENESIS_PREV,
         kv: KVStore | None = None) -> list[Block]:
    return plan_takeover(commit, tip, list(promises), kv or KVStore(), DIFFICULTY)


def empty(height: int, prev: str) -> Block:
    return seal_block(height, prev, (), DIFFICULTY)


# --- plan_takeover --------------------------------------------------------------------


def test_no_accepted_entries_means_nothing_to_take_over() -> None:
    assert plan() == []
    assert plan(promise(), promise()) == []


def test_accepted_blocks_are_adopted_unchanged() -> None:
    assert plan(promise((0, B10, A), (1, B10, A1)), promise()) == [A, A1]


def test_the_highest_ballot_wins_per_slot_in_any_promise_order() -> None:
    low = promise((0, B10, A), (1, B10, A1))
    high = promise((0, B21, B), (1, B21, B1))
    assert plan(low, high) == plan(high, low) == [B, B1]


def test_the_highest_ballot_is_taken_per_slot_not_per_promise() -> None:
    # One acceptor saw 2.1 in slot 0 only; the other saw 1.0 in both slots. Slot 1's A1
    # links to A, not B, so it cannot have been chosen: resealed on B, same txns.
    plan_ = plan(promise((0, B21, B)), promise((0, B10, A), (1, B10, A1)))
    assert plan_ == [B, seal_block(1, B.hash, A1.txns, DIFFICULTY)]


def test_a_gap_becomes_an_empty_block_and_the_block_above_is_resealed() -> None:
    (c2,) = blocks((txn(3, 1), txn(3, 2)), start=2, prev="c" * 64)
    gap = empty(1, A.hash)
    assert plan(promise((0, B10, A), (2, B10, c2))) == [
        A,
        gap,
        seal_block(2, gap.hash, c2.txns, DIFFICULTY),
    ]


def test_slots_below_the_commit_index_are_ignored() -> None:
    kv = KVStore()
    kv.apply_block(A)
    assert plan(promise((0, B10, A), (1, B10, A1)), commit=1, tip=A.hash, kv=kv) == [A1]


def test_a_resealed_block_drops_txns_already_applied() -> None:
    kv = KVStore()
    kv.apply_block(A)  # (1, 1) is in the chain
    (stray,) = blocks((txn(1, 1), txn(4, 1)), start=1, prev="d" * 64)
    assert plan(promise((1, B10, stray)), commit=1, tip=A.hash, kv=kv) == [
        seal_block(1, A.hash, (txn(4, 1),), DIFFICULTY)
    ]


def test_a_resealed_block_drops_txns_planned_below_it() -> None:
    (stray,) = blocks((txn(1, 1), txn(5, 1)), start=1, prev="d" * 64)
    assert plan(promise((0, B10, A), (1, B10, stray))) == [
        A, seal_block(1, A.hash, (txn(5, 1),), DIFFICULTY)
    ]


def test_a_resealed_block_whose_txns_are_all_done_is_empty() -> None:
    (stray,) = blocks((txn(1, 1),), start=1, prev="d" * 64)
    assert plan(promise((0, B10, A), (1, B10, stray))) == [A, empty(1, A.hash)]


def test_every_planned_block_links_to_the_one_below() -> None:
    (far,) = blocks((txn(6, 1),), start=5, prev="e" * 64)
    planned = plan(promise((0, B10, A), (5, B21, far)), promise((1, B10, A1)))
    assert [b.height for b in planned] == [0, 1, 2, 3, 4, 5]
    prev = GENESIS_PREV
    for block in planned:
        assert block.prev == prev
        prev = block.hash
    assert planned[:2] == [A, A1]
    assert [b.txns for b in planned[2:]] == [(), (), (), (txn(6, 1),)]


# --- scripted takeovers ---------------------------------------------------------------


def led() -> Cluster:
    c = Cluster()
    c.elect(0)
    c.flush()
    c.now_ms += 1
    return c


def test_a_value_accepted_by_one_acceptor_is_re_proposed_not_replaced() -> None:
    """s0 leads; its Accept reaches s1 only; s0 is cut off; s2 is elected by s1 and
    itself, and proposes s0's block again, byte for byte, at its own ballot."""
    c = led()
    c.client(0, put(7, 1))
    (block,) = [p.block for p in c[0].leader.proposals.values()]
    c.deliver(lambda e: e.target == "s1")
    c.drop()  # the Accept to s2 and s1's Accepted are lost; s0 is cut off from now on
    c.now_ms += 1000
    mark = c.mark()
    c.timeout(2)
    c.flush(between(1, 2))
    h = block.hash[:4]
    assert c.transcript(mark, traces=True) == [
        "s2->s0 Prepare b=2.2 from_slot=0",
        "s2->s1 Prepare b=2.2 from_slot=0",
        "# s2 candidate b=2.2 from_slot=0",
        f"s1->s2 Promise b=2.2 commit=0 decided=0 accepted=[0: b=1.0 hash={h}]",
        "s2->s0 Heartbeat b=2.2 commit=0",
        "s2->s1 Heartbeat b=2.2 commit=0",
        f"s2->s0 Accept b=2.2 slot=0 hash={h}",  # adopted, not replaced
        f"s2->s1 Accept b=2.2 slot=0 hash={h}",
        "# s2 leader b=2.2 commit=0 takeover=1 slots",
        "s1->s2 HeartbeatAck b=2.2 commit=0",
        "# s1 following s2 b=2.2",
        f"s1->s2 Accepted b=2.2 slot=0 hash={h}",
        "s2->c7 ClientReply c7#1 ok 1",
    ]
    accepts = [e.message for _, o in c.outputs[mark:] for e in o.to_send
               if isinstance(e.message, Accept)]
    assert {a.block for a in accepts} == {block}
    # s1 learns the commit from s2's next heartbeat, which carries it.
    c.now_ms += 50
    c.tick(2)
    c.flush(between(1, 2))
    assert c[2].learner.chain == [block] and c[1].learner.chain == [block]


def test_a_value_only_its_proposer_accepted_may_be_replaced() -> None:
    """Nobody in the new majority saw it, so it was not chosen and the slot is free."""
    c = led()
    c.client(0, put(7, 1))
    c.drop()  # only s0's own acceptor has it
    c.now_ms += 1000
    c.timeout(1)
    c.flush(between(1, 2))
    c.client(1, put(8, 1))
    c.flush(between(1, 2))
    assert [t.request_id for t in c[1].learner.chain[0].txns] == [(8, 1)]
    # s0 comes back: it overwrites its vote, follows s1 and gets the chain by catch-up.
    c.now_ms += 50
    c.tick(1)
    c.flush()
    assert c[0].role is Role.FOLLOWER and c[0].leader_id == 1
    assert [b.hash for b in c[0].learner.chain] == [b.hash for b in c[1].learner.chain]


def test_gap_filling_when_promises_report_slots_0_and_2_but_not_1() -> None:
    c = Cluster()
    c.now_ms = 1000
    c.timeout(2)
    c.drop()
    (c2,) = blocks((txn(3, 1),), start=2, prev="c" * 64)
    out = c.step(env("s1", "s2", promise((0, B10, A), (2, B10, c2), ballot=Ballot(1, 2))))
    gap = empty(1, A.hash)
    resealed = seal_block(2, gap.hash, c2.txns, DIFFICULTY)
    assert out.trace == ("leader b=1.2 commit=0 takeover=3 slots",)
    assert [e.describe() for e in out.to_send if e.target == "s1"] == [
        "s2->s1 Heartbeat b=1.2 commit=0",
        f"s2->s1 Accept b=1.2 slot=0 hash={A.hash[:4]}",
        f"s2->s1 Accept b=1.2 slot=1 hash={gap.hash[:4]}",
        f"s2->s1 Accept b=1.2 slot=2 hash={resealed.hash[:4]}",
    ]
    assert state(c[2])["leader"] == {
        "ballot": Ballot(1, 2),
        "next_slot": 3,
        "proposals": {
            0: (A.hash, [2], False), 1: (gap.hash, [2], False), 2: (resealed.hash, [2], False),
        },
        "in_flight": [(1, 1), (3, 1)],
    }
    c.flush()
    c.tick(2)  # the next heartbeat carries the last commit to the followers
    c.flush()
    assert [b.hash for r in c.replicas for b in r.learner.chain] == [
        A.hash, gap.hash, resealed.hash
    ] * 3


def test_the_highest_ballot_wins_among_conflicting_promises() -> None:
    c = Cluster(n=5)
    c.now_ms = 1000
    c.step(env("s1", "s4", Reject(ballot=Ballot(2, 1))))  # it has seen round 2
    c.timeout(4)
    c.drop()
    mine = Ballot(3, 4)
    c.step(env("s0", "s4", promise((0, B10, A), (1, B10, A1), ballot=mine)))
    assert c[4].role is Role.CANDIDATE
    out = c.step(env("s1", "s4", promise((0, B21, B), (1, B21, B1), ballot=mine)))
    assert c[4].role is Role.LEADER
    assert [e.message.block for e in out.to_send if isinstance(e.message, Accept)
            and e.target == "s0"] == [B, B1]


def test_a_resealed_block_drops_what_the_new_leader_already_applied() -> None:
    c = Cluster()
    c.now_ms = 1000
    c.step(env("s0", "s2", CatchUp(blocks=(A,))))  # s2 applied (1, 1)
    c.timeout(2)
    c.drop()
    (stray,) = blocks((txn(1, 1), txn(8, 1)), start=1, prev="d" * 64)
    out = c.step(env("s1", "s2", promise((1, B10, stray), commit=1, from_slot=1,
                                         ballot=Ballot(1, 2))))
    (accept,) = [e.message for e in out.to_send if isinstance(e.message, Accept)][:1]
    assert accept.block == seal_block(1, A.hash, (txn(8, 1),), DIFFICULTY)


def test_a_lagging_candidate_learns_decided_blocks_and_prepares_again() -> None:
    c = Cluster(overrides={"catchup_blocks_max": 2})
    chain = blocks((txn(1, 1),), (txn(1, 2),), (txn(1, 3),))
    c.now_ms = 1000
    c.step(env("s0", "s1", CatchUp(blocks=tuple(chain))))
    c.timeout(2)
    c.drop(lambda e: e.target == "s0")
    (first,) = c.deliver(lambda e: e.target == "s1")
    assert [e.describe() for e in first.to_send] == [
        "s1->s2 Promise b=1.2 commit=3 decided=2 accepted=[]"
    ]
    (again,) = c.deliver(lambda e: e.target == "s2")
    # Two decided blocks learned; s1 has a third, so ask again from slot 2.
    assert [b.height for b in again.committed] == [0, 1]
    assert [e.describe() for e in again.to_send] == [
        "s2->s0 Prepare b=1.2 from_slot=2",
        "s2->s1 Prepare b=1.2 from_slot=2",
    ]
    assert state(c[2])["candidate"] == (Ballot(1, 2), 2, [2])
    c.flush(between(1, 2))
    assert c[2].role is Role.LEADER
    assert [b.hash for b in c[2].learner.chain] == [b.hash for b in chain]


def test_late_promises_for_an_earlier_from_slot_are_ignored() -> None:
    c = Cluster(n=5, overrides={"catchup_blocks_max": 1})
    chain = blocks((txn(1, 1),), (txn(1, 2),))
    c.now_ms = 1000
    c.step(env("s0", "s1", CatchUp(blocks=tuple(chain))))
    c.timeout(2)
    c.drop(lambda e: e.target not in ("s1", "s3"))
    c.deliver(lambda e: e.target == "s1")
    c.deliver(lambda e: e.target == "s3")
    held = c.take(lambda e: e.source == "s3")  # s3's promise for from_slot 0, held back
    c.deliver(lambda e: e.source == "s1")  # 2 of 5: no majority yet, block 0 learned
    c.step(held[0])  # 3 of 5, but s1 holds more: prepare again from slot 1
    assert c[2].candidate is not None and c[2].candidate.from_slot == 1
    c.drop()
    stale = promise(ballot=Ballot(1, 2), from_slot=0)
    c.step(env("s4", "s2", stale))
    c.step(env("s0", "s2", stale))
    assert state(c[2])["candidate"] == (Ballot(1, 2), 1, [2])


def test_a_candidate_counts_its_own_promise_and_reports_its_own_votes() -> None:
    c = led()
    c.client(0, put(7, 1))
    c.drop()
    c.now_ms += 1000
    c.step(env("s2", "s0", Prepare(ballot=Ballot(5, 2), from_slot=0)))  # s0 steps down
    assert c[0].role is Role.FOLLOWER
    c.drop()
    c.now_ms += 1000
    c.timeout(0)  # ... and runs again: its own Promise carries its own vote
    c.flush(between(0, 1))
    assert c[0].role is Role.LEADER
    assert [t.request_id for t in c[0].learner.chain[0].txns] == [(7, 1)]
