"""What the network writes to messages.jsonl: each message's fields and an id per message.

The lab's router and the simulator's network carry every message of a run, so both
record it here, the same way: `message_fields` says what a message is about (type,
ballot, slot, the client ops it serves) and `MessageRecorder` numbers messages and writes
their send and arrival lines through `paxlab.results.messages.MessageLog` (the format,
docs/results-contract.md "Messages"). A driver that does not record never builds one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from paxlab.core.messages import (
    Accept,
    Accepted,
    CatchUp,
    ClientReply,
    ClientRequest,
    Envelope,
    Heartbeat,
    HeartbeatAck,
    InstallSnapshot,
    Message,
    Prepare,
    PreVote,
    PreVoteReply,
    Promise,
    Redirect,
    Reject,
)
from paxlab.results.messages import MessageLog

__all__ = ["MessageFields", "MessageRecorder", "message_fields"]

# (type, ballot "round.replica" or None, slot or None, ops as (client, seq) pairs or None)
MessageFields = tuple[str, str | None, int | None, tuple[tuple[int, int], ...] | None]


def _prepare(m: Prepare) -> MessageFields:
    return "Prepare", str(m.ballot), m.from_slot, None


def _pre_vote(m: PreVote) -> MessageFields:
    return "PreVote", str(m.ballot), None, None  # no slot: the report reads slots


def _pre_vote_reply(m: PreVoteReply) -> MessageFields:
    return "PreVoteReply", str(m.ballot), None, None


def _promise(m: Promise) -> MessageFields:
    return "Promise", str(m.ballot), m.from_slot, None


def _accept(m: Accept) -> MessageFields:
    return "Accept", str(m.ballot), m.slot, tuple((t.client, t.seq) for t in m.block.txns)


def _accepted(m: Accepted) -> MessageFields:
    return "Accepted", str(m.ballot), m.slot, None


def _reject(m: Reject) -> MessageFields:
    return "Reject", str(m.ballot), None, None


def _heartbeat(m: Heartbeat) -> MessageFields:
    return "Heartbeat", str(m.ballot), m.commit_index, None


def _heartbeat_ack(m: HeartbeatAck) -> MessageFields:
    return "HeartbeatAck", str(m.ballot), m.commit_index, None


def _catch_up(m: CatchUp) -> MessageFields:
    return "CatchUp", None, m.blocks[0].height, None


def _install_snapshot(m: InstallSnapshot) -> MessageFields:
    return "InstallSnapshot", None, m.snapshot.height, None


def _client(m: ClientRequest | ClientReply | Redirect) -> MessageFields:
    return type(m).__name__, None, None, ((m.client, m.seq),)


_FIELDS: dict[type, Callable[..., MessageFields]] = {
    PreVote: _pre_vote,
    PreVoteReply: _pre_vote_reply,
    Prepare: _prepare,
    Promise: _promise,
    Accept: _accept,
    Accepted: _accepted,
    Reject: _reject,
    Heartbeat: _heartbeat,
    HeartbeatAck: _heartbeat_ack,
    CatchUp: _catch_up,
    InstallSnapshot: _install_snapshot,
    ClientRequest: _client,
    ClientReply: _client,
    Redirect: _client,
}


def message_fields(message: Message) -> MessageFields:
    """(type, ballot, slot, ops) of one message, as a send line carries them: slot is a
    Prepare's or Promise's from_slot, an Accept's or Accepted's slot, a CatchUp's first
    height, an InstallSnapshot's height, a Heartbeat's or HeartbeatAck's commit index;
    ops are an Accept's block's txns or a client message's one op. Any other message (a
    local one never crosses the network) gives its class name and nothing else."""
    fields = _FIELDS.get(type(message))
    if fields is None:
        return type(message).__name__, None, None, None
    return fields(message)


class MessageRecorder:
    """Numbers the messages of one run (from 1, in send order) and writes their lines.

    A driver calls `send` once per message it routes, with the network's fate, and keeps
    the id with each copy it delivers later, to call `arrive` when the copy reaches its
    target (or is held, released or lost there)."""

    __slots__ = ("_next_id", "log")

    def __init__(self, log: MessageLog) -> None:
        self.log = log
        self._next_id = 1

    @classmethod
    def open(cls, path: Path | str, driver: str) -> MessageRecorder:
        """A recorder writing a new messages.jsonl at `path`."""
        return cls(MessageLog.open(path, driver))

    def send(self, t_us: int, envelope: Envelope, fate: str) -> int:
        """Record one message handed to the network; its id."""
        message_id = self._next_id
        self._next_id = message_id + 1
        kind, ballot, slot, ops = message_fields(envelope.message)
        self.log.sent(message_id, t_us, envelope.source, envelope.target, kind, ballot, slot,
                      ops, fate)
        return message_id

    def arrive(self, message_id: int, t_us: int, outcome: str) -> None:
        """Record what became of one copy of message `message_id` at its target."""
        self.log.arrived(message_id, t_us, outcome)

    @property
    def sent(self) -> int:
        """How many messages were recorded so far."""
        return self._next_id - 1

    def flush(self) -> None:
        self.log.flush()

    def close(self) -> None:
        self.log.close()
