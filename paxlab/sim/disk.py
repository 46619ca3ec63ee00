"""SimDisk: one server's simulated disk, where a crash keeps what was synced and loses a
seeded part of what was only written.

A real disk has two layers: the records an fsync made durable, and the ones a write put
in the OS page cache, which power loss (or a machine crash) may cut anywhere. The lab's
`DurableStorage` with `fsync: always` writes and fsyncs in one `persist`, so nothing an
Output carries is ever at risk once its messages leave; `SimDisk.persist` keeps that
contract. `write` alone models the unsafe path a mutant takes (`LazySyncStorage`): the
records are readable while the node runs but wait for a later `sync`, and `crash` keeps
a random prefix of them. A prefix, because an append-only record file is written in
order: a crash may tear its tail, never punch a hole in the middle.

Compaction (`compact`) takes real storage's three steps, each a point a crash may fall
between (`crash_after_step`, the `crash_in_compaction` fault): archive the retired blocks,
replace the snapshot, replace the record file with the live records. The disk holds the
blocks it archived, so a run still reports every server's full chain (`full_chain`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence

from paxlab.core.chain import Block
from paxlab.core.output import Compaction, Record
from paxlab.core.snapshot import Snapshot

__all__ = ["COMPACTION_STEPS", "WRITE_BACK_MS", "CompactionCrash", "LazySyncStorage",
           "SimDisk", "disk_counts"]

COMPACTION_STEPS = 3  # archive, snapshot, record file: a crash may come after any of them


class CompactionCrash(Exception):
    """The server crashed inside a compaction, after `step` of its three steps (the
    `crash_in_compaction` fault). Raised out of `NodeHost.carry_out` before anything of
    the step is sent; the simulator catches it and crashes the server."""

    def __init__(self, step: int) -> None:
        super().__init__(f"crashed in compaction after step {step}")
        self.step = step

WRITE_BACK_MS = 200  # how long a mutant's written records wait for the OS to sync them


class SimDisk:
    """A host `Storage` with a write buffer; it outlives the node's crashes.

    Invariant: `records == durable + unsynced`; after `crash`, `unsynced` is empty;
    every record written is in `durable` or `unsynced`, or counted in `lost`.
    """

    def __init__(self) -> None:
        self.durable: list[Record] = []  # survives every crash
        self.unsynced: list[Record] = []  # written, not yet synced: a crash may cut it
        self.syncs = 0  # syncs that made at least one record durable
        self.lost = 0  # records a crash lost
        self.compacted = 0  # records a compaction dropped (net of the live ones it wrote)
        self.compactions = 0  # compactions finished, all three steps
        self.snapshot: Snapshot | None = None  # the latest durable snapshot
        # Retired blocks, ascending by height, each height once. Invariant: contiguous
        # except where the server installed a peer's snapshot (its blocks below it were
        # never here); a crash after step 1 makes the next compaction retire some again.
        self.archive: list[Block] = []
        # Armed by the crash_in_compaction fault: the next compaction stops after this
        # step (1..3) and raises CompactionCrash. None: compactions run to the end.
        self.crash_after_step: int | None = None

    @property
    def writes(self) -> int:
        """Records written. Each is durable, unsynced, lost or compacted away: counted
        from those, so that `persist` (on most steps of every server) has one count fewer
        to keep. A compaction's rewrite of the live records is not counted again."""
        return len(self.durable) + len(self.unsynced) + self.lost + self.compacted

    @property
    def records(self) -> list[Record]:
        """What a reader sees: the synced records, then the unsynced ones in write order.
        After a crash this is what recovery reads."""
        return self.durable + self.unsynced

    def write(self, records: Sequence[Record]) -> None:
        """Append `records` to the write buffer: readable now, durable only after `sync`."""
        self.unsynced.extend(records)

    def sync(self) -> None:
        """Make every written record durable (fsync)."""
        if self.unsynced:
            self.durable.extend(self.unsynced)
            self.unsynced.clear()
            self.syncs += 1

    def persist(self, records: Sequence[Record]) -> None:
        """Write and sync: the contract `NodeHost` relies on before it sends."""
        if self.unsynced or not records:
            self.write(records)
            self.sync()
            return
        # `write` then `sync` with nothing written before, in short: a server persists
        # on most steps, and a correct one never leaves anything unsynced.
        self.durable.extend(records)
        self.syncs += 1

    def compact(self, compaction: Compaction) -> None:
        """The three steps of `Compaction`, in its order: (1) archive the retired blocks,
        (2) replace the snapshot, (3) replace the records with the live ones, all durable
        (real storage writes a new file, fsyncs it and renames it over the old one, so
        what was unsynced is in the new file or was not needed). Armed by
        `crash_after_step`, it stops after that step and raises CompactionCrash."""
        stop, self.crash_after_step = self.crash_after_step, None
        self.archive_blocks(compaction.retired)
        if stop == 1:
            raise CompactionCrash(1)
        self.snapshot = compaction.snapshot
        if stop == 2:
            raise CompactionCrash(2)
        before = len(self.durable) + len(self.unsynced)
        self.durable = list(compaction.live)
        self.unsynced = []
        self.compacted += before - len(self.durable)
        self.compactions += 1
        if stop == 3:
            raise CompactionCrash(3)

    def archive_blocks(self, blocks: Sequence[Block]) -> None:
        """Append retired blocks to the archive, skipping heights it holds already (a
        compaction a crash cut after step 1 is done again after the restart)."""
        archive = self.archive
        top = archive[-1].height if archive else -1
        archive.extend(block for block in blocks if block.height > top)

    def full_chain(self, held: Sequence[Block], base: int, base_tip: str) -> list[Block]:
        """The server's chain as far down as the archive reaches: the archived blocks
        that link, height by height, below `held` (the blocks in memory from `base`,
        whose block base-1 hashes to `base_tip`), then `held`. From 0 unless the server
        installed a peer's snapshot and holds no blocks below it."""
        archive = self.archive
        prefix: list[Block] = []
        height, want = base - 1, base_tip
        i = len(archive) - 1
        while i >= 0 and archive[i].height > height:
            i -= 1
        while i >= 0 and archive[i].height == height and archive[i].hash == want:
            prefix.append(archive[i])
            height, want = height - 1, archive[i].prev
            i -= 1
        prefix.reverse()
        return prefix + list(held)

    def crash(self, rng: random.Random) -> int:
        """Power loss: a random prefix of the unsynced records (none, some or all)
        reaches the disk, the rest is gone. Returns how many records were lost.

        Draws from `rng` only when something is at risk, so a run whose disk is always
        synced draws nothing and a new draw here reshuffles no other subsystem.
        """
        if not self.unsynced:
            return 0
        kept = rng.randint(0, len(self.unsynced))
        lost = len(self.unsynced) - kept
        self.durable.extend(self.unsynced[:kept])
        self.unsynced.clear()
        self.lost += lost
        return lost


