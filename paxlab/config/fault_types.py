"""The fault actions a config's `faults:` list becomes, one frozen dataclass each, and
the `Fault` union of them; `paxlab.config.types` re-exports them beside the rest of a
loaded config. Each has its YAML `ACTION` name and a one-line `describe` for logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from paxlab.config.schema import format_number

__all__ = [
    "ClientTarget",
    "Crash",
    "CrashClient",
    "CrashInCompaction",
    "FailLink",
    "FailLinkOneWay",
    "Fault",
    "FixLink",
    "Heal",
    "Isolate",
    "Nemesis",
    "Partition",
    "PartitionBridge",
    "PartitionHalves",
    "PartitionRing",
    "Pause",
    "Restart",
    "RestartClient",
    "Resume",
    "ServerTarget",
    "SetLink",
    "SetNetwork",
]


def _pair(between: tuple[int, int]) -> str:
    return f"{between[0]}-{between[1]}"


@dataclass(frozen=True, slots=True, kw_only=True)
class FailLink:
    """Cut the link between two servers, both ways (the original project's failLink)."""

    ACTION: ClassVar[str] = "fail_link"
    at_ms: int
    between: tuple[int, int]  # Invariant: two different server ids, in ascending order.

    def describe(self) -> str:
        return f"fail_link {_pair(self.between)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class FixLink:
    """Restore a link cut by FailLink (the original project's fixLink)."""

    ACTION: ClassVar[str] = "fix_link"
    at_ms: int
    between: tuple[int, int]  # Invariant: two different server ids, in ascending order.

    def describe(self) -> str:
        return f"fix_link {_pair(self.between)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class FailLinkOneWay:
    """Lose every message from `source` to `target`, while `target` still reaches `source`.
    A one-way cut lets a server hear a leader it cannot answer (or the reverse), the shape
    that hides livelocks from safety-only fuzzing. fix_link on the pair, or heal, undoes it."""

    ACTION: ClassVar[str] = "fail_link_one_way"
    at_ms: int
    source: int  # the YAML key `from`
    target: int  # the YAML key `to`; Invariant: != source.

    def describe(self) -> str:
        return f"fail_link_one_way {self.source}->{self.target}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Partition:
    """Servers talk only within their group; servers in no group form one extra group."""

    ACTION: ClassVar[str] = "partition"
    at_ms: int
    groups: tuple[tuple[int, ...], ...]  # Invariant: non-empty, disjoint, ids < servers.

    def describe(self) -> str:
        return "partition " + " | ".join(
            "[" + ", ".join(str(server) for server in group) + "]" for group in self.groups
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Isolate:
    """Cut one server off from all others; "leader" is resolved when the fault fires,
    because who leads is only known then."""

    ACTION: ClassVar[str] = "isolate"
    at_ms: int
    target: int | Literal["leader"]

    def describe(self) -> str:
        return f"isolate {self.target}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Heal:
    """Remove every partition, isolation and failed link, so the run can converge."""

    ACTION: ClassVar[str] = "heal"
    at_ms: int

    def describe(self) -> str:
        return "heal"


def _changes(changes: tuple[tuple[str, float], ...]) -> str:
    return " ".join(f"{key}={format_number(value)}" for key, value in changes)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetNetwork:
    """Change some network keys from now on; the others keep their current values."""

    ACTION: ClassVar[str] = "set_network"
    at_ms: int
    changes: tuple[tuple[str, float], ...]  # Invariant: non-empty, network keys in table order.

    def describe(self) -> str:
        return "set_network " + _changes(self.changes)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetLink:
    """Network rules for one link, both ways, overriding the global ones on it. heal leaves
    them alone; a later SetLink on the same link replaces it."""

    ACTION: ClassVar[str] = "set_link"
    at_ms: int
    between: tuple[int, int]  # Invariant: two different server ids, in ascending order.
    changes: tuple[tuple[str, float], ...]  # Invariant: non-empty, network keys in table order.

    def describe(self) -> str:
        return f"set_link {_pair(self.between)} {_changes(self.changes)}"


ServerTarget = int | tuple[int, ...] | Literal["leader", "random", "minority", "majority", "all"]
"""Which servers a process fault hits. A tuple is non-empty, distinct and ascending. Words
are resolved when the fault fires: `leader` is who leads then; `minority` is a random
(servers-1)//2 of them, `majority` a random servers//2+1. For restart and resume the words
choose among the servers crashed or paused at that moment, and `leader` is not allowed."""

ClientTarget = int | Literal["all"]
"""Which client a client fault hits: one client id, or every client."""


def _show_target(target: ServerTarget) -> str:
    if isinstance(target, tuple):
        return "[" + ", ".join(str(server) for server in target) + "]"
    return str(target)


@dataclass(frozen=True, slots=True, kw_only=True)
class Crash:
    """SIGKILL servers: each dies at once and loses all it had not synced."""

    ACTION: ClassVar[str] = "crash"
    at_ms: int
    target: ServerTarget

    def describe(self) -> str:
        return f"crash {_show_target(self.target)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CrashInCompaction:
    """Simulator only: arm servers so that each crashes inside its next compaction, after
    `step` of its three steps (archive, snapshot, record file), before the messages of
    that step leave; it restarts `restart_after_ms` later. What a power loss in the
    middle of a compaction does, which a crash at a random time almost never hits."""

    ACTION: ClassVar[str] = "crash_in_compaction"
    at_ms: int
    target: ServerTarget
    step: int | None = None  # 1..3; None: drawn when it fires
    restart_after_ms: int = 300

    def describe(self) -> str:
        step = "a random step" if self.step is None else f"step {self.step}"
        return (f"crash_in_compaction {_show_target(self.target)} after {step}, "
                f"restart after {self.restart_after_ms} ms")


@dataclass(frozen=True, slots=True, kw_only=True)
class Restart:
    """Start crashed servers again; each recovers from its data folder."""

    ACTION: ClassVar[str] = "restart"
    at_ms: int
    target: ServerTarget  # Invariant: not "leader".

    def describe(self) -> str:
        return f"restart {_show_target(self.target)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Pause:
    """SIGSTOP servers: frozen, so messages to them wait (a long GC pause, a stalled VM)."""

    ACTION: ClassVar[str] = "pause"
    at_ms: int
    target: ServerTarget

    def describe(self) -> str:
        return f"pause {_show_target(self.target)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Resume:
    """SIGCONT paused servers."""

    ACTION: ClassVar[str] = "resume"
    at_ms: int
    target: ServerTarget  # Invariant: not "leader".

    def describe(self) -> str:
        return f"resume {_show_target(self.target)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CrashClient:
    """SIGKILL a client process; its pending operation's outcome is unknown (info)."""

    ACTION: ClassVar[str] = "crash_client"
    at_ms: int
    client: ClientTarget  # Invariant: an id < clients.count, or "all".

    def describe(self) -> str:
        return f"crash_client {self.client}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RestartClient:
    """Start a crashed client again; it continues its workload with new sequence numbers."""

    ACTION: ClassVar[str] = "restart_client"
    at_ms: int
    client: ClientTarget  # Invariant: an id < clients.count, or "all".

    def describe(self) -> str:
        return f"restart_client {self.client}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PartitionHalves:
    """Two random halves (servers//2 and the rest), resolved when it fires."""

    ACTION: ClassVar[str] = "partition_halves"
    at_ms: int

    def describe(self) -> str:
        return "partition_halves"


@dataclass(frozen=True, slots=True, kw_only=True)
class PartitionRing:
    """Majority ring: server i talks only to servers i-1 and i+1 (mod servers)."""

    ACTION: ClassVar[str] = "partition_ring"
    at_ms: int

    def describe(self) -> str:
        return "partition_ring"


@dataclass(frozen=True, slots=True, kw_only=True)
class PartitionBridge:
    """Two random halves plus one bridge server that talks to both; needs 3 servers."""

    ACTION: ClassVar[str] = "partition_bridge"
    at_ms: int

    def describe(self) -> str:
        return "partition_bridge"


@dataclass(frozen=True, slots=True, kw_only=True)
class Nemesis:
    """A seeded random fault mix; `paxlab.scenario.nemesis.expand_nemesis` turns it into concrete
    faults, so the lab and the simulator never see it and a run stays reproducible."""

    ACTION: ClassVar[str] = "nemesis"
    at_ms: int
    kinds: tuple[str, ...]  # Invariant: non-empty, distinct, from NEMESIS_KINDS.
    interval_ms: int  # >= 1
    until_ms: int  # Invariant: > at_ms.
    seed: int | None  # None: the config's seed.

    def describe(self) -> str:
        seed = "config seed" if self.seed is None else f"seed {self.seed}"
        return (f"nemesis {', '.join(self.kinds)} every {self.interval_ms} ms "
                f"until {self.until_ms} ms ({seed})")


Fault = (
    FailLink | FixLink | FailLinkOneWay | Partition | PartitionHalves | PartitionRing
    | PartitionBridge | Isolate | Heal | SetNetwork | SetLink | Crash | Restart | Pause
    | Resume | CrashClient | RestartClient | Nemesis | CrashInCompaction
)
