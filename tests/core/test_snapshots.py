"""Snapshots in the pure core: when a replica compacts, what it keeps, how a lagging
follower or candidate gets a snapshot, and how a restart folds records onto one."""

from __future__ import annotations

import random

import pytest

from paxlab.core import Replica, recover_state
from paxlab.core.chain import GENESIS_PREV, Block, seal_block
from paxlab.core.errors import RemoteError
from paxlab.core.ids import Ballot, server_node
from paxlab.core.kv import KVStore
from paxlab.core.messages import Accept, Accepted, Boot, InstallSnapshot, Prepare, Promise
from paxlab.core.output import AcceptedRecord, DecidedRecord, PromisedRecord
from paxlab.core.snapshot import Snapshot
from paxlab.storage import MemoryStorage
from tests.core.harness import Net
from tests.core.scripted import DIFFICULTY, env, make_params, txn
from tests.core.test_recovery import chain_of

SNAP = {"difficulty": DIFFICULTY, "batch_size_max": 2, "pipeline_window": 3,
        "snapshot_every": 4, "retain_blocks": 2}


def snapshot_after(blocks: list[Block]) -> Snapshot:
    kv = KVStore()
    for block in blocks:
        kv.apply_block(block)
    return Snapshot.of(len(blocks), blocks[-1].hash if blocks else GENESIS_PREV, kv)


def load(net: Net, rounds: int, tag: str = "a") -> None:
    for i in range(rounds):
        for client in range(len(net.sessions)):
            net.run_until(lambda c=client: not net.sessions[c].busy)
            net.submit(client, "put", f"'k{client}'", f"'{tag}{i}'")
    net.run_until(lambda: not any(s.busy for s in net.sessions))


def storage(net: Net, replica: Replica) -> MemoryStorage:
    found = net.hosts[replica.node].storage
    assert isinstance(found, MemoryStorage)
    return found


def settled(net: Net) -> bool:
    return len({r.commit_index for r in net.replicas}) == 1 and not any(
        s.busy for s in net.sessions)


# --- compaction cadence and what is kept ------------------------------------------------


def loaded_net(seed: int, rounds: int) -> Net:
    """Three servers and two clients after `rounds` puts each, every server caught up."""
    net = Net(servers=3, clients=2, seed=seed, params=SNAP)
    net.run_until(lambda: len(net.leaders()) == 1)
    load(net, rounds)
    net.run_until(lambda: settled(net))
    return net


def test_every_replica_compacts_every_snapshot_every_blocks_and_keeps_retain_blocks() -> None:
    net = loaded_net(seed=3, rounds=10)
    for replica in net.replicas:
        learner = replica.learner
        assert replica.snapshot_height >= replica.commit_index - 4
        assert learner.base == replica.snapshot_height - 2  # retain_blocks behind it
        assert len(learner.chain) <= 2 + 4
        kept = storage(net, replica)
        assert kept.snapshot is not None and kept.snapshot.height == replica.snapshot_height
        # the archive plus the held chain is the whole chain, from genesis
        whole = [b.hash for b in kept.archive] + [b.hash for b in learner.chain]
        assert [b.height for b in kept.archive] == list(range(learner.base))
        assert len(whole) == replica.commit_index
    assert len({tuple(b.hash for b in r.learner.chain) for r in net.replicas}) <= 3


def test_no_snapshot_without_snapshot_every() -> None:
    net = Net(servers=3, clients=1, seed=3, params={**SNAP, "snapshot_every": 0})
    net.run_until(lambda: len(net.leaders()) == 1)
    load(net, 10)
    for replica in net.replicas:
        assert replica.learner.base == 0 and storage(net, replica).snapshot is None


def test_the_exactly_once_table_does_not_grow_with_operations() -> None:
    net = loaded_net(seed=5, rounds=30)
    for replica in net.replicas:
        for seqs in replica.learner.kv.clients.values():
            assert seqs.ranges == [[1, 30]]  # one range, not thirty entries


# --- a follower too far behind gets a snapshot ------------------------------------------


def test_a_follower_behind_the_leaders_base_installs_a_snapshot_and_catches_up() -> None:
    net = Net(servers=3, clients=2, seed=3, params=SNAP)
    net.run_until(lambda: len(net.leaders()) == 1)
    leader = net.leaders()[0]
    lagging = net.replicas[(leader + 1) % 3]
    net.isolate(lagging.id)
    load(net, 12)
    assert lagging.commit_index < net.replicas[leader].learner.base
    net.heal()
    net.run_until(lambda: settled(net))
    load(net, 2, "b")
    net.run_until(lambda: settled(net))
    installs = [e for e in net.sent if isinstance(e.message, InstallSnapshot)]
    assert installs and all(e.target == lagging.node for e in installs)
    assert any("installing snapshot" in line for line in net.traces)
    data = net.replicas[leader].learner.kv.data
    assert all(r.learner.kv.data == data for r in net.replicas)
    assert all(r.learner.kv.clients == net.replicas[leader].learner.kv.clients
               for r in net.replicas)
    assert all(r.learner.tip_hash == lagging.learner.tip_hash for r in net.replicas)


