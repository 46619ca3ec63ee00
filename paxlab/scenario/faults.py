"""Carries out a fault schedule on any driver: process faults call the driver's crash,
restart, pause and resume; network faults become commands that `NetworkModel.apply_command`
understands; symbolic targets (leader, random, minority, ...) become servers.

The lab and the simulator share this one runner, so a fault means the same in both, and
random choices come from one generator seeded by the run's seed, drawn in the same order.

Each applied fault is recorded as {"time_ms", "action", "detail", "nodes"}: `nodes` names
the nodes it hit, for the report's fault ribbon (docs/results-contract.md): the servers or
clients crashed, restarted, paused or resumed; both ends of a link; the servers a
partition or isolation cuts off from the rest; none for heal and set_network.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from paxlab.config import describe_fault
from paxlab.config.types import (
    Crash,
    CrashClient,
    CrashInCompaction,
    FailLink,
    FailLinkOneWay,
    Fault,
    FixLink,
    Heal,
    Isolate,
    Partition,
    PartitionBridge,
    PartitionHalves,
    PartitionRing,
    Pause,
    Restart,
    RestartClient,
    Resume,
    SetLink,
    SetNetwork,
)
from paxlab.core.ids import client_node, server_node
from paxlab.network.model import bridge_cuts, group_cuts, random_halves, ring_cuts
from paxlab.scenario.targets import resolve_servers

__all__ = ["CompactionCrashTarget", "FaultRunner", "FaultTarget"]


class FaultTarget(Protocol):
    """What a driver offers the fault runner."""

    @property
    def servers(self) -> list[str]: ...
    @property
    def clients(self) -> list[str]: ...
    def leader(self) -> str | None: ...
    def is_up(self, node: str) -> bool: ...
    def is_crashed(self, node: str) -> bool: ...
    def is_paused(self, node: str) -> bool: ...
    def crash(self, node: str) -> None: ...
    def restart(self, node: str) -> None: ...
    def pause(self, node: str) -> None: ...
    def resume(self, node: str) -> None: ...
    def apply_network(self, command: dict[str, Any]) -> None: ...


@runtime_checkable
class CompactionCrashTarget(Protocol):
    """A driver that can crash a server inside a compaction: the simulator only."""

    def arm_compaction_crash(self, node: str, step: int, restart_after_ms: int) -> None: ...


class FaultRunner:
    def __init__(self, target: FaultTarget, seed: int, note: Callable[[str], None]) -> None:
        self.target = target
        self.rng = random.Random(f"{seed}:faults")
        self.note = note
        # What was done, for summary.json and the simulator's trace: time_ms, action,
        # detail, nodes, in the order applied. (The trace leaves `nodes` out: it came
        # later, and the simulator's recorded digests stay valid.)
        self.applied: list[dict[str, Any]] = []
        self._nodes: list[str] = []  # the nodes the fault being applied hit

    def apply_at(self, fault: Fault, now_ms: int) -> str | None:
        """`apply`, then record and note what was done (nothing if nothing was)."""
        detail = self.apply(fault)
        if detail is not None:
            self.applied.append({"time_ms": now_ms, "action": fault.ACTION, "detail": detail,
                                 "nodes": list(self._nodes)})
            self.note(f"fault {fault.ACTION}: {detail}")
        return detail

    def apply(self, fault: Fault) -> str | None:
        """Carry out one fault; return what was done (None: nothing to do, e.g. no leader)."""
        self._nodes = []
        t = self.target
        servers = t.servers
        if isinstance(fault, Crash | Pause):
            pool = [s for s in servers if t.is_up(s)]
            return self._on_servers(fault, pool, t.crash if isinstance(fault, Crash) else t.pause)
        if isinstance(fault, Restart):
            return self._on_servers(fault, [s for s in servers if t.is_crashed(s)], t.restart)
        if isinstance(fault, Resume):
            return self._on_servers(fault, [s for s in servers if t.is_paused(s)], t.resume)
        if isinstance(fault, CrashClient | RestartClient):
            return self._on_clients(fault)
        if isinstance(fault, CrashInCompaction):
            return self._arm_compaction_crash(fault)
        command = self._network_command(fault, servers)
        if command is None:
            return None
        t.apply_network(command)
        self._nodes = _network_nodes(command, servers)
        return command["detail"]

    def _on_servers(self, fault: Crash | Pause | Restart | Resume, pool: list[str],
                    action: Callable[[str], None]) -> str | None:
        chosen = resolve_servers(fault.target, self.target.servers, pool, self.target.leader(),
                                 self.rng)
        return self._act(fault, chosen, action, "server")

    def _arm_compaction_crash(self, fault: CrashInCompaction) -> str | None:
        """Arm the running target servers; each draws its step now unless it is given.
        The crash itself happens at the server's next compaction, and the driver records
        it then as an applied fault of its own."""
        t = self.target
        if not isinstance(t, CompactionCrashTarget):
            raise TypeError(f"{fault.ACTION} is simulator only; this driver cannot run it")
        chosen = resolve_servers(fault.target, t.servers, [s for s in t.servers if t.is_up(s)],
                                 t.leader(), self.rng)
        if not chosen:
            self.note(f"{describe_fault(fault)}: no server to apply it to")
            return None
        armed = []
        for node in chosen:
            step = fault.step if fault.step is not None else self.rng.randint(1, 3)
            t.arm_compaction_crash(node, step, fault.restart_after_ms)
            armed.append(f"{node} after step {step}")
        self._nodes = list(chosen)
        return f"{describe_fault(fault)} ({', '.join(armed)})"

    def _on_clients(self, fault: CrashClient | RestartClient) -> str | None:
        t = self.target
        wanted = t.clients if fault.client == "all" else [client_node(fault.client)]
        if isinstance(fault, CrashClient):
            chosen = [c for c in wanted if not t.is_crashed(c)]
            action = t.crash
        else:
            chosen = [c for c in wanted if t.is_crashed(c)]
            action = t.restart
        return self._act(fault, chosen, action, "client")

    def _act(self, fault: Fault, chosen: list[str], action: Callable[[str], None],
             kind: str) -> str | None:
        """Apply `action` to each chosen node; the detail names them, or None if none."""
        if not chosen:
            self.note(f"{describe_fault(fault)}: no {kind} to apply it to")
            return None
        for node in chosen:
            action(node)
        self._nodes = list(chosen)
        return f"{describe_fault(fault)} ({', '.join(chosen)})"

    def _network_command(self, fault: Fault, servers: list[str]) -> dict[str, Any] | None:
        detail = describe_fault(fault)
        if isinstance(fault, FailLink | FixLink):
            between = [server_node(s) for s in fault.between]
            return {"cmd": fault.ACTION, "between": between, "detail": detail}
        if isinstance(fault, FailLinkOneWay):
            return {"cmd": fault.ACTION, "source": server_node(fault.source),
                    "target": server_node(fault.target), "detail": detail}
        if isinstance(fault, SetLink):
            between = [server_node(s) for s in fault.between]
            return {"cmd": "set_link", "between": between, "changes": dict(fault.changes),
                    "detail": detail}
        if isinstance(fault, Partition):
            groups = [[server_node(s) for s in group] for group in fault.groups]
            return self._cut(group_cuts(groups, servers),
                             " | ".join(" ".join(g) for g in groups), detail)
        if isinstance(fault, PartitionHalves):
            halves = random_halves(servers, self.rng)
            label = " | ".join(" ".join(h) for h in halves)
            return self._cut(group_cuts(halves, servers), label, f"{detail} ({label})")
        if isinstance(fault, PartitionRing):
            return self._cut(ring_cuts(servers), "ring " + " ".join(servers), detail)
        if isinstance(fault, PartitionBridge):
            cuts, label = bridge_cuts(servers, self.rng)
            return self._cut(cuts, label, f"{detail} ({label})")
        if isinstance(fault, Isolate):
            if fault.target == "leader":
                target = self.target.leader()
                if target is None:
                    self.note("isolate leader skipped: no leader known yet")
                    return None
                return {"cmd": "isolate", "target": target,
                        "detail": f"isolate leader ({target})"}
            return {"cmd": "isolate", "target": server_node(fault.target), "detail": detail}
        if isinstance(fault, Heal):
            return {"cmd": "heal", "detail": detail}
        if isinstance(fault, SetNetwork):
            return {"cmd": "set_network", "changes": dict(fault.changes), "detail": detail}
        raise TypeError(f"unknown fault {fault!r}")

    @staticmethod
    def _cut(cuts: set[frozenset[str]], label: str, detail: str) -> dict[str, Any]:
        pairs = sorted(sorted(pair) for pair in cuts)
        return {"cmd": "cut", "pairs": pairs, "label": label, "detail": detail}


def _network_nodes(command: dict[str, Any], servers: list[str]) -> list[str]:
    """The nodes a network command hits, in server order."""
    name = command["cmd"]
    if name in ("fail_link", "fix_link", "set_link"):
        hit = set(command["between"])
    elif name == "fail_link_one_way":
        hit = {command["source"], command["target"]}
    elif name == "isolate":
        hit = {command["target"]}
    elif name == "cut":
        hit = cut_off(command["pairs"], servers)
    else:  # heal, set_network: every node alike, none singled out
        hit = set()
    return [s for s in servers if s in hit]


def cut_off(pairs: list[list[str]], servers: list[str]) -> set[str]:
    """The servers a partition cuts off: those that can no longer reach a majority of the
    servers (themselves included) directly: the minority side of a split, every side of
    a split with no majority. If every server still can (a majority ring, a bridge),
    the servers that lost any link."""
    cut = {frozenset(pair) for pair in pairs}
    majority = len(servers) // 2 + 1
    reach = {s: sum(1 for other in servers if frozenset((s, other)) not in cut)
             for s in servers}
    alone = {s for s in servers if reach[s] < majority}
    return alone or {s for s in servers if reach[s] < len(servers)}
