"""The online invariant monitor: watches every message a node sends and names the first
ones that break a Paxos safety rule.

The checks in `paxlab/check/` judge a run by what it left behind (chains, KV stores, the
client history); a broken rule may leave nothing behind, or leave a divergence whose cause
is lost. The monitor sits where every message passes (the simulated network, the lab's
router) and checks three rules as they happen (Lamport, Paxos Made Simple):

- `one_block_per_slot`: once a majority of acceptors sent Accepted for one block hash at
  one ballot, that hash is chosen for the slot; no other hash may ever be chosen there.
- `promise_kept`: an acceptor that promised (or accepted at) ballot b never sends an
  Accepted, or a Promise, for a lower ballot. A correct acceptor persists its promise
  before it answers, so a crash and restart changes nothing here.
- `one_leader_per_ballot`: proposer messages (Prepare, Accept, Heartbeat) with one
  ballot all come from one node.

It sees only what crosses the network: a replica's messages to itself (its own Promise
and Accepted) stay inside it. A leader is also an acceptor, and it steps its own Accept
in the same step that sends it to the others, before any answer can come back; so the
sender of an Accept counts as one of its acceptors. Without that vote a 3-server cluster
would show a block as chosen only when both followers answered, and most conflicting
choices (a new leader that ignores phase 1) would go unseen. Beyond that, the monitor's
"chosen" is a subset of what is really chosen, and the promises it knows are those sent.

It runs on every simulated message, so `observe` keeps plain dicts keyed by ints and
tuples and formats text only on a violation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from paxlab.check.verdict import CheckResult
from paxlab.core.ids import Ballot
from paxlab.core.messages import (
    Accept,
    Accepted,
    Envelope,
    Heartbeat,
    Message,
    Prepare,
    Promise,
)

__all__ = [
    "INVARIANTS",
    "VIOLATIONS_MAX",
    "InvariantMonitor",
    "MonitorReport",
    "Violation",
    "invariants_check",
]

INVARIANTS = ("one_block_per_slot", "promise_kept", "one_leader_per_ballot")
VIOLATIONS_MAX = 20
"""Violations kept with their text; later ones are only counted. One bug usually breaks a
rule over and over, and the first few name it."""

CHECK_NAME = "invariants"
_HASH_CHARS = 8  # more than describe()'s 4: proof of work makes hashes start with zeros


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: which, when, and the offending message with the earlier evidence."""

    invariant: str  # one of INVARIANTS
    time_ms: float
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {"invariant": self.invariant, "time_ms": self.time_ms,
                "description": self.description}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Violation:
        return cls(str(data["invariant"]), float(data["time_ms"]), str(data["description"]))

    def line(self) -> str:
        return f"{self.invariant} at {self.time_ms:.0f} ms: {self.description}"


