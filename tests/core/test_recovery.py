"""Recovery: records a replica persisted fold back into the state it had, and a restarted
replica keeps its promises and votes, then rejoins and catches up.

Paxos Made Simple, section 2.3: "An acceptor must remember this information even if it
fails and then restarts": its highest promise and the proposals it accepted.
"""

from __future__ import annotations

import dataclasses
import random

import pytest

from paxlab.core import RecoveredState, Replica, recover_state
from paxlab.core.chain import GENESIS_PREV, Block, seal_block
from paxlab.core.errors import RemoteError, UsageError
from paxlab.core.ids import Ballot, server_node
from paxlab.core.messages import AcceptedEntry, Boot, Prepare, Promise, Reject
from paxlab.core.output import AcceptedRecord, DecidedRecord, PromisedRecord, Record
from paxlab.core.replica import Role
from paxlab.host import NodeHost
from paxlab.storage import MemoryStorage
from tests.core.harness import Net
from tests.core.scripted import DIFFICULTY, env, make_params, txn

PARAMS = {"difficulty": DIFFICULTY, "batch_size_max": 2, "pipeline_window": 3}


def chain_of(n: int, start: str = GENESIS_PREV) -> list[Block]:
    blocks, prev = [], start
    for height in range(n):
        block = seal_block(height, prev, (txn(1, height + 1, value=str(height)),), DIFFICULTY)
        blocks.append(block)
        prev = block.hash
    return blocks


B = Ballot


# --- recover_state on hand-made records -----------------------------------------------


def test_no_records_is_a_fresh_replica() -> None:
    assert recover_state([], DIFFICULTY) == RecoveredState(promised=None, accepted=(), chain=())


def test_promised_is_the_highest_promise_or_accepted_ballot() -> None:
    chain = chain_of(1)
    records: list[Record] = [
        PromisedRecord(ballot=B(2, 1)),
        PromisedRecord(ballot=B(1, 2)),  # lower: a promise never goes down
        AcceptedRecord(slot=0, ballot=B(3, 0), block=chain[0]),  # accepting implies >= 3.0
    ]
    assert recover_state(records, DIFFICULTY).promised == B(3, 0)
    assert recover_state(records[:2], DIFFICULTY).promised == B(2, 1)


def test_latest_vote_per_slot_above_the_chain_only() -> None:
    chain = chain_of(3)
    other = seal_block(1, chain[0].hash, (txn(9, 9),), DIFFICULTY)
    records: list[Record] = [
        PromisedRecord(ballot=B(1, 0)),
        AcceptedRecord(slot=0, ballot=B(1, 0), block=chain[0]),
        AcceptedRecord(slot=1, ballot=B(1, 0), block=other),
        DecidedRecord(block=chain[0]),
        PromisedRecord(ballot=B(2, 1)),
        AcceptedRecord(slot=1, ballot=B(2, 1), block=chain[1]),  # replaces the 1.0 vote
        AcceptedRecord(slot=2, ballot=B(2, 1), block=chain[2]),
    ]
    state = recover_state(records, DIFFICULTY)
    assert state.chain == (chain[0],)
    assert state.promised == B(2, 1)
    assert state.accepted == (
        AcceptedEntry(slot=1, ballot=B(2, 1), block=chain[1]),
        AcceptedEntry(slot=2, ballot=B(2, 1), block=chain[2]),
    )
    # Once slot 1 is decided its vote is dropped: the chain holds it.
    state = recover_state([*records, DecidedRecord(block=chain[1])], DIFFICULTY)
    assert [e.slot for e in state.accepted] == [2]
    assert state.describe() == (
        f"promised=2.1 chain=2 tip={chain[1].hash[:6]} accepted=[2: b=2.1 {chain[2].hash[:4]}]"
    )


def tampered(block: Block, **changes: object) -> Block:
    return dataclasses.replace(block, **changes)


