"""SimDisk.compact: real storage's three steps (archive, snapshot, record file), a crash
between any two of them (the crash_in_compaction fault's disk side), and the full chain a
run reports from the archive and the held blocks."""

from __future__ import annotations

import random

import pytest

from paxlab.core.chain import GENESIS_PREV, Block, seal_block
from paxlab.core.ids import Ballot
from paxlab.core.kv import KVStore
from paxlab.core.output import Compaction, DecidedRecord, PromisedRecord, Record
from paxlab.core.recovery import recover_state
from paxlab.core.snapshot import Snapshot
from paxlab.sim.disk import CompactionCrash, LazySyncStorage, SimDisk, disk_counts


def blocks(count: int) -> list[Block]:
    chain: list[Block] = []
    for height in range(count):
        prev = chain[-1].hash if chain else GENESIS_PREV
        chain.append(seal_block(height, prev, (), 0))
    return chain


CHAIN = blocks(12)
PROMISE = PromisedRecord(ballot=Ballot(1, 0))


def snapshot_at(height: int) -> Snapshot:
    return Snapshot.of(height, CHAIN[height - 1].hash, KVStore())


def compaction_at(height: int, keep: int, base: int = 0) -> Compaction:
    """Snapshot at `height`, retire base..height-keep-1, keep the rest as decided records."""
    live: tuple[Record, ...] = (PROMISE, *(DecidedRecord(block=b)
                                           for b in CHAIN[height - keep:height]))
    return Compaction(snapshot=snapshot_at(height), retired=tuple(CHAIN[base:height - keep]),
                      live=live)


def filled_disk() -> SimDisk:
    disk = SimDisk()
    disk.persist([PROMISE, *(DecidedRecord(block=b) for b in CHAIN[:8])])
    return disk


def test_compact_archives_replaces_snapshot_then_records() -> None:
    disk = filled_disk()
    disk.compact(compaction_at(8, keep=2))
    assert disk.archive == CHAIN[:6]
    assert disk.snapshot == snapshot_at(8)
    assert disk.records == [PROMISE, DecidedRecord(block=CHAIN[6]), DecidedRecord(block=CHAIN[7])]
    assert (disk.writes, disk.compactions) == (9, 1)  # the rewrite is not counted again
    assert disk_counts([disk])["disk_compactions"] == 1
    state = recover_state(disk.records, 0, snapshot=disk.snapshot)
    assert state.commit_index == 8


def test_unsynced_records_become_durable_in_the_rewritten_file() -> None:
    disk = SimDisk()
    disk.write([PROMISE, *(DecidedRecord(block=b) for b in CHAIN[:8])])
    disk.compact(compaction_at(8, keep=2))
    assert disk.unsynced == [] and disk.crash(random.Random(1)) == 0
    assert len(disk.records) == 3


@pytest.mark.parametrize("step", [1, 2, 3])
def test_a_crash_after_any_step_recovers_every_block(step: int) -> None:
    """After step 1 the old snapshot and file hold everything; after step 2 the new
    snapshot stands on the old file's blocks; after step 3 the compaction is complete."""
    disk = filled_disk()
    disk.crash_after_step = step
    with pytest.raises(CompactionCrash) as info:
        disk.compact(compaction_at(8, keep=2))
    assert info.value.step == step
    assert disk.crash_after_step is None  # armed for one compaction only
    assert disk.archive == CHAIN[:6]
    assert disk.snapshot == (None if step == 1 else snapshot_at(8))
    assert len(disk.records) == (9 if step < 3 else 3)
    disk.crash(random.Random(step))
    state = recover_state(disk.records, 0, snapshot=disk.snapshot)
    assert state.commit_index == 8
    assert state.promised == PROMISE.ballot


def test_a_compaction_redone_after_a_crash_archives_each_height_once() -> None:
    disk = filled_disk()
    disk.crash_after_step = 1
    with pytest.raises(CompactionCrash):
        disk.compact(compaction_at(8, keep=2))
    disk.compact(compaction_at(8, keep=2))  # the restarted server compacts again
    assert disk.archive == CHAIN[:6]


def test_full_chain_is_the_archive_below_the_held_blocks() -> None:
    disk = SimDisk()
    disk.archive_blocks(CHAIN[:6])
    assert disk.full_chain(CHAIN[6:10], 6, CHAIN[5].hash) == CHAIN[:10]
    assert disk.full_chain([], 6, CHAIN[5].hash) == CHAIN[:6]


def test_full_chain_after_an_installed_snapshot_starts_above_0() -> None:
    """Installed at 9 from a peer: blocks 6..8 were never here, so no archive reaches."""
    disk = SimDisk()
    disk.archive_blocks(CHAIN[:6])
    assert disk.full_chain(CHAIN[9:12], 9, CHAIN[8].hash) == CHAIN[9:12]
    disk.archive_blocks(CHAIN[9:10])  # a later compaction retires block 9: a gap below it
    assert disk.full_chain(CHAIN[10:12], 10, CHAIN[9].hash) == CHAIN[9:12]


def test_lazy_sync_storage_compacts_through_its_disk() -> None:
    due: list[float] = []
    disk = SimDisk()
    lazy = LazySyncStorage(disk, lambda: 0.0, due.append)
    lazy.persist([PROMISE, *(DecidedRecord(block=b) for b in CHAIN[:8])])
    assert disk.unsynced and lazy.due_ms == due[0]
    lazy.compact(compaction_at(8, keep=2))
    assert disk.unsynced == [] and lazy.due_ms is None
    assert disk.snapshot == snapshot_at(8) and disk.archive == CHAIN[:6]
