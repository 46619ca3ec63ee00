"""What one step of a node asks its driver to do, and the durability rule that binds it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from paxlab.core.chain import Block
from paxlab.core.fast_init import fast_init
from paxlab.core.ids import Ballot
from paxlab.core.messages import Envelope, Message

__all__ = [
    "EMPTY_OUTPUT",
    "AcceptedRecord",
    "Completion",
    "DecidedRecord",
    "Effects",
    "Output",
    "PromisedRecord",
    "Record",
    "TimerCommand",
    "build_output",
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

    Nothing in `to_send` leaves before all of `to_persist` is on stable storage. An
    acceptor records its response in stable storage before sending it (Lamport, Paxos
    Made Simple); otherwise two leaders may choose two blocks for one slot.
    """

    to_persist: tuple[Record, ...] = ()
    to_send: tuple[Envelope, ...] = ()
    timers: tuple[TimerCommand, ...] = ()
    committed: tuple[Block, ...] = ()  # newly committed, by height
    completed: tuple[Completion, ...] = ()  # client operations that finished
    trace: tuple[str, ...] = ()


class Effects:
    """Mutable collector used inside one step; frozen into an Output at the end.

    A plain slotted class, not a dataclass: every step of every node makes one, and six
    `default_factory` calls cost about three times these six list displays."""

    __slots__ = ("committed", "completed", "timers", "to_persist", "to_send", "trace")

    def __init__(self) -> None:
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
        # Every step of every node ends here (see build_output). A step that asks for
        # nothing (a late Accepted at the leader, most of all) gets the one shared empty
        # Output.
        if not (self.to_send or self.to_persist or self.timers or self.committed
                or self.completed or self.trace):
            return EMPTY_OUTPUT
        return build_output(tuple(self.to_persist), tuple(self.to_send), tuple(self.timers),
                            tuple(self.committed), tuple(self.completed), tuple(self.trace))


def build_output(to_persist: tuple[Record, ...] = (), to_send: tuple[Envelope, ...] = (),
                 timers: tuple[TimerCommand, ...] = (), committed: tuple[Block, ...] = (),
                 completed: tuple[Completion, ...] = (), trace: tuple[str, ...] = ()) -> Output:
    """The Output `Output(...)` would build, at about a quarter of the cost: every step of
    every node ends with one, and the frozen dataclass __init__ sets each field through
    object.__setattr__. Filling the six slots through their own descriptors gives the
    same object, as frozen; Output has no validation to skip."""
    output = _new_output(Output)
    _set_to_persist(output, to_persist)
    _set_to_send(output, to_send)
    _set_timers(output, timers)
    _set_committed(output, committed)
    _set_completed(output, completed)
    _set_trace(output, trace)
    return output


EMPTY_OUTPUT = Output()
"""What a step that asks for nothing returns; immutable, so one object serves all."""


_new_output = object.__new__
_set_to_persist = Output.to_persist.__set__  # type: ignore[attr-defined]
_set_to_send = Output.to_send.__set__  # type: ignore[attr-defined]
_set_timers = Output.timers.__set__  # type: ignore[attr-defined]
_set_committed = Output.committed.__set__  # type: ignore[attr-defined]
_set_completed = Output.completed.__set__  # type: ignore[attr-defined]
_set_trace = Output.trace.__set__  # type: ignore[attr-defined]
