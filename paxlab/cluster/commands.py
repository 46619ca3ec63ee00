"""The console's and admin's command dicts, carried out against one running server.

A person at a server's console and `paxlab cluster ...` over an admin connection speak
the same small language (contract.md, "Command dicts"): `{"cmd": NAME, ...}` in,
`{"ok": true, ...}` or `{"ok": false, "error": "one line"}` out. Commands run inside
the node loop (the transport's `call_in_loop`), so they read and step the replica with
no lock and no race. Everything the process itself must do after the reply has left
(SIGKILL itself, exit, tell the other servers) comes back as `Outcome.then` for the
server to carry out: this module touches no signal, socket or thread, so each command,
and each bad one, is a plain unit test.
"""

from __future__ import annotations

import difflib
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from paxlab.cluster.clock import SLOW_HOP_MS, DelayLine, ScaledClock, slow_scale
from paxlab.cluster.links import LinkFilter
from paxlab.cluster.msgrecord import MessageRecorder
from paxlab.core import Replica, Role
from paxlab.core.chain import Block
from paxlab.core.errors import RemoteError
from paxlab.core.messages import Campaign, Envelope
from paxlab.host import NodeHost

__all__ = ["COMMANDS", "Action", "Outcome", "ServerState", "execute", "status_of"]

Action = Literal["crash", "stop", "spread"]
Reply = dict[str, Any]

# Each command with the fields it takes (besides "cmd"): an unknown field is an error,
# so a typo never passes for a command that did something.
COMMANDS: dict[str, tuple[str, ...]] = {
    "status": (),
    "dump": (),
    "queue": (),
    "fault": ("net",),
    "crash": (),
    "pause": ("ms",),
    "resume": (),
    "elect": (),
    "trace": ("on",),
    "slow": ("on",),
    "stop": (),
}
PAUSE_MS_MAX = 24 * 3600 * 1000
HELD_LIMIT = 10_000  # inbound messages held while paused; past it the oldest is dropped


@dataclass(frozen=True, slots=True)
class Outcome:
    """A command's reply, and what the process does once the reply has left:
    "crash" (SIGKILL itself), "stop" (exit cleanly), "spread" (send the same command to
    every other server: a console's `slow on` is for the whole cluster)."""

    reply: Reply
    then: tuple[Action, ...] = ()


@dataclass(slots=True)
class ServerState:
    """What commands see and change in a running server, beside its replica.

    The node loop (server.py) reads `paused`, `trace` and `slow` before it steps or sends
    anything, holds inbound messages in `held` while paused, and delays server-to-server
    messages in `delayed` while slow."""

    replica: Replica
    host: NodeHost
    links: LinkFilter
    clock: ScaledClock
    stats: Callable[[], Mapping[str, Any]]  # the transport's stats()
    send_now: Callable[[Envelope], None]  # straight to the transport, no slow-mode delay
    log: Callable[[str], None]
    pid: int
    paused: bool = False
    resume_at_real_ns: int | None = None  # a `pause {"ms": N}` ends by itself then
    trace: bool = False
    slow: bool = False
    held: deque[Envelope] = field(default_factory=deque)
    held_dropped: int = 0
    messages: MessageRecorder | None = None  # this server's message record, if it keeps one
    # The chain from genesis, archived blocks included (DurableStorage.full_chain), for
    # `dump`; None: the blocks the replica holds, which start at its last snapshot.
    full_chain: Callable[[], Sequence[Block]] | None = None
    delayed: DelayLine[Envelope] = field(
        default_factory=lambda: DelayLine(delay_ns=SLOW_HOP_MS * 1_000_000))

    def hold(self, envelopes: list[Envelope]) -> None:
        """Keep inbound messages while paused, as a stopped process's socket buffers do."""
        for envelope in envelopes:
            if len(self.held) >= HELD_LIMIT:
                lost = self.held.popleft()
                self.held_dropped += 1
                if self.messages is not None:
                    self.messages.release(lost, "lost")
            self.held.append(envelope)

    def pause(self, ms: int | None) -> None:
        self.paused = True
        self.resume_at_real_ns = (None if ms is None
                                  else self.clock.now_real_ns() + ms * 1_000_000)

    def resume(self) -> int:
        """Unpause. The loop steps the held messages next, oldest first; how many."""
        self.paused = False
        self.resume_at_real_ns = None
        return len(self.held)

    def release_held(self) -> list[Envelope]:
        """The held messages, oldest first, once not paused (the loop steps them)."""
        if self.paused:
            return []
        released = list(self.held)
        self.held.clear()
        if self.messages is not None:
            for envelope in released:
                self.messages.release(envelope, "released")
        return released

    def set_slow(self, on: bool) -> None:
        if on == self.slow:
            return
        self.slow = on
        params = self.replica.params
        self.clock.set_scale(slow_scale(params.election_timeout_ms_min) if on else 1.0)
        if not on:  # what slow mode still held leaves now, in order
            for envelope in self.delayed.drain():
                self.send_now(envelope)


