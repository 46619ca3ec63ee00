"""Carries out the fault schedule on the simulated cluster, with the lab's meaning
(`paxlab.lab.faults.FaultRunner`): the same targets, the same partition shapes, drawn
from the same named generator, `random.Random(f"{seed}:faults")`, in the same order.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Protocol

from paxlab.config import describe_fault
from paxlab.config_types import (
    Crash,
    CrashClient,
    FailLink,
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
from paxlab.netmodel import NetworkModel, bridge_cuts, group_cuts, random_halves, ring_cuts
from paxlab.targets import resolve_servers

__all__ = ["SimFaultRunner"]


class Cluster(Protocol):
    servers: list[str]
    clients: list[str]
    model: NetworkModel

    def leader(self) -> str | None: ...
    def is_up(self, node: str) -> bool: ...
    def is_crashed(self, node: str) -> bool: ...
    def is_paused(self, node: str) -> bool: ...
    def crash(self, node: str) -> None: ...
    def restart(self, node: str) -> None: ...
    def pause(self, node: str) -> None: ...
    def resume(self, node: str) -> None: ...


class SimFaultRunner:
    def __init__(self, cluster: Cluster, seed: int, note: Callable[[str], None]) -> None:
        self.cluster = cluster
        self.rng = random.Random(f"{seed}:faults")
        self.note = note

    def apply(self, fault: Fault) -> str | None:
        """Carry out one fault; return what was done (None: nothing to do)."""
        c = self.cluster
        if isinstance(fault, Crash | Pause):
            pool = [s for s in c.servers if c.is_up(s)]
            return self._on_servers(fault, pool, c.crash if isinstance(fault, Crash) else c.pause)
        if isinstance(fault, Restart):
            return self._on_servers(fault, [s for s in c.servers if c.is_crashed(s)], c.restart)
        if isinstance(fault, Resume):
            return self._on_servers(fault, [s for s in c.servers if c.is_paused(s)], c.resume)
        if isinstance(fault, CrashClient | RestartClient):
            return self._on_clients(fault)
        return self._network(fault)

    def _on_servers(self, fault: Crash | Pause | Restart | Resume, pool: list[str],
                    action: Callable[[str], None]) -> str | None:
        c = self.cluster
        chosen = resolve_servers(fault.target, c.servers, pool, c.leader(), self.rng)
        if not chosen:
            self.note(f"{describe_fault(fault)}: no server to apply it to")
            return None
        for node in chosen:
            action(node)
        return f"{describe_fault(fault)} ({', '.join(chosen)})"

    def _on_clients(self, fault: CrashClient | RestartClient) -> str | None:
        c = self.cluster
        wanted = c.clients if fault.client == "all" else [client_node(fault.client)]
        if isinstance(fault, CrashClient):
            chosen = [n for n in wanted if not c.is_crashed(n)]
            action = c.crash
        else:
            chosen = [n for n in wanted if c.is_crashed(n)]
            action = c.restart
        if not chosen:
            self.note(f"{describe_fault(fault)}: no client to apply it to")
            return None
        for node in chosen:
            action(node)
        return f"{describe_fault(fault)} ({', '.join(chosen)})"

    def _network(self, fault: Fault) -> str | None:
        model = self.cluster.model
        servers = self.cluster.servers
        detail = describe_fault(fault)
        if isinstance(fault, FailLink):
            model.fail_link(*(server_node(s) for s in fault.between))
        elif isinstance(fault, FixLink):
            model.fix_link(*(server_node(s) for s in fault.between))
        elif isinstance(fault, SetLink):
            a, b = (server_node(s) for s in fault.between)
            model.set_link(a, b, **dict(fault.changes))
        elif isinstance(fault, Partition):
            groups = [[server_node(s) for s in group] for group in fault.groups]
            model.set_partition(group_cuts(groups, servers),
                                " | ".join(" ".join(g) for g in groups))
        elif isinstance(fault, PartitionHalves):
            halves = random_halves(servers, self.rng)
            label = " | ".join(" ".join(h) for h in halves)
            model.set_partition(group_cuts(halves, servers), label)
            detail = f"{detail} ({label})"
        elif isinstance(fault, PartitionRing):
            model.set_partition(ring_cuts(servers), "ring " + " ".join(servers))
        elif isinstance(fault, PartitionBridge):
            cuts, label = bridge_cuts(servers, self.rng)
            model.set_partition(cuts, label)
            detail = f"{detail} ({label})"
        elif isinstance(fault, Isolate):
            if fault.target == "leader":
                target = self.cluster.leader()
                if target is None:
                    self.note("isolate leader skipped: no leader known yet")
                    return None
                model.isolate(target)
                return f"isolate leader ({target})"
            model.isolate(server_node(fault.target))
        elif isinstance(fault, Heal):
            model.heal()
        elif isinstance(fault, SetNetwork):
            model.set_rules(**dict(fault.changes))
        else:
            raise TypeError(f"unknown fault {fault!r}")
        return detail