@dataclass(frozen=True, slots=True)
class MonitorReport:
    """What a monitor saw in one run, in a form that travels as JSON (the lab's router
    sends it to the launcher over the control pipe)."""

    observed: int  # messages observed
    total: int  # violations found, kept or not
    violations: tuple[Violation, ...]  # the first VIOLATIONS_MAX

    def to_dict(self) -> dict[str, Any]:
        return {"observed": self.observed, "total": self.total,
                "violations": [v.to_dict() for v in self.violations]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MonitorReport:
        return cls(int(data["observed"]), int(data["total"]),
                   tuple(Violation.from_dict(v) for v in data["violations"]))

    def check(self) -> CheckResult:
        return invariants_check(self)


def invariants_check(report: MonitorReport | None) -> CheckResult:
    """The `invariants` verdict. No report (the monitor did not finish) is unknown, never
    pass: a checker that gave up has not shown anything."""
    if report is None:
        return CheckResult(CHECK_NAME, "unknown", "no invariant monitor report for this run")
    if report.total == 0:
        return CheckResult(CHECK_NAME, "pass",
                           f"{report.observed} messages observed; {', '.join(INVARIANTS)} hold")
    lines = [v.line() for v in report.violations[:5]]
    if report.total > len(lines):
        lines.append(f"... and {report.total - len(lines)} more")
    return CheckResult(CHECK_NAME, "fail", "\n".join(lines))


def _short(envelope: Envelope) -> str:
    """One line naming a message: source -> target, type, slot, ballot, hash prefix."""
    m = envelope.message
    text = f"{envelope.source}->{envelope.target} {type(m).__name__}"
    ballot = getattr(m, "ballot", None)
    if ballot is not None:
        text += f" b={ballot}"
    slot = getattr(m, "slot", None)
    if slot is not None:
        text += f" slot={slot}"
    if isinstance(m, Accept):
        text += f" hash={m.block.hash[:_HASH_CHARS]}"
    elif isinstance(m, Accepted):
        text += f" hash={m.block_hash[:_HASH_CHARS]}"
    elif isinstance(m, Promise | Prepare):
        text += f" from_slot={m.from_slot}"
    return text


# Evidence kept for a later description: (time_ms, envelope). Envelopes are immutable.
_Evidence = tuple[float, Envelope]


class InvariantMonitor:
    """Feed it every message a node sends, before the network decides its fate.

    `observe` runs on every simulated message. It does the cheap test that tells whether
    a message brings anything new itself (the usual answer is no: an Accepted at the
    ballot its acceptor already answered, for a block already chosen); only news calls
    the method that records it or names a violation.
    """

    def __init__(self, servers: int, violations_max: int = VIOLATIONS_MAX) -> None:
        self.majority = servers // 2 + 1
        self.violations_max = violations_max
        self.violations: list[Violation] = []
        self.total = 0
        self.observed = 0
        # (slot, round, replica, hash) -> acceptors that sent Accepted for it. Votes for
        # the hash already chosen in a slot are not kept: they can decide nothing.
        self._votes: dict[tuple[int, int, int, str], set[str]] = {}
        # slot -> (hash, ballot, acceptors, the Accepted that made the majority).
        self._chosen: dict[int, tuple[str, Ballot, frozenset[str], _Evidence]] = {}
        # acceptor -> ((round, replica), the message that raised it), the highest ballot
        # it promised or accepted.
        self._promised: dict[str, tuple[tuple[int, int], _Evidence]] = {}
        # (round, replica) -> the first proposer message seen with that ballot.
        self._owner: dict[tuple[int, int], _Evidence] = {}
        # The last proposer message observed and its sender, unless it broke a rule.
        self._last_message: Message | None = None
        self._last_source = ""

    def observe(self, now_ms: float, envelope: Envelope) -> None:
        self.observed += 1
        message = envelope.message
        kind = type(message)  # type dispatch on the exact class, as a table would
        if kind is Accepted or kind is Promise:
            source = envelope.source
            ballot = message.ballot  # type: ignore[attr-defined]
            key = (ballot.round, ballot.replica)
            known = self._promised.get(source)
            if known is None or known[0] != key:
                self._raise(now_ms, envelope, key, known, kind)
            if kind is Accepted:
                slot = message.slot  # type: ignore[attr-defined]
                block_hash = message.block_hash  # type: ignore[attr-defined]
                chosen = self._chosen.get(slot)
                if chosen is None or chosen[0] != block_hash:
                    self._vote(now_ms, envelope, slot, ballot, block_hash)
        elif kind is Accept or kind is Heartbeat or kind is Prepare:
            source = envelope.source
            # A broadcast hands one message object to each peer in turn. A proposer
            # message that passed once from a sender changes nothing and breaks nothing
            # when seen again from it: its vote counts once per acceptor, and its
            # ballot's first owner stays. So the copies are skipped (most Accepts and
            # Heartbeats); a message that broke a rule is never remembered here.
            if message is self._last_message and source == self._last_source:
                return
            self._last_message = message  # until a violation clears it
            self._last_source = source
            ballot = message.ballot  # type: ignore[attr-defined]
            if kind is Accept:
                slot = message.slot  # type: ignore[attr-defined]
                block_hash = message.block.hash  # type: ignore[attr-defined]
                chosen = self._chosen.get(slot)
                if chosen is None or chosen[0] != block_hash:
                    self._vote(now_ms, envelope, slot, ballot, block_hash)
            key = (ballot.round, ballot.replica)
            first = self._owner.get(key)
            if first is None or first[1].source != source:
                self._own(now_ms, envelope, ballot, key, first)

    def report(self) -> MonitorReport:
        return MonitorReport(self.observed, self.total, tuple(self.violations))

    def check(self) -> CheckResult:
        return invariants_check(self.report())

    def _violate(self, invariant: str, now_ms: float, describe: Callable[[], str]) -> None:
        """Count a violation; build its text only while under the limit. A message
        that broke a rule is not skipped as a copy (see observe): its copies to other
        peers break it again, and each counts."""
        self.total += 1
        self._last_message = None
        if len(self.violations) < self.violations_max:
            self.violations.append(Violation(invariant, now_ms, describe()))

    # --- promise_kept -------------------------------------------------------------------

    def _raise(self, now_ms: float, envelope: Envelope, key: tuple[int, int],
               known: tuple[tuple[int, int], _Evidence] | None, kind: type[Message]) -> None:
        """An acceptor answered at ballot `key`, not the highest it answered (`known`):
        below it is a violation, above raises it."""
        acceptor = envelope.source
        if known is None or key > known[0]:
            self._promised[acceptor] = (key, (now_ms, envelope))
            return
        at_ms, earlier = known[1]
        verb = "accepted" if kind is Accepted else "promised"
        self._violate("promise_kept", now_ms, lambda: (
            f"{_short(envelope)}: {acceptor} {verb} below ballot "
            f"{Ballot(*known[0])}, which it answered at {at_ms:.0f} ms "
            f"({_short(earlier)})"))

    # --- one_block_per_slot -------------------------------------------------------------

    def _vote(self, now_ms: float, envelope: Envelope, slot: int, ballot: Ballot,
              block_hash: str) -> None:
        """envelope.source accepted `block_hash` in `slot` at `ballot`, and that hash is
        not (yet) the one chosen there."""
        key = (slot, ballot.round, ballot.replica, block_hash)
        voters = self._votes.get(key)
        if voters is None:
            voters = self._votes[key] = set()
        if envelope.source in voters:
            return  # resent or duplicated: nothing new
        voters.add(envelope.source)
        if len(voters) != self.majority:
            return
        chosen = self._chosen.get(slot)
        if chosen is None:
            self._chosen[slot] = (block_hash, ballot, frozenset(voters), (now_ms, envelope))
            return
        self._violate("one_block_per_slot", now_ms, lambda: _two_blocks(
            slot, envelope, block_hash, ballot, voters, chosen))

    # --- one_leader_per_ballot ----------------------------------------------------------

    def _own(self, now_ms: float, envelope: Envelope, ballot: Ballot, key: tuple[int, int],
             first: _Evidence | None) -> None:
        """A proposer message whose ballot (`key`) has no owner yet, or another one."""
        if first is None:
            self._owner[key] = (now_ms, envelope)
            return
        self._violate("one_leader_per_ballot", now_ms, lambda: (
            f"{_short(envelope)}: ballot {ballot} is already led by "
            f"{first[1].source} ({_short(first[1])} at {first[0]:.0f} ms)"))


def _two_blocks(slot: int, envelope: Envelope, block_hash: str, ballot: Ballot,
                voters: set[str], chosen: tuple[str, Ballot, frozenset[str], _Evidence]) -> str:
    old_hash, old_ballot, old_voters, (at_ms, old_envelope) = chosen
    return (
        f"{_short(envelope)} completes a majority ({', '.join(sorted(voters))}) for hash "
        f"{block_hash[:_HASH_CHARS]} at b={ballot} in slot {slot}, but hash "
        f"{old_hash[:_HASH_CHARS]} was chosen there at b={old_ballot} by "
        f"{', '.join(sorted(old_voters))} at {at_ms:.0f} ms ({_short(old_envelope)})"
    )

