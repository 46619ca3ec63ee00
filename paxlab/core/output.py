"""What one step of a node asks its driver to do, and the durability rule that binds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from paxlab.core.chain import Block
from paxlab.core.fast_init import fast_init
from paxlab.core.ids import Ballot
from paxlab.core.messages import Envelope, Message

__all__ = [
    "AcceptedRecord",
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


@dataclass(slots=True)
class Effects:
    """Mutable collector used inside one step; frozen into an Output at the end."""

    to_persist: list[Record] = field(default_factory=list)
    to_send: list[Envelope] = field(default_factory=list)
    timers: list[TimerCommand] = field(default_factory=list)
    committed: list[Block] = field(default_factory=list)
    completed: list[Completion] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)

    def freeze(self) -> Output:
        # Every step of every node ends here. The frozen dataclass __init__ costs about
        # four times what filling the six slots directly does, and Output has no
        # validation to skip: same fields, same values.
        output = _new_output(Output)
        _set_to_persist(output, tuple(self.to_persist))
        _set_to_send(output, tuple(self.to_send))
        _set_timers(output, tuple(self.timers))
        _set_committed(output, tuple(self.committed))
        _set_completed(output, tuple(self.completed))
        _set_trace(output, tuple(self.trace))
        return output


_new_output = object.__new__
_set_to_persist = Output.to_persist.__set__  # type: ignore[attr-defined]
_set_to_send = Output.to_send.__set__  # type: ignore[attr-defined]
_set_timers = Output.timers.__set__  # type: ignore[attr-defined]
_set_committed = Output.committed.__set__  # type: ignore[attr-defined]
_set_completed = Output.completed.__set__  # type: ignore[attr-defined]
_set_trace = Output.trace.__set__  # type: ignore[attr-defined]
