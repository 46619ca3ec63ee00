"""Protocol messages: one frozen dataclass each, named after the Paxos phase it carries.

Messages are values: they validate on construction, so a malformed one cannot exist,
and `describe()` gives one stable line for logs, transcripts and diagrams.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from paxlab.core._fast_init import fast_init
from paxlab.core.chain import Block
from paxlab.core.errors import RemoteError
from paxlab.core.ids import Ballot, NodeId
from paxlab.core.snapshot import Snapshot

__all__ = [
    "LOCAL",
    "RESPONSES",
    "Accept",
    "Accepted",
    "AcceptedEntry",
    "Boot",
    "Campaign",
    "CatchUp",
    "ClientReply",
    "ClientRequest",
    "ElectionTimeout",
    "Envelope",
    "Heartbeat",
    "HeartbeatAck",
    "HeartbeatTimeout",
    "InstallSnapshot",
    "Message",
    "PreVote",
    "PreVoteReply",
    "Prepare",
    "Promise",
    "Redirect",
    "Reject",
    "RequestTimeout",
    "Submit",
]


def _require(condition: bool, text: str) -> None:
    if not condition:
        raise RemoteError(text)


def _hash4(block: Block) -> str:
    return block.hash[:4]


class Message:
    """Base of every message; subclasses are frozen, slotted, keyword-only dataclasses."""

    __slots__ = ()

    def describe(self) -> str:
        return type(self).__name__


# --- Phase 1 --------------------------------------------------------------------------


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Prepare(Message):
    """Phase 1a, candidate -> acceptors, for every slot from `from_slot` on. Answered by
    Promise or Reject."""

    ballot: Ballot
    from_slot: int

    def __post_init__(self) -> None:
        if self.from_slot < 0:
            raise RemoteError(f"Prepare: from_slot {self.from_slot} < 0")

    def describe(self) -> str:
        return f"Prepare b={self.ballot} from_slot={self.from_slot}"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class PreVote(Message):
    """Before phase 1, would-be candidate -> all: would you promise `ballot` if I sent a
    Prepare? Changes nothing at the receiver (Raft thesis 9.6, pre-vote). Answered by
    PreVoteReply. `commit_index` is the sender's decided prefix: a server does not back a
    candidate that holds fewer decided blocks than itself."""

    ballot: Ballot
    commit_index: int

    def __post_init__(self) -> None:
        if self.commit_index < 0:
            raise RemoteError(f"PreVote: commit_index {self.commit_index} < 0")

    def describe(self) -> str:
        return f"PreVote b={self.ballot} commit={self.commit_index}"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class PreVoteReply(Message):
    """Answer to PreVote (echoing its `ballot`): `granted` when the server heard no live
    leader within its election timeout and the sender's log is as far as its own.
    `max_round` is the highest round the server has seen, so a candidate that goes on
    to phase 1 picks a ballot above the promises it will meet."""

    ballot: Ballot
    granted: bool
    max_round: int

    def describe(self) -> str:
        answer = "granted" if self.granted else "refused"
        return f"PreVoteReply b={self.ballot} {answer} max_round={self.max_round}"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class AcceptedEntry:
    """A block an acceptor accepted in `slot` at `ballot`, reported in a Promise."""

    slot: int
    ballot: Ballot
    block: Block

    def __post_init__(self) -> None:
        if self.block.height != self.slot:
            raise RemoteError(f"entry: height {self.block.height} != slot")


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Promise(Message):
    """Phase 1b, acceptor -> candidate: a promise not to accept lower ballots, with every
    block accepted from `from_slot` on and decided blocks the candidate may lack."""

    ballot: Ballot
    from_slot: int
    commit_index: int
    accepted: tuple[AcceptedEntry, ...]
    decided: tuple[Block, ...]

    def __post_init__(self) -> None:
        for offset, block in enumerate(self.decided):
            _require(block.height == self.from_slot + offset, "Promise: decided not contiguous")

    def describe(self) -> str:
        entries = ", ".join(
            f"{e.slot}: b={e.ballot} hash={_hash4(e.block)}" for e in self.accepted
        )
        return (
            f"Promise b={self.ballot} commit={self.commit_index} "
            f"decided={len(self.decided)} accepted=[{entries}]"
        )


# --- Phase 2 --------------------------------------------------------------------------


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Accept(Message):
    """Phase 2a, leader -> acceptors. Answered by Accepted or Reject. Carries the
    leader's commit index so followers learn commits without extra messages."""

    ballot: Ballot
    slot: int
    block: Block
    commit_index: int

    def __post_init__(self) -> None:
        if self.block.height != self.slot:  # text built only on failure: hot path
            raise RemoteError(f"Accept: block height {self.block.height} != slot {self.slot}")

    def describe(self) -> str:
        return f"Accept b={self.ballot} slot={self.slot} hash={_hash4(self.block)}"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Accepted(Message):
    """Phase 2b, acceptor -> leader: the acceptor stored `block_hash` in `slot`."""

    ballot: Ballot
    slot: int
    block_hash: str

    def describe(self) -> str:
        return f"Accepted b={self.ballot} slot={self.slot} hash={self.block_hash[:4]}"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Reject(Message):
    """Nack for Prepare, Accept or Heartbeat: the sender has promised a higher ballot."""

    ballot: Ballot

    def describe(self) -> str:
        return f"Reject b={self.ballot}"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Heartbeat(Message):
    """Leader -> followers, every heartbeat interval: I lead `ballot`. Answered by
    HeartbeatAck, which tells the leader who lags behind."""

    ballot: Ballot
    commit_index: int

    def describe(self) -> str:
        return f"Heartbeat b={self.ballot} commit={self.commit_index}"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class HeartbeatAck(Message):
    """Follower -> leader: alive, following `ballot`, holding `commit_index` blocks."""

    ballot: Ballot
    commit_index: int

    def describe(self) -> str:
        return f"HeartbeatAck b={self.ballot} commit={self.commit_index}"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class CatchUp(Message):
    """Decided blocks from `blocks[0].height` on, sent to a replica that lags behind."""

    blocks: tuple[Block, ...]

    def __post_init__(self) -> None:
        _require(len(self.blocks) > 0, "CatchUp: no blocks")
        first = self.blocks[0].height
        for offset, block in enumerate(self.blocks):
            _require(block.height == first + offset, "CatchUp: blocks not contiguous")

    def describe(self) -> str:
        return f"CatchUp from={self.blocks[0].height} count={len(self.blocks)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallSnapshot(Message):
    """A server's applied state at `snapshot.height`, sent to a replica so far behind
    that the blocks it lacks were compacted away: the leader sends it instead of a
    CatchUp, an acceptor along with its Promise. A follower or candidate below that
    height installs it; the blocks after it come by CatchUp as usual."""

    snapshot: Snapshot

    def describe(self) -> str:
        return (f"InstallSnapshot height={self.snapshot.height} "
                f"tip={self.snapshot.tip[:4]} keys={len(self.snapshot.kv)}")


