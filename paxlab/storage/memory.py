"""Storage that keeps records in memory, and the Storage protocol every store fulfils.

`NodeHost` persists through `Storage.persist` before it sends; `MemoryStorage` is the
store for tests and for nodes that need nothing durable (clients)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from paxlab.core.output import Record

__all__ = ["MemoryStorage", "Storage"]


class Storage(Protocol):
    def persist(self, records: Sequence[Record]) -> None:
        """Write and make durable; returns only when the records are safe."""


@dataclass(slots=True)
class MemoryStorage:
    """Keeps records in a list: for tests, and for nodes with nothing to keep."""

    records: list[Record] = field(default_factory=list)

    def persist(self, records: Sequence[Record]) -> None:
        self.records.extend(records)
