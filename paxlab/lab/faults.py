"""Turns a config's fault actions into router commands (the lab's nemesis vocabulary)."""

from __future__ import annotations

from typing import Any

from paxlab.config import describe_fault
from paxlab.config_types import FailLink, Fault, FixLink, Heal, Isolate, Partition, SetNetwork
from paxlab.core.ids import server_node

__all__ = ["fault_command"]


def fault_command(fault: Fault, resolved_target: str | None = None) -> dict[str, Any]:
    """The router command for `fault`; `resolved_target` is the leader's address for
    `isolate: leader`, which only the launcher knows when the fault fires."""
    detail = describe_fault(fault)
    if isinstance(fault, FailLink | FixLink):
        between = [server_node(s) for s in fault.between]
        return {"cmd": fault.ACTION, "between": between, "detail": detail}
    if isinstance(fault, Partition):
        groups = [[server_node(s) for s in group] for group in fault.groups]
        return {"cmd": "partition", "groups": groups, "detail": detail}
    if isinstance(fault, Isolate):
        if fault.target == "leader":
            if resolved_target is None:
                raise ValueError("isolate leader needs the leader's address")
            return {"cmd": "isolate", "target": resolved_target,
                    "detail": f"isolate leader ({resolved_target})"}
        return {"cmd": "isolate", "target": server_node(fault.target), "detail": detail}
    if isinstance(fault, Heal):
        return {"cmd": "heal", "detail": detail}
    if isinstance(fault, SetNetwork):
        return {"cmd": "set_network", "changes": dict(fault.changes), "detail": detail}
    raise TypeError(f"unknown fault {fault!r}")
