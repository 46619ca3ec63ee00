"""The frozen dataclasses a loaded config becomes; `paxlab.config` builds and re-exports them.

They are plain values with no I/O, so the lab, the simulator and the checkers can share
one config, compare two configs with ==, and never see a half-validated one: only
`paxlab.config.parse_config` builds them from user input, after checking everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from paxlab.config_schema import format_number

__all__ = [
    "ChecksConfig",
    "ClientsConfig",
    "ClusterConfig",
    "Config",
    "FailLink",
    "Fault",
    "FixLink",
    "Heal",
    "Isolate",
    "NetworkConfig",
    "Partition",
    "ScriptedOp",
    "SetNetwork",
    "WorkloadConfig",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterConfig:
    """The servers and the protocol's timing knobs, shared by every replica of a run."""

    servers: int  # 1..15; ids are 0..servers-1
    heartbeat_interval_ms: int
    election_timeout_ms_min: int  # Invariant: > heartbeat_interval_ms, so a live leader is heard.
    election_timeout_ms_max: int  # Invariant: >= election_timeout_ms_min.
    batch_size_max: int
    pipeline_window: int
    difficulty: int  # proof-of-work leading zero bits, 0..32
    accept_retry_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkConfig:
    """The link model for every server<->server and client<->server message."""

    delay_ms_mean: float
    delay_ms_jitter: float
    drop_probability: float  # 0..1
    duplicate_probability: float  # 0..1


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientsConfig:
    """How many clients there are and how long they wait before retrying or giving up."""

    count: int
    request_timeout_ms: int
    op_timeout_ms: int  # Invariant: >= request_timeout_ms; past it the op is recorded as info.


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptedOp:
    """One op of a scripted workload. Key and value are canonical reprs of Python literals,
    so the exact same text reaches the history and the checkers on every run."""

    at_ms: int
    client: int
    f: Literal["put", "get"]
    key: str
    value: str | None  # Invariant: None exactly when f == "get".


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkloadConfig:
    """What the clients do: a seeded random closed loop, or a fixed script of ops."""

    type: Literal["generated", "scripted"]
    ops_per_client: int | None  # generated: exactly one of ops_per_client, duration_ms is set.
    duration_ms: int | None  # scripted: both are None.
    put_fraction: float
    keys: int
    key_distribution: Literal["uniform", "zipf"]
    zipf_exponent: float
    think_time_ms: int
    ops: tuple[ScriptedOp, ...]  # scripted: non-empty, sorted by at_ms; generated: empty.


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


@dataclass(frozen=True, slots=True, kw_only=True)
class SetNetwork:
    """Change some network keys from now on; the others keep their current values."""

    ACTION: ClassVar[str] = "set_network"
    at_ms: int
    changes: tuple[tuple[str, float], ...]  # Invariant: non-empty, network keys in table order.

    def describe(self) -> str:
        return "set_network " + " ".join(
            f"{key}={format_number(value)}" for key, value in self.changes
        )


Fault = FailLink | FixLink | Partition | Isolate | Heal | SetNetwork


@dataclass(frozen=True, slots=True, kw_only=True)
class ChecksConfig:
    """Time bounds for the end of a run, so a stuck cluster fails instead of hanging."""

    quiesce_timeout_ms: int
    run_timeout_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """One whole run. `source` is the file it came from, for messages; `seed` drives
    every random choice, so (config, seed) names a run exactly."""

    name: str
    seed: int
    source: str
    cluster: ClusterConfig
    network: NetworkConfig
    clients: ClientsConfig
    workload: WorkloadConfig
    faults: tuple[Fault, ...]  # Invariant: sorted by at_ms, equal times in file order.
    checks: ChecksConfig
