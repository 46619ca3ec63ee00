"""One server's view of the link faults typed by hand: which of its links are cut, and how.

In the lab one router applies every fault to every message. A TCP cluster has no router:
each server drops what crosses one of its own cut links, at send and at receive (the
transport asks `is_cut` both times), so a fault needs no cooperation from the far side
and still means what it means in the lab. The state is the lab's own `NetworkModel`
(paxlab.network.model), fed from the contract's `fault {"net": ...}` dicts, so "fail_link",
"partition" and "isolate" cut exactly the pairs they cut in a lab run.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, Literal

from paxlab.config.types import NetworkConfig
from paxlab.core.errors import RemoteError
from paxlab.core.ids import node_parts, server_node
from paxlab.network.model import NetworkModel

__all__ = ["NET_COMMANDS", "LinkFilter", "LinkState"]

LinkState = Literal["up", "cut", "cut-out", "cut-in"]

# The fault dicts a server accepts, with the fields each one needs (contract.md, "fault").
NET_COMMANDS: dict[str, tuple[str, ...]] = {
    "fail_link": ("a", "b"),
    "fix_link": ("a", "b"),
    "fail_link_one_way": ("source", "target"),
    "partition": ("groups",),
    "isolate": ("server",),
    "heal": (),
}

# Cuts only: a TCP link has its own delays, so the model's delay and drop rules stay off.
_NO_RULES = NetworkConfig(delay_ms_mean=0.0, delay_ms_jitter=0.0, drop_probability=0.0,
                          duplicate_probability=0.0)


class LinkFilter:
    """The cut links of server `me` in a cluster of `server_count` servers.

    `apply(command)` takes a fault dict (contract.md) and raises RemoteError naming the bad
    field, so a typo is an error for the one who typed it, never a crash. Clients are
    never cut: as in the lab, faults apply between servers only.
    """

    def __init__(self, me: str, server_count: int) -> None:
        self.me = me
        self.servers = [server_node(i) for i in range(server_count)]
        if me not in self.servers:
            raise RemoteError(f"{me!r} is not one of the servers s0..s{server_count - 1}")
        self._model = NetworkModel(rules=_NO_RULES, rng=random.Random(0))

    # --- changes -----------------------------------------------------------------------

    def apply(self, command: Mapping[str, Any]) -> str:
        """Carry out one fault dict; return a short line saying what changed, for the log."""
        if not isinstance(command, Mapping):
            raise RemoteError(f"a net fault must be an object, got {type(command).__name__}")
        name = command.get("cmd")
        if name not in NET_COMMANDS:
            known = ", ".join(NET_COMMANDS)
            raise RemoteError(f"unknown net fault {name!r}; known: {known}")
        missing = [f for f in NET_COMMANDS[name] if f not in command]
        if missing:
            raise RemoteError(f"{name} needs {', '.join(missing)}")
        model = self._model
        if name in ("fail_link", "fix_link"):
            a, b = self._pair(command["a"], command["b"])
            if name == "fail_link":
                model.fail_link(a, b)
                return f"link {a}-{b} failed"
            model.fix_link(a, b)
            return f"link {a}-{b} fixed"
        if name == "fail_link_one_way":
            source, target = self._pair(command["source"], command["target"])
            model.fail_link_one_way(source, target)
            return f"link {source}->{target} failed"
        if name == "partition":
            groups = self._groups(command["groups"])
            model.partition(groups, self.servers)
            return "partition " + " | ".join(" ".join(group) for group in groups)
        if name == "isolate":
            server = self._server(command["server"], "server")
            model.isolate(server)
            return f"{server} isolated"
        model.heal()
        return "healed"

    def heal(self) -> None:
        self._model.heal()

    # --- questions ---------------------------------------------------------------------

    def is_cut(self, source: str, target: str) -> bool:
        """Whether a message source -> target is lost. Clients and admin are never cut."""
        return self._model.is_cut(source, target)

    def state(self, peer: str) -> LinkState:
        """How the link to `peer` stands: "up", "cut" (both ways), "cut-out" (we cannot
        send to it) or "cut-in" (we cannot hear it). The transport turns "up" into "down"
        when no connection is open."""
        out = self.is_cut(self.me, peer)
        into = self.is_cut(peer, self.me)
        if out and into:
            return "cut"
        if out:
            return "cut-out"
        if into:
            return "cut-in"
        return "up"

    def states(self) -> dict[str, LinkState]:
        """Every peer's link state, by peer id in order."""
        return {peer: self.state(peer) for peer in self.servers if peer != self.me}

    def active_faults(self) -> list[str]:
        """One phrase per fault in force, as the lab's progress line shows them."""
        return self._model.active_faults()

    # --- checks ------------------------------------------------------------------------

    def _server(self, value: Any, field: str) -> str:
        if not isinstance(value, str):
            raise RemoteError(f"{field} must be a server id like 's1', got {value!r}")
        try:
            kind, _ = node_parts(value)
        except RemoteError:
            kind = "client"
        if kind != "server" or value not in self.servers:
            raise RemoteError(
                f"{field} = {value!r}: expected a server s0..s{len(self.servers) - 1}")
        return value

    def _pair(self, a: Any, b: Any) -> tuple[str, str]:
        first = self._server(a, "first server")
        second = self._server(b, "second server")
        if first == second:
            raise RemoteError(f"a link joins two different servers, got {first} twice")
        return first, second

    def _groups(self, value: Any) -> list[list[str]]:
        if not isinstance(value, list) or not value:
            raise RemoteError("groups must be a non-empty list of lists of server ids")
        seen: set[str] = set()
        groups: list[list[str]] = []
        for group in value:
            if not isinstance(group, list) or not group:
                raise RemoteError("each partition group must be a non-empty list of server ids")
            checked = [self._server(server, "group member") for server in group]
            for server in checked:
                if server in seen:
                    raise RemoteError(f"{server} is in two partition groups")
                seen.add(server)
            groups.append(checked)
        return groups