def weak_block(height: int, prev: str) -> Block:
    """A block with a correct hash that lacks DIFFICULTY leading zero bits."""
    for seq in range(1, 100):
        block = seal_block(height, prev, (txn(1, seq),), 0)
        if not block.hash.startswith("0"):
            return block
    raise AssertionError("no weak block found")


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("bad hash", "height 1 is invalid: block 1: hash"),
        ("bad link", "height 1 links to"),
        ("gap", "height 2 where height 1 was expected"),
        ("repeat", "height 0 where height 1 was expected"),
        ("weak proof of work", "height 1 is invalid: .* lacks 4 leading zero bits"),
    ],
)
def test_a_bad_chain_is_refused_naming_the_height(damage: str, expected: str) -> None:
    chain = chain_of(3)
    second = {
        "bad hash": tampered(chain[1], txns=(txn(1, 99, value="'forged'"),)),
        "bad link": seal_block(1, "f" * 64, chain[1].txns, DIFFICULTY),
        "gap": chain[2],
        "repeat": chain[0],
        "weak proof of work": weak_block(1, chain[0].hash),
    }[damage]
    records = [DecidedRecord(block=chain[0]), DecidedRecord(block=second)]
    with pytest.raises(RemoteError, match=expected):
        recover_state(records, DIFFICULTY)


def test_the_first_block_must_start_the_chain() -> None:
    stray = seal_block(0, "a" * 64, (), DIFFICULTY)
    with pytest.raises(RemoteError, match="height 0 links to aaaa"):
        recover_state([DecidedRecord(block=stray)], DIFFICULTY)


def test_an_accepted_record_must_hold_its_slot() -> None:
    block = chain_of(1)[0]
    with pytest.raises(RemoteError, match="slot 3 holds block 0"):
        recover_state([AcceptedRecord(slot=3, ballot=B(1, 0), block=block)], DIFFICULTY)


def test_recovered_state_checks_its_invariants() -> None:
    chain = chain_of(2)
    vote = AcceptedEntry(slot=1, ballot=B(2, 0), block=chain[1])
    with pytest.raises(UsageError, match="position 0"):
        RecoveredState(promised=None, accepted=(), chain=(chain[1],))
    with pytest.raises(UsageError, match="below the chain tip"):
        RecoveredState(promised=B(2, 0), accepted=(vote,), chain=tuple(chain))
    with pytest.raises(UsageError, match="sorted and unique"):
        RecoveredState(promised=B(2, 0), accepted=(vote, vote), chain=(chain[0],))
    with pytest.raises(UsageError, match="above the promise"):
        RecoveredState(promised=B(1, 0), accepted=(vote,), chain=(chain[0],))
    with pytest.raises(UsageError, match="above the promise None"):
        RecoveredState(promised=None, accepted=(vote,), chain=(chain[0],))


# --- a real run -----------------------------------------------------------------------


def submit_round(net: Net, tag: str) -> None:
    for client in range(len(net.sessions)):
        net.run_until(lambda c=client: not net.sessions[c].busy)
        net.submit(client, "put", f"'k{client}'", f"'{tag}{client}'")


def mid_flight(seed: int = 2) -> tuple[Net, Replica]:
    """A run with a leader change, stopped when a follower holds votes above its chain."""
    net = Net(servers=3, clients=2, seed=seed, params=PARAMS)
    net.run_until(lambda: len(net.leaders()) == 1)
    for i in range(3):
        submit_round(net, f"a{i}")
    old = net.leaders()[0]
    net.isolate(old)
    net.run_until(lambda: any(leader != old for leader in net.leaders()))
    net.heal()
    net.run_until(lambda: len(net.leaders()) == 1)
    leader = net.leaders()[0]
    for i in range(3):
        submit_round(net, f"b{i}")
    net.run_until(lambda: any(r.acceptor.accepted for r in net.replicas if r.id != leader))
    follower = next(r for r in net.replicas if r.acceptor.accepted and r.id != leader)
    return net, follower


def persisted(net: Net, replica: Replica) -> list[Record]:
    storage = net.hosts[replica.node].storage
    assert isinstance(storage, MemoryStorage)
    return list(storage.records)


def assert_same_durable_state(restarted: Replica, before: Replica) -> None:
    assert restarted.acceptor.promised == before.acceptor.promised
    assert [b.hash for b in restarted.learner.chain] == [b.hash for b in before.learner.chain]
    assert restarted.learner.kv.data == before.learner.kv.data
    assert restarted.learner.kv.clients == before.learner.kv.clients  # exactly-once table
    assert restarted.acceptor.accepted == before.acceptor.accepted
    assert restarted.max_round_seen >= before.acceptor.promised.round


