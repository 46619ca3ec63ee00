"""The frozen dataclasses a loaded config becomes; `paxlab.config` builds and re-exports them.

They are plain values with no I/O, so the lab, the simulator and the checkers can share
one config, compare two configs with ==, and never see a half-validated one: only
`paxlab.config.parse_config` builds them from user input, after checking everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from paxlab.config.fault_types import (
    ClientTarget,
    Crash,
    CrashClient,
    CrashInCompaction,
    FailLink,
    FailLinkOneWay,
    Fault,
    FixLink,
    Heal,
    Isolate,
    Nemesis,
    Partition,
    PartitionBridge,
    PartitionHalves,
    PartitionRing,
    Pause,
    Restart,
    RestartClient,
    Resume,
    ServerTarget,
    SetLink,
    SetNetwork,
)

__all__ = [
    "ChecksConfig",
    "ClientTarget",
    "ClientsConfig",
    "ClusterConfig",
    "Config",
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
    "NetworkConfig",
    "Partition",
    "PartitionBridge",
    "PartitionHalves",
    "PartitionRing",
    "Pause",
    "Restart",
    "RestartClient",
    "Resume",
    "ScriptedOp",
    "ServerTarget",
    "SetLink",
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
    fsync: Literal["always", "never"] = "always"  # never: benchmarks only, unsafe on crash.
    prevote: bool = True  # pre-vote and leader stickiness before phase 1
    # process_buffer: unsynced bytes stay in the process, so a SIGKILL is a power cut.
    storage: Literal["process_buffer", "page_cache"] = "process_buffer"
    snapshot_every: int = 1000  # blocks between snapshots; 0: never
    retain_blocks: int = 256  # >= 1: blocks kept below a snapshot, for catch-up by blocks
    chain_archive: bool = True  # real storage keeps retired blocks in an archive file


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


@dataclass(frozen=True, slots=True, kw_only=True)
class ChecksConfig:
    """Time bounds for the end of a run, so a stuck cluster fails instead of hanging."""

    quiesce_timeout_ms: int
    run_timeout_s: float
    liveness_timeout_ms: int = 3000


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