def execute(state: ServerState, request: Any, *, from_console: bool = False) -> Outcome:
    """Carry out one command dict. Bad input is an `{"ok": false}` reply, never a crash."""
    try:
        name = _check(request)
        return _COMMAND_TABLE[name](state, request, from_console)
    except RemoteError as error:
        return _error(str(error))
    except Exception as error:  # a bug must not take the server down with it
        state.log(f"command {request!r} failed: {type(error).__name__}: {error}")
        return _error(f"internal error: {type(error).__name__}: {error}")


def _error(text: str) -> Outcome:
    return Outcome({"ok": False, "error": text})


def _check(request: Any) -> str:
    if not isinstance(request, Mapping):
        raise RemoteError(f"a command is an object like {{\"cmd\": \"status\"}}, "
                          f"got {type(request).__name__}")
    name = request.get("cmd")
    if not isinstance(name, str):
        raise RemoteError("a command needs \"cmd\": a string like \"status\"")
    if name not in COMMANDS:
        near = difflib.get_close_matches(name, COMMANDS, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else f"; known: {', '.join(COMMANDS)}"
        raise RemoteError(f"unknown command {name!r}{hint}")
    extra = sorted(set(request) - {"cmd", *COMMANDS[name]})
    if extra:
        takes = ", ".join(COMMANDS[name]) or "no fields"
        raise RemoteError(f"{name}: unknown field {extra[0]!r} ({name} takes {takes})")
    return name


def _flag(request: Mapping[str, Any], name: str) -> bool:
    value = request.get("on")
    if not isinstance(value, bool):
        raise RemoteError(f"{name} needs \"on\": true or false, got {value!r}")
    return value


# --- reading -----------------------------------------------------------------------------


def status_of(state: ServerState) -> Reply:
    """The status reply (contract.md): who leads, how far the chain is, how links stand."""
    replica = state.replica
    stats = state.stats()
    promised = replica.acceptor.promised
    chain = replica.learner.chain
    return {
        "ok": True,
        "id": replica.id,
        "role": replica.role.value,
        "leader": None if replica.leader_id is None else f"s{replica.leader_id}",
        "ballot": None if promised is None else str(promised),
        "commit": replica.commit_index,
        "head": chain[-1].hash if chain else None,
        "pid": state.pid,
        "links": _link_states(state.links, stats),
        "reconnects": int(stats.get("reconnects", 0)),
        "auth_failures": int(stats.get("auth_failures", 0)),
        "paused": state.paused,
        "trace": state.trace,
        "slow": state.slow,
        "queue": len(replica.queue),
    }


def _link_states(links: LinkFilter, stats: Mapping[str, Any]) -> dict[str, str]:
    """A cut link says how it is cut; an uncut one says whether the transport has it up.
    The transport's per-peer entry is "up"/"down", or a dict with an "up" flag."""
    peers = stats.get("peers", {})
    states: dict[str, str] = {}
    for peer, state in links.states().items():
        if state == "up":
            entry = peers.get(peer, "up") if isinstance(peers, Mapping) else "up"
            if isinstance(entry, Mapping):
                entry = "up" if entry.get("up") else "down"
            state = "down" if entry == "down" else "up"
        states[peer] = state
    return states


def _status(state: ServerState, _request: Mapping[str, Any], _console: bool) -> Outcome:
    return Outcome(status_of(state))


def _dump(state: ServerState, _request: Mapping[str, Any], _console: bool) -> Outcome:
    """The chain and KV store (`cluster check`), and the message record flushed, so the
    check that dumps every server first reads every server's messages up to now."""
    if state.messages is not None:
        state.messages.flush()
    learner = state.replica.learner
    chain = learner.chain if state.full_chain is None else state.full_chain()
    return Outcome({
        "ok": True,
        "chain": [block.to_dict() for block in chain],
        "commit": state.replica.commit_index,
        "kv": dict(sorted(learner.kv.data.items())),
        "difficulty": state.replica.params.difficulty,
    })


def _queue(state: ServerState, _request: Mapping[str, Any], _console: bool) -> Outcome:
    """The request queue: proposed (a leader's blocks in flight), then queued requests."""
    replica = state.replica
    pending: list[dict[str, Any]] = []
    leader = replica.leader
    if leader is not None:
        for slot in sorted(leader.proposals):
            proposal = leader.proposals[slot]
            for txn in proposal.block.txns:
                pending.append({**txn.to_dict(), "state": "chosen" if proposal.chosen
                                else "proposed", "slot": slot})
    for request in replica.queue.items:
        pending.append({"client": request.client, "seq": request.seq, "op": request.op,
                        "key": request.key, "value": request.value, "state": "queued"})
    return Outcome({"ok": True, "pending": pending})


# --- changing ----------------------------------------------------------------------------


def _fault(state: ServerState, request: Mapping[str, Any], _console: bool) -> Outcome:
    if "net" not in request:
        raise RemoteError("fault needs \"net\": a fault like {\"cmd\": \"heal\"}")
    applied = state.links.apply(request["net"])
    state.log(f"fault: {applied}")
    return Outcome({"ok": True, "applied": applied, "links": state.links.states()})


def _crash(state: ServerState, _request: Mapping[str, Any], _console: bool) -> Outcome:
    state.log("crash: SIGKILL after this reply; only synced state survives")
    return Outcome({"ok": True, "pid": state.pid}, ("crash",))


def _stop(state: ServerState, _request: Mapping[str, Any], _console: bool) -> Outcome:
    state.log("stop: exiting cleanly")
    return Outcome({"ok": True, "pid": state.pid}, ("stop",))


def _pause(state: ServerState, request: Mapping[str, Any], _console: bool) -> Outcome:
    ms = request.get("ms")
    if ms is not None and (not isinstance(ms, int) or isinstance(ms, bool)
                           or not 0 < ms <= PAUSE_MS_MAX):
        raise RemoteError(f"pause: ms must be null or a whole number from 1 to "
                          f"{PAUSE_MS_MAX}, got {ms!r}")
    state.pause(ms)
    state.log("paused" + (f" for {ms} ms" if ms is not None else "") + ": inbound held")
    return Outcome({"ok": True, "paused": True, "ms": ms})


def _resume(state: ServerState, _request: Mapping[str, Any], _console: bool) -> Outcome:
    if not state.paused:
        return Outcome({"ok": True, "paused": False, "released": 0})
    count = state.resume()
    state.log(f"resumed: {count} held messages released")
    return Outcome({"ok": True, "paused": False, "released": count})


def _elect(state: ServerState, _request: Mapping[str, Any], _console: bool) -> Outcome:
    """Run for leader now, through the core's own door: a Campaign, which, unlike the
    election timer's message, does not wait out a live leader. Its higher ballot is what
    deposes the old one, so Paxos decides, not the console."""
    replica = state.replica
    if state.paused:
        raise RemoteError("paused: resume first, a paused server does not step")
    if replica.role is Role.LEADER:
        return Outcome({"ok": True, "role": "leader", "ballot": str(replica.leader.ballot)})  # type: ignore[union-attr]
    state.host.local(state.clock.now_ms(), Campaign())
    ballot = replica.candidate.ballot if replica.candidate else replica.acceptor.promised
    state.log(f"elect: running for leader at b={ballot}")
    return Outcome({"ok": True, "role": replica.role.value, "ballot": str(ballot)})


def _trace(state: ServerState, request: Mapping[str, Any], _console: bool) -> Outcome:
    state.trace = _flag(request, "trace")
    state.log(f"trace {'on' if state.trace else 'off'}")
    return Outcome({"ok": True, "trace": state.trace})


def _slow(state: ServerState, request: Mapping[str, Any], from_console: bool) -> Outcome:
    on = _flag(request, "slow")
    state.set_slow(on)
    scale = state.clock.scale
    state.log(f"slow {'on' if on else 'off'}" + (
        f": {SLOW_HOP_MS} ms per hop, timeouts x{scale:g}" if on else ""))
    # Typed at one console, meant for the whole cluster: each server delays its own sends.
    return Outcome({"ok": True, "slow": on, "scale": scale},
                   ("spread",) if from_console else ())


_COMMAND_TABLE: dict[str, Callable[[ServerState, Mapping[str, Any], bool], Outcome]] = {
    "status": _status,
    "dump": _dump,
    "queue": _queue,
    "fault": _fault,
    "crash": _crash,
    "pause": _pause,
    "resume": _resume,
    "elect": _elect,
    "trace": _trace,
    "slow": _slow,
    "stop": _stop,
}