# --- Clients --------------------------------------------------------------------------


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ClientRequest(Message):
    """Client -> server. Answered by ClientReply (from the leader) or Redirect.

    `nominate` asks the server to run for leader if it has lost touch with one: the
    client got no answer from the server it tried before."""

    client: int
    seq: int
    op: Literal["put", "get"]
    key: str
    value: str | None
    nominate: bool = False

    def __post_init__(self) -> None:
        if self.op not in ("put", "get"):
            raise RemoteError(f"ClientRequest: bad op {self.op!r}")
        _require((self.value is None) == (self.op == "get"), "ClientRequest: value vs op")
        if self.seq < 1:
            raise RemoteError(f"ClientRequest: seq {self.seq} < 1")

    def describe(self) -> str:
        value = f" {self.value}" if self.value is not None else ""
        nominate = " nominate" if self.nominate else ""
        return f"ClientRequest c{self.client}#{self.seq} {self.op} {self.key}{value}{nominate}"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ClientReply(Message):
    """Leader -> client: the operation was applied (`ok`) or certainly never will be
    (`fail`). A get's `value` is the value read, None when the key is not found."""

    client: int
    seq: int
    outcome: Literal["ok", "fail"]
    value: str | None
    error: str | None = None

    def __post_init__(self) -> None:
        if self.outcome not in ("ok", "fail"):
            raise RemoteError(f"ClientReply: bad outcome {self.outcome!r}")

    def describe(self) -> str:
        return f"ClientReply c{self.client}#{self.seq} {self.outcome} {self.value}"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Redirect(Message):
    """Non-leader -> client: try `leader_hint` (None: no leader known right now)."""

    client: int
    seq: int
    leader_hint: int | None

    def describe(self) -> str:
        return f"Redirect c{self.client}#{self.seq} hint={self.leader_hint}"


# --- Local events (a driver steps these to a node itself) -----------------------------


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Boot(Message):
    """The driver started (or restarted) this node: arm its first timers."""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ElectionTimeout(Message):
    """No word from a leader for a randomized timeout: maybe run for leader."""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Campaign(Message):
    """Someone asked this replica to run for leader now (a console's `elect`): unlike an
    ElectionTimeout it does not wait out a live leader. A leader ignores it; a higher
    ballot from the campaign is what deposes the old leader, so Paxos stays safe."""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class HeartbeatTimeout(Message):
    """Leader tick: send heartbeats, resend unacknowledged accepts, check its quorum."""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Submit(Message):
    """Workload -> client session: start one operation."""

    op: Literal["put", "get"]
    key: str
    value: str | None


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class RequestTimeout(Message):
    """Client: attempt `attempt` of op `seq` got no answer in time."""

    seq: int
    attempt: int


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    """A message with its addresses; the unit a router or simulator delivers."""

    source: NodeId
    target: NodeId
    message: Message

    def describe(self) -> str:
        return f"{self.source}->{self.target} {self.message.describe()}"


RESPONSES = frozenset({
    PreVoteReply, Promise, Accepted, Reject, HeartbeatAck, ClientReply, Redirect,
})
LOCAL = frozenset({Boot, Campaign, ElectionTimeout, HeartbeatTimeout, Submit, RequestTimeout})
