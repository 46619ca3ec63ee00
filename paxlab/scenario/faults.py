"""Carries out a fault schedule on any driver: process faults call the driver's crash,
restart, pause and resume; network faults become commands that `NetworkModel.apply_command`
understands; symbolic targets (leader, random, minority, ...) become servers.

The lab and the simulator share this one runner, so a fault means the same in both, and
random choices come from one generator seeded by the run's seed, drawn in the same order.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, Protocol

from paxlab.config import describe_fault
from paxlab.config.types import (
    Crash,
    CrashClient,
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

__all__ = ["FaultRunner", "FaultTarget"]


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


class FaultRunner:
    def __init__(self, target: FaultTarget, seed: int, note: Callable[[str], None]) -> None:
        self.target = target
        self.rng = random.Random(f"{seed}:faults")
        self.note = note
        # What was done, for summary.json and the simulator's trace: time_ms, action,
        # detail, in the order applied.
        self.applied: list[dict[str, Any]] = []

    def apply_at(self, fault: Fault, now_ms: int) -> str | None:
        """`apply`, then record and note what was done (nothing if nothing was)."""
        detail = self.apply(fault)
        if detail is not None:
            self.applied.append({"time_ms": now_ms, "action": fault.ACTION, "detail": detail})
            self.note(f"fault {fault.ACTION}: {detail}")
        return detail

    def apply(self, fault: Fault) -> str | None:
        """Carry out one fault; return what was done (None: nothing to do, e.g. no leader)."""
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
        command = self._network_command(fault, servers)
        if command is None:
            return None
        t.apply_network(command)
        return command["detail"]

    def _on_servers(self, fault: Crash | Pause | Restart | Resume, pool: list[str],
                    action: Callable[[str], None]) -> str | None:
        chosen = resolve_servers(fault.target, self.target.servers, pool, self.target.leader(),
                                 self.rng)
        return self._act(fault, chosen, action, "server")

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