class LazySyncStorage:
    """The `no-fsync` mutant's Storage: `persist` only writes, and the disk is synced
    later, like OS write-back, `interval_ms` after the buffer first became dirty.

    `schedule(at_ms)` asks the driver to call `write_back(now_ms)` at `at_ms`; a call for
    an older dirty period (one a crash already cut) finds its due time moved and does
    nothing.
    """

    def __init__(self, disk: SimDisk, now_ms: Callable[[], float],
                 schedule: Callable[[float], None], interval_ms: float = WRITE_BACK_MS
                 ) -> None:
        self.disk = disk
        self.now_ms = now_ms
        self.schedule = schedule
        self.interval_ms = interval_ms
        self.due_ms: float | None = None  # when the current dirty period is written back

    def persist(self, records: Sequence[Record]) -> None:
        if not records:
            return
        if not self.disk.unsynced:  # the buffer turns dirty: start a write-back period
            self.due_ms = self.now_ms() + self.interval_ms
            self.schedule(self.due_ms)
        self.disk.write(records)

    def compact(self, compaction: Compaction) -> None:
        """As the disk does it: the rewrite leaves nothing unsynced, so the write-back
        period pending (if any) has nothing left to do."""
        self.disk.compact(compaction)
        self.due_ms = None

    def write_back(self, now_ms: float) -> None:
        if self.due_ms is not None and now_ms >= self.due_ms:
            self.disk.sync()
            self.due_ms = None


def disk_counts(disks: Iterable[SimDisk]) -> dict[str, int]:
    """The disks' counters summed, for a run's counts."""
    disks = list(disks)
    return {
        "disk_writes": sum(d.writes for d in disks),
        "disk_syncs": sum(d.syncs for d in disks),
        "disk_records_lost": sum(d.lost for d in disks),
        **({"disk_compactions": n} if (n := sum(d.compactions for d in disks)) else {}),
    }
