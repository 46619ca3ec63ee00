"""Storage that keeps records in memory, and the Storage protocol every store fulfils.

`NodeHost` persists through `Storage.persist` before it sends; `MemoryStorage` is the
store for tests and for nodes that need nothing durable (clients)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from paxlab.core.chain import Block
from paxlab.core.output import Compaction, Record
from paxlab.core.snapshot import Snapshot

__all__ = ["MemoryStorage", "Storage"]


class Storage(Protocol):
    def persist(self, records: Sequence[Record]) -> None:
        """Write and make durable; returns only when the records are safe."""

    def compact(self, compaction: Compaction) -> None:
        """Archive the retired blocks, make the snapshot durable, then replace the records
        with `compaction.live` (core/output.py says in which order, and why)."""


@dataclass(slots=True)
class MemoryStorage:
    """Keeps records in a list: for tests, and for nodes with nothing to keep."""

    records: list[Record] = field(default_factory=list)
    snapshot: Snapshot | None = None
    archive: list[Block] = field(default_factory=list)  # the retired blocks, in order

    def persist(self, records: Sequence[Record]) -> None:
        self.records.extend(records)

    def compact(self, compaction: Compaction) -> None:
        self.archive.extend(compaction.retired)
        self.snapshot = compaction.snapshot
        self.records = list(compaction.live)
