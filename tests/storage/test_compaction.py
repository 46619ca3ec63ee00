"""DurableStorage.compact on real files: the snapshot file, the chain archive and the
rewritten record file; a crash at every step of a compaction; torn and corrupt files.

A cluster of three servers on disk (the core test harness, each server's host writing
to its own folder) snapshots every 4 blocks and keeps 2 below each snapshot, so a short
run compacts many times and every kind of record is in play."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from paxlab.core import Replica
from paxlab.core.chain import GENESIS_PREV, verify_block
from paxlab.core.kv import KVStore
from paxlab.core.messages import Boot
from paxlab.host import NodeHost
from paxlab.storage import FILE_NAME, DurableStorage, StorageCorruption
from paxlab.storage.chain_archive import ARCHIVE_NAME, ChainArchive
from paxlab.storage.snapshot_file import SNAPSHOT_NAME
from tests.storage.test_durable import DIFFICULTY, DiskNet, submit_round

PARAMS = {"difficulty": DIFFICULTY, "batch_size_max": 2, "pipeline_window": 3,
          "snapshot_every": 4, "retain_blocks": 2}


class Crash(Exception):
    """Raised from a compaction step: the server dies right there."""


def crash(storage: DurableStorage) -> None:
    """Drop the storage as a SIGKILL would: close the descriptor without a sync."""
    if storage._file is not None and storage._file._fd is not None:
        os.close(storage._file._fd)
        storage._file._fd = None
    storage._file = None


def disk_net(folder: Path, seed: int = 2) -> DiskNet:
    net = DiskNet(servers=3, clients=2, seed=seed, params=PARAMS)
    net.attach(folder)
    net.run_until(lambda: len(net.leaders()) == 1)
    return net


def storage_of(net: DiskNet, replica: int) -> DurableStorage:
    return net.hosts[f"s{replica}"].storage  # type: ignore[return-value]


def replay(blocks: list) -> dict[str, str]:
    store = KVStore()
    for block in blocks:
        store.apply_block(block)
    return dict(store.data)


def assert_links_to_genesis(blocks: list) -> None:
    prev = GENESIS_PREV
    for height, block in enumerate(blocks):
        assert block.height == height and block.prev == prev
        verify_block(block, DIFFICULTY)
        prev = block.hash


def settle(net: DiskNet) -> None:
    """Until every client is idle and every server holds the same tip (servers compact
    at heights of their own, so the blocks they hold differ)."""
    def tips() -> set[tuple[int, str]]:
        return {(r.commit_index, r.learner.tip_hash) for r in net.replicas
                if r.node not in net.down}
    net.run_until(lambda: not any(s.busy for s in net.sessions) and len(tips()) == 1)


def restart(net: DiskNet, replica_id: int) -> tuple[Replica, list[str]]:
    """Start server `replica_id` again from its folder, as the lab does."""
    storage = DurableStorage(net.data_dir(replica_id), fsync=True)
    state, notes = storage.recover(DIFFICULTY)
    old = net.replicas[replica_id]
    replica = Replica(replica_id, old.params, random.Random(f"re{replica_id}"), recovered=state)
    net.replicas[replica_id] = replica
    host = NodeHost(replica, net._send, storage=storage, log=net._logger(replica.node))
    net.hosts[replica.node] = host
    net.down.discard(replica.node)
    host.local(net.now_ms, Boot())
    return replica, notes


def test_compaction_keeps_the_files_small_and_the_whole_chain_readable(tmp_path: Path) -> None:
    net = disk_net(tmp_path)
    for i in range(12):
        submit_round(net, f"v{i}")
    settle(net)
    leader = net.replicas[net.leaders()[0]]
    assert leader.commit_index >= 12 and leader.learner.base > 0  # it compacted

    for replica in net.replicas:
        storage = storage_of(net, replica.id)
        storage.close()
        folder = net.data_dir(replica.id)
        assert (folder / SNAPSHOT_NAME).exists() and (folder / ARCHIVE_NAME).exists()
        full = storage.full_chain(replica.learner.chain, replica.learner.base)
        assert_links_to_genesis(full)
        assert len(full) == replica.commit_index
        assert replay(full) == replica.learner.kv.data  # the KV store is the chain's replay

        state, notes = DurableStorage(folder, fsync=True).recover(DIFFICULTY)
        assert state is not None and state.snapshot is not None
        assert any("snapshot height=" in note for note in notes)
        assert state.commit_index == replica.commit_index
        assert [b.hash for b in state.chain] == [b.hash for b in replica.learner.chain]
        again = Replica(replica.id, replica.params, random.Random(1), recovered=state)
        assert again.learner.kv.data == replica.learner.kv.data
        assert again.learner.kv.clients == replica.learner.kv.clients


def test_recovery_never_reads_the_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    """Restart time must not grow with the operations ever run: only the archive's last
    line is read, to learn where it ends."""
    net = disk_net(tmp_path)
    for i in range(8):
        submit_round(net, f"v{i}")
    settle(net)
    storage_of(net, 0).close()

    def refuse(self: ChainArchive) -> list:
        raise AssertionError("recovery read the whole archive")

    monkeypatch.setattr(ChainArchive, "blocks", refuse)
    state, _ = DurableStorage(net.data_dir(0), fsync=True).recover(DIFFICULTY)
    assert state is not None and state.snapshot is not None


@pytest.mark.parametrize("step", ["archived", "snapshot", "records"])
@pytest.mark.parametrize("victim", ["leader", "follower"])
def test_a_crash_at_each_compaction_step_recovers_and_loses_nothing(
        tmp_path: Path, step: str, victim: str) -> None:
    net = disk_net(tmp_path, seed=3)
    for i in range(5):
        submit_round(net, f"a{i}")
    settle(net)
    leader = net.leaders()[0]
    target = leader if victim == "leader" else (leader + 1) % 3
    storage = storage_of(net, target)
    compactions = 0

    def die_at(name: str) -> None:
        nonlocal compactions
        if name == step:
            compactions += 1
            if compactions == 2:  # not the first: the folder has an old snapshot too
                raise Crash(name)

    storage.on_compact_step = die_at
    crashed = False
    for i in range(10):
        try:
            submit_round(net, f"b{i}")
            net.run_for(20)
        except Crash:
            crashed = True
            break
    assert crashed, "the armed compaction never ran"
    net.down.add(f"s{target}")
    crash(storage)
    acknowledged = {(c.client, c.seq) for c in net.completions if c.outcome == "ok"}

    for i in range(3):
        submit_round(net, f"c{i}")
    replica, _notes = restart(net, target)
    for i in range(3):
        submit_round(net, f"d{i}")
    settle(net)

    assert replica.commit_index == net.replicas[(target + 1) % 3].commit_index
    fulls = []
    for other in net.replicas:
        storage = storage_of(net, other.id)
        storage.close()
        full = storage.full_chain(other.learner.chain, other.learner.base)
        start = full[0].height if full else other.learner.base
        assert start in (0, other.learner.base) and len(full) == other.commit_index - start
        if full:  # empty: it installed a snapshot at the tip and holds no block yet
            fulls.append(full)
    # At least the servers that never lagged hold the chain from genesis; every other
    # chain is a suffix of it (the restarted one may have installed a snapshot).
    reference = max(fulls, key=len)
    assert_links_to_genesis(reference)
    assert all(full == reference[full[0].height:] for full in fulls)
    kv = replay(reference)
    assert all(r.learner.kv.data == kv for r in net.replicas)
    # Every op acknowledged before the crash is in the chain, exactly once.
    assert len(acknowledged) >= 10
    applied = [t.request_id for b in reference for t in b.txns]
    assert len(applied) == len(set(applied)) and acknowledged <= set(applied)


def test_half_written_replacements_are_removed_and_the_old_files_stand(tmp_path: Path) -> None:
    net = disk_net(tmp_path)
    for i in range(6):
        submit_round(net, f"v{i}")
    settle(net)
    storage_of(net, 1).close()
    folder = net.data_dir(1)
    before, _ = DurableStorage(folder, fsync=True).recover(DIFFICULTY)
    (folder / (SNAPSHOT_NAME + ".tmp")).write_bytes(b"\x00\x00\x01")  # torn snapshot
    (folder / (FILE_NAME + ".tmp")).write_bytes((folder / FILE_NAME).read_bytes()[:20])

    after, notes = DurableStorage(folder, fsync=True).recover(DIFFICULTY)
    assert after == before
    assert sum("removed a half-finished replacement" in note for note in notes) == 2
    assert not list(folder.glob("*.tmp"))


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty"])
def test_a_damaged_snapshot_file_stops_recovery_naming_path_and_offset(
        tmp_path: Path, damage: str) -> None:
    net = disk_net(tmp_path)
    for i in range(6):
        submit_round(net, f"v{i}")
    settle(net)
    storage_of(net, 2).close()
    path = net.data_dir(2) / SNAPSHOT_NAME
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[20] ^= 0x01
    elif damage == "truncate":
        del data[-5:]
    else:
        data.clear()
    path.write_bytes(bytes(data))
    with pytest.raises(StorageCorruption, match=rf"{path}: corrupt snapshot at byte offset 0"):
        DurableStorage(net.data_dir(2), fsync=True).recover(DIFFICULTY)


def test_the_archive_cuts_a_torn_line_skips_repeats_and_refuses_a_hole(tmp_path: Path) -> None:
    net = disk_net(tmp_path)
    for i in range(10):
        submit_round(net, f"v{i}")
    settle(net)
    storage = storage_of(net, 0)
    storage.close()
    path = net.data_dir(0) / ARCHIVE_NAME
    blocks = ChainArchive(path, fsync=False).blocks()
    assert len(blocks) >= 4
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"height": 99, "pre')  # a crash mid-append

    archive = ChainArchive(path, fsync=False).open()
    assert archive.next_height == len(blocks) and "cut a torn last line" in str(archive.note)
    assert path.read_bytes() == whole

    archive.append(blocks[-2:])  # a compaction repeated after a crash: already held
    assert path.read_bytes() == whole
    held = storage.full_chain(net.replicas[0].learner.chain, net.replicas[0].learner.base)
    archive.append(held[len(blocks) + 1:])  # starts above the end: a hole, refused
    assert path.read_bytes() == whole and archive.stopped_at == len(blocks)

    path.write_bytes(whole[:-2] + b"X\n")  # the last line itself damaged
    with pytest.raises(StorageCorruption, match="corrupt archived block at byte offset"):
        ChainArchive(path, fsync=False).open()


def test_without_the_archive_the_chain_file_starts_at_the_retained_blocks(
        tmp_path: Path) -> None:
    net = DiskNet(servers=3, clients=1, seed=2, params=PARAMS)
    net.folder = tmp_path
    net.checked = 0
    for replica in net.replicas:
        storage = DurableStorage(net.data_dir(replica.id), fsync=True, keep_archive=False)
        storage.recover(DIFFICULTY)
        net.hosts[replica.node].storage = storage
    net.run_until(lambda: len(net.leaders()) == 1)
    for i in range(10):
        submit_round(net, f"v{i}")
    settle(net)
    replica = net.replicas[0]
    assert not (net.data_dir(0) / ARCHIVE_NAME).exists()
    chain = storage_of(net, 0).full_chain(replica.learner.chain, replica.learner.base)
    assert chain[0].height == replica.learner.base > 0