def test_an_install_at_or_below_the_commit_index_changes_nothing() -> None:
    replica = Replica(1, make_params(**SNAP), random.Random(1))
    replica.step(0, env("s1", "s1", Boot()))
    out = replica.step(1, env("s0", "s1", InstallSnapshot(snapshot=snapshot_after([]))))
    assert out.compaction is None and replica.commit_index == 0


def test_an_acceptor_sends_its_snapshot_to_a_candidate_behind_its_base() -> None:
    net = Net(servers=3, clients=1, seed=3, params=SNAP)
    net.run_until(lambda: len(net.leaders()) == 1)
    load(net, 12)
    follower = next(r for r in net.replicas if r.id not in net.leaders())
    assert follower.learner.base > 0
    candidate = next(i for i in range(3) if i != follower.id)
    out = follower.step(net.now_ms + 1, env(server_node(candidate), follower.node,
                                            Prepare(ballot=Ballot(50, candidate), from_slot=0)))
    sent = [e.message for e in out.to_send]
    assert isinstance(sent[0], InstallSnapshot)
    assert sent[0].snapshot.height == follower.commit_index
    assert isinstance(sent[1], Promise) and sent[1].decided == ()


# --- restart from a compacted store -------------------------------------------------------


def test_a_restart_from_a_compacted_store_has_the_state_it_had() -> None:
    net = Net(servers=3, clients=2, seed=7, params=SNAP)
    net.run_until(lambda: len(net.leaders()) == 1)
    load(net, 9)
    for replica in net.replicas:
        kept = storage(net, replica)
        assert len(kept.records) < 12, "the store holds the live records, not the history"
        state = recover_state(kept.records, DIFFICULTY, kept.snapshot)
        again = Replica(replica.id, replica.params, random.Random(9), recovered=state)
        assert again.commit_index == replica.commit_index
        assert again.learner.tip_hash == replica.learner.tip_hash
        assert again.learner.kv == replica.learner.kv
        assert again.acceptor.promised == replica.acceptor.promised
        assert again.snapshot_height == kept.snapshot.height  # type: ignore[union-attr]


# --- recover_state onto a snapshot: the rules, and broken input ----------------------------


def test_records_from_zero_fold_onto_a_later_snapshot() -> None:
    # a crash after the snapshot was renamed, before the record file was rewritten
    chain = chain_of(6)
    snap = snapshot_after(chain[:4])
    records = [DecidedRecord(block=b) for b in chain]
    state = recover_state(records, DIFFICULTY, snap)
    assert state.commit_index == 6 and state.snapshot == snap


def test_records_that_end_below_an_installed_snapshot_are_dropped() -> None:
    chain = chain_of(8)
    snap = snapshot_after(chain[:6])
    records = [PromisedRecord(ballot=Ballot(2, 0)), *(DecidedRecord(block=b) for b in chain[:3])]
    state = recover_state(records, DIFFICULTY, snap)
    assert state.chain == () and state.commit_index == 6
    assert state.promised == Ballot(2, 0)


def test_a_compacted_file_starts_at_its_retained_blocks() -> None:
    chain = chain_of(9)
    snap = snapshot_after(chain[:6])
    vote = AcceptedRecord(slot=9, ballot=Ballot(3, 1),
                          block=seal_block(9, chain[8].hash, (txn(2, 1),), DIFFICULTY))
    records = [PromisedRecord(ballot=Ballot(3, 1)), vote,
               *(DecidedRecord(block=b) for b in chain[4:])]
    state = recover_state(records, DIFFICULTY, snap)
    assert [b.height for b in state.chain] == [4, 5, 6, 7, 8]
    assert state.accepted[0].slot == 9
    replica = Replica(0, make_params(**SNAP), random.Random(1), recovered=state)
    assert replica.learner.base == 4 and replica.commit_index == 9
    expected = KVStore()
    for block in chain:
        expected.apply_block(block)
    assert replica.learner.kv == expected