def test_a_restarted_replica_has_the_state_it_persisted() -> None:
    net, before = mid_flight()
    state = recover_state(persisted(net, before), DIFFICULTY)
    assert state.promised is not None and state.promised.round >= 2  # after a leader change
    assert len(state.accepted) == 2  # votes above the chain survive the restart
    restarted = Replica(before.id, before.params, random.Random(9), recovered=state)
    assert_same_durable_state(restarted, before)
    assert restarted.role is Role.FOLLOWER and restarted.leader_id is None
    restarted.check_invariants()


def test_a_restarted_replica_keeps_its_promise() -> None:
    net, before = mid_flight()
    promised = before.acceptor.promised
    assert promised is not None
    state = recover_state(persisted(net, before), DIFFICULTY)
    restarted = Replica(before.id, before.params, random.Random(9), recovered=state)
    restarted.step(0, env(restarted.node, restarted.node, Boot()))
    stale = Ballot(promised.round, 0) if promised.replica > 0 else Ballot(promised.round - 1, 2)
    peer = next(i for i in range(3) if i != restarted.id)
    out = restarted.step(1, env(server_node(peer), restarted.node,
                                Prepare(ballot=stale, from_slot=0)))
    assert [e.message for e in out.to_send] == [Reject(ballot=promised)]
    assert out.to_persist == ()
    # A Prepare at its own promise is answered with the votes it held before the crash.
    out = restarted.step(2, env(server_node(peer), restarted.node,
                                Prepare(ballot=promised, from_slot=restarted.commit_index)))
    (reply,) = [e.message for e in out.to_send]
    assert isinstance(reply, Promise)
    assert reply.accepted == tuple(before.acceptor.entries_from(restarted.commit_index))
    # Its own next ballot is above everything it promised before the crash.
    restarted.become_candidate()
    assert restarted.candidate is not None and restarted.candidate.ballot > promised


def test_a_restarted_replica_rejoins_and_catches_up() -> None:
    net, before = mid_flight()
    records = persisted(net, before)
    net.down.add(before.node)  # crash: everything in flight to it is lost
    for i in range(3):
        submit_round(net, f"c{i}")
    net.run_for(200)
    state = recover_state(records, DIFFICULTY)
    restarted = Replica(before.id, before.params, random.Random(99), recovered=state)
    assert_same_durable_state(restarted, before)
    net.replicas[before.id] = restarted
    host = NodeHost(restarted, net._send, storage=MemoryStorage(records),
                    log=net._logger(restarted.node))
    net.hosts[restarted.node] = host
    net.down.discard(restarted.node)
    host.local(net.now_ms, Boot())
    submit_round(net, "d")
    net.run_until(
        lambda: not any(s.busy for s in net.sessions)
        and all(c == net.chains()[0] for c in net.chains())
    )
    assert len(restarted.learner.chain) > len(state.chain)
    assert restarted.learner.kv.data == net.replicas[(before.id + 1) % 3].learner.kv.data
    # And what it persisted since still recovers to the state it holds now.
    again = recover_state(host.storage.records, DIFFICULTY)  # type: ignore[attr-defined]
    assert [b.hash for b in again.chain] == [b.hash for b in restarted.learner.chain]
    assert again.promised == restarted.acceptor.promised


def test_votes_kept_in_memory_and_recovered_stay_bounded() -> None:
    """Decided slots drop their votes, so a long run keeps only the open ones."""
    net, _ = mid_flight()
    for i in range(10):
        submit_round(net, f"e{i}")
    net.run_for(300)
    window = PARAMS["pipeline_window"]
    for replica in net.replicas:
        state = recover_state(persisted(net, replica), DIFFICULTY)
        assert len(replica.acceptor.accepted) <= window
        assert len(state.accepted) <= window
        assert len(state.chain) == replica.commit_index >= 20


def test_replica_without_recovered_state_is_unchanged() -> None:
    fresh = Replica(0, make_params(), random.Random(1))
    restored = Replica(0, make_params(), random.Random(1), recovered=recover_state([], 4))
    for replica in (fresh, restored):
        assert replica.acceptor.promised is None and not replica.acceptor.accepted
        assert replica.learner.chain == [] and replica.max_round_seen == 0
