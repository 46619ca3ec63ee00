"""The run's faults as intervals (start to undo) naming the nodes hit, and when nodes were down.

summary.json lists each applied fault once, at the moment it was applied: a crash, later a
restart; a partition, later a heal. The report draws bars, so each fault is paired here
with what undid it. Folders written before faults gained `nodes` name them only in the
detail ("crash leader (s3)", "fail_link 0-1", "partition [0] | [1, 2]"), which is parsed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Fault", "down_intervals", "fault_intervals", "fault_nodes", "node_order"]

_NAMED = re.compile(r"\b([sc]\d+)\b")
_PAIR = re.compile(r"(\d+)\s*(?:->|-)\s*(\d+)")
_NUMBER = re.compile(r"\b(\d+)\b")
_SETTING = re.compile(r"(\w+)=([-+0-9.eE]+)")

_PARTITIONS = ("partition", "partition_halves", "partition_ring", "partition_bridge")
_LINKS = ("fail_link", "fail_link_one_way")
_UNDO_OF = {"crash": "restart", "pause": "resume", "crash_client": "restart_client"}
_UNDOES = frozenset({"restart", "resume", "restart_client", "heal", "fix_link"})
_DOWN_KIND = {"crash": "crash", "crash_client": "crash", "pause": "pause"}
_NETWORK_DEFAULTS = {"delay_ms_mean": 1.0, "delay_ms_jitter": 0.5, "drop_probability": 0.0,
                     "duplicate_probability": 0.0}  # fmt: skip


def node_order(name: str) -> tuple[int, int, str]:
    """Servers first, then clients, each by number ("s2" before "s10"), then other names."""
    group = {"s": 0, "c": 1}.get(name[:1], 2)
    number = int(name[1:]) if name[1:].isdigit() and group < 2 else -1
    return (group if number >= 0 else 2, number, name)


@dataclass
class Fault:
    """One fault as a bar: from when it was applied until what undid it (None: never)."""

    start_us: int
    end_us: int | None
    action: str
    label: str
    nodes: list[str]
    back_us: dict[str, int] = field(default_factory=dict)  # crash/pause: node -> its undo


def fault_nodes(fault: dict[str, Any], servers: Sequence[str], clients: Sequence[str]
                ) -> list[str]:  # fmt: skip
    """The nodes a fault hit: its `nodes` when recorded, else read from its detail."""
    nodes = fault.get("nodes")
    if isinstance(nodes, list) and all(isinstance(n, str) for n in nodes):
        return list(dict.fromkeys(nodes))
    action = str(fault.get("action", ""))
    detail = str(fault.get("detail", ""))
    rest = detail.removeprefix(action).strip()
    if action in _PARTITIONS and action != "partition_ring":
        return _cut_off(rest.split("|"), servers)
    named = _NAMED.findall(detail)
    if named:  # a resolved target: "crash leader (s3)", "isolate leader (s4)"
        return list(dict.fromkeys(named))
    if action in ("heal", "set_network"):
        return []
    if action in (*_LINKS, "fix_link", "set_link"):
        pair = _PAIR.search(rest)
        return [f"s{pair.group(1)}", f"s{pair.group(2)}"] if pair else []
    if action in ("crash_client", "restart_client"):
        if rest.startswith("all"):
            return list(clients)
        return [f"c{n}" for n in dict.fromkeys(_NUMBER.findall(rest))]
    if action == "partition_ring" or rest.startswith("all"):
        return list(servers)
    return [f"s{n}" for n in dict.fromkeys(_NUMBER.findall(rest))]


def _cut_off(parts: list[str], servers: Sequence[str]) -> list[str]:
    """The servers a partition cut off, as faults record them (scenario/faults.py,
    cut_off): those in a group smaller than a majority (servers in no group form one
    more); with a bridge, every server but the bridge (each lost some link)."""
    groups = [_NAMED.findall(p) or [f"s{n}" for n in _NUMBER.findall(p)] for p in parts]
    named = {s for g in groups for s in g}
    bridge = {s for p, g in zip(parts, groups, strict=True) if "bridge" in p for s in g}
    if bridge:
        return sorted(named - bridge, key=node_order)
    rest = [s for s in servers if s not in named]
    groups = [g for g in groups if g] + ([rest] if rest else [])
    majority = max(len(servers), len(named)) // 2 + 1
    alone = {s for g in groups if len(g) < majority for s in g}
    return sorted(alone or named, key=node_order)


def _settings(detail: str) -> dict[str, float]:
    return {key: float(value) for key, value in _SETTING.findall(detail)}


def _degrades(detail: str, network: dict[str, Any]) -> bool:
    """A set_network that makes the network worse than the config's own: a fault. One
    that puts it back (a nemesis `lossy` undo) is the end of one."""
    for key, value in _settings(detail).items():
        base = network.get(key, _NETWORK_DEFAULTS.get(key))
        if isinstance(base, (int, float)) and value > base:
            return True
    return False


def fault_intervals(applied: Sequence[dict[str, Any]], servers: Sequence[str],
                    clients: Sequence[str], network: dict[str, Any]) -> list[Fault]:
    """Each fault applied, paired with its undo: a crash ends when all its nodes have
    restarted, a cut (partition, isolation, failed link) at the next heal (a link also at
    its fix_link, a partition also at the next partition, which replaces it), a worse
    network at the next set_network. Undo actions themselves are not listed."""
    faults: list[Fault] = []
    open_nodes: dict[int, set[str]] = {}  # crash/pause/client crash -> nodes not yet back
    for raw in sorted((f for f in applied if isinstance(f, dict)), key=_time_ms):
        t_us = round(_time_ms(raw) * 1000)
        action = str(raw.get("action", "?"))
        detail = str(raw.get("detail", action))
        nodes = fault_nodes(raw, servers, clients)
        _close(faults, open_nodes, action, nodes, t_us)
        if action in _UNDOES or (action == "set_network" and not _degrades(detail, network)):
            continue
        faults.append(Fault(t_us, None, action, detail, nodes))
        if action in _UNDO_OF:
            open_nodes[len(faults) - 1] = set(nodes)
    return faults


def _close(faults: list[Fault], open_nodes: dict[int, set[str]], action: str,
           nodes: list[str], t_us: int) -> None:
    """End the open faults that `action` undoes, at t_us."""
    for i, fault in enumerate(faults):
        if fault.end_us is not None:
            continue
        undone = False
        if i in open_nodes:
            back = open_nodes[i] & set(nodes) if _UNDO_OF[fault.action] == action else set()
            for node in back:
                fault.back_us[node] = t_us
            open_nodes[i] -= back
            if _UNDO_OF[fault.action] == action and not fault.nodes:
                undone = True  # nodes unknown: the first undo of its kind ends it
            else:
                undone = bool(back) and not open_nodes[i]
        elif fault.action in (*_PARTITIONS, "isolate", *_LINKS):
            undone = action == "heal"
            if fault.action in _LINKS and action == "fix_link":
                undone = set(fault.nodes) == set(nodes)
            if fault.action in _PARTITIONS and action in _PARTITIONS:
                undone = True
        elif fault.action == "set_link":
            undone = action == "set_link" and set(fault.nodes) == set(nodes)
        elif fault.action == "set_network":
            undone = action == "set_network"
        if undone:
            fault.end_us = t_us
            open_nodes.pop(i, None)


def _time_ms(fault: dict[str, Any]) -> float:
    t = fault.get("time_ms")
    return float(t) if isinstance(t, (int, float)) and not isinstance(t, bool) else 0.0


def down_intervals(faults: Sequence[Fault], end_us: int) -> list[tuple[str, int, int, str]]:
    """(node, start_us, end_us, kind) for each node crashed or paused; one never brought
    back is down until the run's end."""
    found = []
    for fault in faults:
        kind = _DOWN_KIND.get(fault.action)
        if kind is None:
            continue
        for node in fault.nodes:
            found.append((node, fault.start_us, fault.back_us.get(node, end_us), kind))
    return found
