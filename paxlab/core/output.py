"""What one step of a node asks its driver to do, and the durability rule that binds it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from paxlab.core._fast_init import fast_init
from paxlab.core.chain import Block
from paxlab.core.ids import Ballot
from paxlab.core.messages import Envelope, Message
from paxlab.core.snapshot import Snapshot

__all__ = [
    "EMPTY_OUTPUT",
    "AcceptedRecord",
    "Compaction",
    "Completion",
    "DecidedRecord",
    "Effects",
    "Output",
    "PromisedRecord",
    "Record",
    "TimerCommand",
]


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class PromisedRecord:
    """The acceptor promised `ballot`: it must never accept below it, even after a restart."""

    ballot: Ballot


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class AcceptedRecord:
    """The acceptor accepted `block` in `slot` at `ballot`."""

    slot: int
    ballot: Ballot
    block: Block


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class DecidedRecord:
    """`block` is chosen and is the next block of the chain."""

    block: Block


Record = PromisedRecord | AcceptedRecord | DecidedRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class Compaction:
    """What a replica asks its driver to do after a snapshot (Output.compaction).

    The driver writes the step's `to_persist` first, then this. `live` is taken at the
    end of the step, so it holds every vote and promise of the step too. In this order,
    each step crash-safe (docs/storage.md): append `retired` to the chain
    archive (if the server keeps one); write `snapshot` to a new file, fsync it, rename it
    over the old one, fsync the folder; write `live` to a new record file the same way.
    After it the record file holds only `live` and what is appended later. `live`
    rebuilds everything the snapshot does not hold: the promise, the votes for open
    slots, and the retained blocks as decided records (which recovery keeps in memory but
    does not apply again: the snapshot holds their effect).
    """

    snapshot: Snapshot
    retired: tuple[Block, ...]  # the blocks dropped from memory, by height
    live: tuple[Record, ...]


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class TimerCommand:
    """Arm timer `key` to step `message` into this node at `at_ms`; `at_ms=None` cancels.

    Arming a key again replaces its earlier deadline."""

    key: str
    at_ms: int | None
    message: Message | None = None


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Completion:
    """A client operation finished: `ok` applied, `fail` certainly not, `info` unknown.

    For a put `value` is the written value; for an ok get, the value read (None: not found)."""

    client: int
    seq: int
    op: Literal["put", "get"]
    key: str
    value: str | None
    outcome: Literal["ok", "fail", "info"]
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Output:
    """Everything one `step` asks for.

    Nothing in `to_send` leaves before all of `to_persist` is written, and every promise
    and vote in it is on stable storage. An acceptor records its response in stable
    storage before sending it (Lamport, Paxos Made Simple); otherwise two leaders may
    choose two blocks for one slot. DecidedRecords may wait for the next sync: a decision
    is already durable as a majority's synced votes (docs/storage.md).
    """

    to_persist: tuple[Record, ...] = ()
    to_send: tuple[Envelope, ...] = ()
    timers: tuple[TimerCommand, ...] = ()
    committed: tuple[Block, ...] = ()  # newly committed, by height
    completed: tuple[Completion, ...] = ()  # client operations that finished
    trace: tuple[str, ...] = ()
    # A snapshot to make durable and compact behind, after to_persist is written and
    # before anything is sent (snapshot.py; docs/storage.md).
    compaction: Compaction | None = None


class Effects:
    """Mutable collector used inside one step; frozen into an Output at the end."""

    __slots__ = ("committed", "compaction", "completed", "timers", "to_persist", "to_send",
                 "trace")

    def __init__(self) -> None:
        self.compaction: Compaction | None = None
        self.to_persist: list[Record] = []
        self.to_send: list[Envelope] = []
        self.timers: list[TimerCommand] = []
        self.committed: list[Block] = []
        self.completed: list[Completion] = []
        self.trace: list[str] = []

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"Effects({fields})"

    def freeze(self) -> Output:
        """The Output of this step; a step that asks for nothing gets EMPTY_OUTPUT."""
        if not (self.to_send or self.to_persist or self.timers or self.committed
                or self.completed or self.trace or self.compaction):
            return EMPTY_OUTPUT
        return Output(tuple(self.to_persist), tuple(self.to_send), tuple(self.timers),
                      tuple(self.committed), tuple(self.completed), tuple(self.trace),
                      self.compaction)


EMPTY_OUTPUT = Output()
"""What a step that asks for nothing returns; immutable, so one object serves all."""