@pytest.mark.parametrize("case", ["wrong tip", "gap above", "no snapshot, starts late"])
def test_records_that_do_not_stand_with_the_snapshot_are_refused(case: str) -> None:
    chain = chain_of(8)
    snap = snapshot_after(chain[:5])
    if case == "wrong tip":
        other = snapshot_after(chain[:4])
        bad = Snapshot(height=5, tip=other.tip, kv=other.kv, clients=other.clients)
        with pytest.raises(RemoteError, match="hashes to"):
            recover_state([DecidedRecord(block=b) for b in chain], DIFFICULTY, bad)
    elif case == "gap above":
        with pytest.raises(RemoteError, match="missing"):
            recover_state([DecidedRecord(block=b) for b in chain[6:]], DIFFICULTY, snap)
    else:
        with pytest.raises(RemoteError, match="height 0 was expected"):
            recover_state([DecidedRecord(block=b) for b in chain[2:]], DIFFICULTY)


@pytest.mark.parametrize("data", [
    {"height": -1, "tip": GENESIS_PREV, "kv": {}, "clients": []},
    {"height": 1, "tip": "xyz", "kv": {}, "clients": []},
    {"height": 0, "tip": "1" * 64, "kv": {}, "clients": []},
    {"height": 1, "tip": "a" * 64, "kv": {"k": 1}, "clients": []},
    {"height": 1, "tip": "a" * 64, "kv": {}, "clients": [[1, [[3, 1]], 3, None]]},
    {"height": 1, "tip": "a" * 64, "kv": {}, "clients": [[1, [[1, 3], [4, 5]], 5, None]]},
    {"height": 1, "tip": "a" * 64, "kv": {}, "clients": [[1, [[1, 3]], 9, None]]},
    {"height": 1, "tip": "a" * 64, "kv": {}},
    [],
])
def test_a_malformed_snapshot_is_a_remote_error(data: object) -> None:
    with pytest.raises(RemoteError):
        Snapshot.from_dict(data)


def test_a_snapshot_round_trips_through_its_dict() -> None:
    kv = KVStore()
    for block in chain_of(5):
        kv.apply_block(block)
    kv.apply_txn(txn(2, 7, "'b'", None))
    snap = Snapshot.of(5, "b" * 64, kv)
    assert Snapshot.from_dict(snap.to_dict()) == snap
    assert snap.to_kv() == kv


def test_a_vote_cast_after_an_install_in_the_same_step_is_in_the_live_records() -> None:
    """An Accept parked for the slot just above an installed snapshot links once it is
    installed, and the follower votes in that same step. The compaction replaces the
    record file after the step's records are written, so its live records must hold
    that vote: without it the vote would be gone from disk while its Accepted leaves."""
    chain = chain_of(10)
    replica = Replica(1, make_params(**SNAP), random.Random(1))
    replica.step(0, env("s1", "s1", Boot()))
    ballot = Ballot(1, 0)
    parked = replica.step(1, env("s0", "s1", Accept(ballot=ballot, slot=8, block=chain[8],
                                                    commit_index=8)))
    assert not any(isinstance(e.message, Accepted) for e in parked.to_send)  # does not link
    out = replica.step(2, env("s0", "s1", InstallSnapshot(snapshot=snapshot_after(chain[:8]))))
    assert out.compaction is not None and out.compaction.snapshot.height == 8
    voted = [e.message for e in out.to_send if isinstance(e.message, Accepted)]
    assert [m.slot for m in voted] == [8]
    live_votes = [(r.slot, r.ballot) for r in out.compaction.live
                  if isinstance(r, AcceptedRecord)]
    assert (8, ballot) in live_votes
    # A block decided above the snapshot in the same step goes in the live records only:
    # appended to the old file it would sit above a gap.
    assert not any(isinstance(r, DecidedRecord) and r.block.height >= 8
                   for r in out.to_persist)


def test_blocks_from_a_restart_on_an_installed_snapshot_follow_the_old_ones() -> None:
    """A server restarted from a peer's snapshot before a compaction replaced its file
    (a crash after step 2) goes on appending to that file: its old blocks, then blocks
    from the snapshot's height. Recovery keeps the chain from the snapshot."""
    chain = chain_of(10)
    snap = snapshot_after(chain[:6])
    records = [DecidedRecord(block=b) for b in chain[:2]] + [
        PromisedRecord(ballot=Ballot(2, 0)), *(DecidedRecord(block=b) for b in chain[6:9])]
    state = recover_state(records, DIFFICULTY, snap)
    assert [b.height for b in state.chain] == [6, 7, 8] and state.commit_index == 9
    # ... and a later snapshot whose compaction was cut short too (seed 4007).
    later = recover_state(records, DIFFICULTY, snapshot_after(chain[:8]))
    assert [b.height for b in later.chain] == [6, 7, 8]
    with pytest.raises(RemoteError, match="hashes to"):  # newer blocks must reach its tip
        recover_state(records[:4], DIFFICULTY,
                      Snapshot(height=7, tip="c" * 64, kv=(), clients=()))
    with pytest.raises(RemoteError, match="height 7 where height 2 was expected"):
        recover_state([*records[:2], DecidedRecord(block=chain[7])], DIFFICULTY, snap)
