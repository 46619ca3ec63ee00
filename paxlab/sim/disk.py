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
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence

from paxlab.core.output import Record

__all__ = ["WRITE_BACK_MS", "LazySyncStorage", "SimDisk", "disk_counts"]

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

    @property
    def writes(self) -> int:
        """Records written. Each is durable, unsynced or lost: counted from those three,
        so that `persist` (on most steps of every server) has one count fewer to keep."""
        return len(self.durable) + len(self.unsynced) + self.lost

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
    }
