"""Checks the `faults` list of a config and builds its fault dataclasses.

Per-key rules come from `paxlab.config.fault_schema`; the rules here need more than one key or
section: server ids below `cluster.servers`, client ids below `clients.count`, until_ms
after at_ms. When a section is itself invalid its bound is None and the range checks that
need it are skipped, so one mistake does not cause a cascade of spurious errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeGuard, cast

from paxlab.config.fault_schema import (
    CLIENT_TARGET_WORD,
    CRASH_SHORTHANDS,
    FAULT_COMMON_KEYS,
    FAULT_KEYS,
    NEMESIS_KINDS,
    NEMESIS_SERVERS_MIN,
    PARTITION_BRIDGE_SERVERS_MIN,
    RESTART_TARGET_WORDS,
    SNAPSHOT_ACTIONS,
    TARGET_WORDS,
)
from paxlab.config.problems import Problems, read_keys, server_limit
from paxlab.config.schema import NETWORK_KEYS
from paxlab.config.types import (
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

__all__ = ["validate_faults"]

_PAIR_TEXT = "expected two different server ids, e.g. [0, 1]"
_SERVER_FAULTS = {"crash": Crash, "restart": Restart, "pause": Pause, "resume": Resume}
_CLIENT_FAULTS = {"crash_client": CrashClient, "restart_client": RestartClient}
_SHAPES = {"partition_halves": PartitionHalves, "partition_ring": PartitionRing,
           "partition_bridge": PartitionBridge}


def _is_id(value: object, count: int | None) -> TypeGuard[int]:
    """An id from 0 to count-1; any id >= 0 when count is unknown (its section is invalid)."""
    return (isinstance(value, int) and not isinstance(value, bool) and value >= 0
            and (count is None or value < count))


def _server_id(value: object, path: str, problems: Problems, servers: int | None) -> int | None:
    if _is_id(value, servers):
        return value
    problems.bad(path, value, "expected a server id" + server_limit(servers))
    return None


def _between(raw: object, path: str, problems: Problems,
             servers: int | None) -> tuple[int, int] | None:
    if not isinstance(raw, (list, tuple)) or len(raw) != 2:
        problems.bad(path, raw, _PAIR_TEXT)
        return None
    ids = [_server_id(item, f"{path}[{i}]", problems, servers) for i, item in enumerate(raw)]
    if ids[0] is None or ids[1] is None:
        return None
    if ids[0] == ids[1]:
        problems.bad(path, raw, _PAIR_TEXT)
        return None
    return (min(ids), max(ids))


def _one_way(item: Mapping[Any, Any], path: str, problems: Problems, servers: int | None,
             at_ms: int) -> FailLinkOneWay | None:
    """`from` and `to`: two server ids, and not the same one (a server never cuts itself)."""
    if "from" not in item or "to" not in item:
        return None  # read_keys has reported it
    source = _server_id(item["from"], f"{path}.from", problems, servers)
    target = _server_id(item["to"], f"{path}.to", problems, servers)
    if source is None or target is None:
        return None
    if source == target:
        problems.bad(f"{path}.to", target, f"expected a server id other than {path}.from "
                     f"({source})")
        return None
    return FailLinkOneWay(at_ms=at_ms, source=source, target=target)


def _groups(raw: object, path: str, problems: Problems,
            servers: int | None) -> tuple[tuple[int, ...], ...] | None:
    if not isinstance(raw, (list, tuple)) or not raw:
        problems.bad(path, raw, "expected a non-empty list of lists of server ids, "
                     "e.g. [[0], [1, 2]]")
        return None
    start = len(problems.lines)
    seen: dict[int, int] = {}
    groups = []
    for g, group in enumerate(raw):
        if not isinstance(group, (list, tuple)) or not group:
            problems.bad(f"{path}[{g}]", group, "expected a non-empty list of server ids")
            continue
        ids = []
        for i, item in enumerate(group):
            server = _server_id(item, f"{path}[{g}][{i}]", problems, servers)
            if server is not None and server in seen:
                problems.bad(f"{path}[{g}][{i}]", server, f"server {server} is already in "
                             f"{path}[{seen[server]}]; groups must not overlap")
            elif server is not None:
                seen[server] = g
                ids.append(server)
        groups.append(tuple(ids))
    return tuple(groups) if len(problems.lines) == start else None


def _isolate_target(raw: object, path: str, problems: Problems,
                    servers: int | None) -> int | Literal["leader"] | None:
    if raw == "leader":
        return "leader"
    if _is_id(raw, servers):
        return raw
    limit = server_limit(servers) if servers else ""
    problems.bad(path, raw, "expected leader or a server id" + limit)
    return None


def _server_target(raw: object, path: str, problems: Problems, servers: int | None,
                   words: tuple[str, ...]) -> ServerTarget | None:
    """A server id, a non-empty list of distinct ids (kept ascending), or one of `words`."""
    if isinstance(raw, str) and raw in words:
        return cast(ServerTarget, raw)
    if isinstance(raw, (list, tuple)):
        if not raw:
            problems.bad(path, raw, "expected a non-empty list of distinct server ids")
            return None
        start = len(problems.lines)
        ids: list[int] = []
        for i, item in enumerate(raw):
            server = _server_id(item, f"{path}[{i}]", problems, servers)
            if server is not None and server in ids:
                problems.bad(f"{path}[{i}]", server, f"server {server} is listed twice")
            elif server is not None:
                ids.append(server)
        return tuple(sorted(ids)) if len(problems.lines) == start else None
    if _is_id(raw, servers):
        return raw
    ids, limit = (f" from 0 to {servers - 1}", f" (cluster.servers is {servers})") \
        if servers else ("", "")
    problems.bad(path, raw, f"expected a server id{ids}, a non-empty list of distinct server "
                 f"ids, or one of: {', '.join(words)}{limit}")
    return None


def _client_target(raw: object, path: str, problems: Problems,
                   clients: int | None) -> ClientTarget | None:
    if raw == CLIENT_TARGET_WORD:
        return CLIENT_TARGET_WORD
    if _is_id(raw, clients):
        return raw
    limit = f" from 0 to {clients - 1} (clients.count is {clients})" if clients else " >= 0"
    problems.bad(path, raw, f"expected {CLIENT_TARGET_WORD} or a client id" + limit)
    return None


def _enough_servers(what: str, need: int, path: str, value: object, problems: Problems,
                    servers: int | None) -> None:
    if servers is not None and servers < need:
        problems.bad(path, value, f"{what} needs at least {need} servers "
                     f"(cluster.servers is {servers})")


def _needs_snapshots(action: str, path: str, problems: Problems,
                     snapshot_every: int | None) -> None:
    """A fault that acts inside a compaction is refused when snapshots are off."""
    if action in SNAPSHOT_ACTIONS and snapshot_every == 0:
        problems.bad(path, action, f"{action} needs snapshots, but cluster.snapshot_every "
                     "is 0 (never compacts); set it above 0")


def _kinds(raw: object, path: str, problems: Problems,
           servers: int | None, snapshot_every: int | None = None) -> tuple[str, ...] | None:
    allowed = ", ".join(NEMESIS_KINDS)
    if not isinstance(raw, (list, tuple)) or not raw:
        problems.bad(path, raw, f"expected a non-empty list of kinds, from: {allowed}")
        return None
    start = len(problems.lines)
    kinds: list[str] = []
    for i, kind in enumerate(raw):
        where = f"{path}[{i}]"
        if not isinstance(kind, str) or kind not in NEMESIS_KINDS:
            problems.bad(where, kind, f"expected one of: {allowed}")
        elif kind in kinds:
            problems.bad(where, kind, f"{kind} is listed twice")
        else:
            _enough_servers(kind, NEMESIS_SERVERS_MIN.get(kind, 1), where, kind, problems,
                            servers)
            _needs_snapshots(kind, where, problems, snapshot_every)
            kinds.append(kind)
    return tuple(kinds) if len(problems.lines) == start else None


def _changes(item: Mapping[Any, Any], v: Mapping[str, Any], path: str, action: str,
             problems: Problems) -> tuple[tuple[str, float], ...]:
    if not any(key in item for key in NETWORK_KEYS):
        problems.note(path, f"{action} needs at least one of: " + ", ".join(NETWORK_KEYS))
    return tuple((key, v[key]) for key in NETWORK_KEYS if key in item and key in v)


def _client_fault(action: str, item: Mapping[Any, Any], path: str, problems: Problems,
                  clients: int | None, at_ms: int) -> Fault | None:
    """crash_client / restart_client: whom it hits is `client` or `target`, not both."""
    if "client" in item and "target" in item:
        problems.note(f"{path}.target",
                      "give client or target, not both (they name the same clients)")
        return None
    key = "target" if "target" in item else "client"
    if key not in item:
        problems.note(f"{path}.client", f"missing; expected `{CLIENT_TARGET_WORD}` or a "
                      "client id (as client: or target:)")
        return None
    client = _client_target(item[key], f"{path}.{key}", problems, clients)
    return None if client is None else _CLIENT_FAULTS[action](at_ms=at_ms, client=client)


def _build(action: str, item: Mapping[Any, Any], v: Mapping[str, Any], path: str,
           problems: Problems, servers: int | None, clients: int | None,
           snapshot_every: int | None = None) -> Fault | None:
    """The fault for one item whose own keys passed their table; None if a check fails."""
    at_ms = v.get("at_ms", 0)
    if action == "crash_in_compaction":
        _needs_snapshots(action, f"{path}.action", problems, snapshot_every)
        target = _server_target(item["target"], f"{path}.target", problems, servers,
                                TARGET_WORDS) if "target" in item else None
        if target is None or "step" not in v or "restart_after_ms" not in v:
            return None
        return CrashInCompaction(at_ms=at_ms, target=target, step=v["step"],
                                 restart_after_ms=v["restart_after_ms"])
    if action in ("fail_link", "fix_link", "set_link"):
        between = _between(item["between"], f"{path}.between", problems, servers) \
            if "between" in item else None
        if action == "set_link":
            changes = _changes(item, v, path, action, problems)
            return None if between is None else SetLink(at_ms=at_ms, between=between,
                                                         changes=changes)
        if between is None:
            return None
        return (FailLink if action == "fail_link" else FixLink)(at_ms=at_ms, between=between)
    if action == "fail_link_one_way":
        return _one_way(item, path, problems, servers, at_ms)
    if action == "partition" and "groups" in item:
        groups = _groups(item["groups"], f"{path}.groups", problems, servers)
        return None if groups is None else Partition(at_ms=at_ms, groups=groups)
    if action in _SHAPES:
        if action == "partition_bridge":
            _enough_servers(action, PARTITION_BRIDGE_SERVERS_MIN, f"{path}.action", action,
                            problems, servers)
        return _SHAPES[action](at_ms=at_ms)
    if action == "isolate" and "target" in item:
        target = _isolate_target(item["target"], f"{path}.target", problems, servers)
        return None if target is None else Isolate(at_ms=at_ms, target=target)
    if action in _SERVER_FAULTS and "target" in item:
        words = TARGET_WORDS if action in ("crash", "pause") else RESTART_TARGET_WORDS
        server_target = _server_target(item["target"], f"{path}.target", problems, servers,
                                       words)
        return None if server_target is None else _SERVER_FAULTS[action](
            at_ms=at_ms, target=server_target)
    if action in _CLIENT_FAULTS:
        return _client_fault(action, item, path, problems, clients, at_ms)
    if action == "heal":
        return Heal(at_ms=at_ms)
    if action in CRASH_SHORTHANDS:  # the runners see a plain crash
        return Crash(at_ms=at_ms, target=CRASH_SHORTHANDS[action])
    if action == "set_network":
        return SetNetwork(at_ms=at_ms, changes=_changes(item, v, path, action, problems))
    if action == "nemesis":
        kinds = _kinds(item["kinds"], f"{path}.kinds", problems, servers, snapshot_every) \
            if "kinds" in item else None
        until_ms = v.get("until_ms")
        if until_ms is not None and "at_ms" in v and until_ms <= at_ms:
            problems.bad(f"{path}.until_ms", until_ms,
                         f"expected an integer > {path}.at_ms ({at_ms})")
        if kinds is None or until_ms is None or "interval_ms" not in v or "seed" not in v:
            return None
        return Nemesis(at_ms=at_ms, kinds=kinds, interval_ms=v["interval_ms"],
                       until_ms=until_ms, seed=v["seed"])
    return None  # a required key is missing: read_keys has reported it


def _fault(index: int, item: object, problems: Problems, servers: int | None,
           clients: int | None, snapshot_every: int | None = None) -> Fault | None:
    path = f"faults[{index}]"
    if not isinstance(item, Mapping):
        problems.bad(path, item, "expected a mapping, e.g. {at_ms: 500, action: heal}")
        return None
    action = item.get("action")
    actions = FAULT_COMMON_KEYS["action"].choices
    if "action" not in item:
        problems.note(f"{path}.action", "missing; expected one of: " + ", ".join(actions))
        return None
    if not isinstance(action, str) or action not in FAULT_KEYS:
        problems.bad(f"{path}.action", action, "expected one of: " + ", ".join(actions))
        return None
    own = FAULT_KEYS[action]
    start = len(problems.lines)
    v = read_keys(item, path, {**FAULT_COMMON_KEYS, **own}, problems,
                  allowed=[*FAULT_COMMON_KEYS, *own])
    fault = _build(action, item, v, path, problems, servers, clients, snapshot_every)
    return fault if len(problems.lines) == start else None


def validate_faults(raw: object, problems: Problems, servers: int | None,
                    clients: int | None, snapshot_every: int | None = None
                    ) -> tuple[Fault, ...]:
    """The valid faults, sorted by at_ms (equal times keep file order); problems collected.

    `servers` and `clients` are the counts from valid cluster and clients sections, or
    None when those are invalid (then ids are only checked to be >= 0); likewise
    `cluster.snapshot_every`, which faults inside a compaction need above 0.
    """
    if raw is None:
        return ()
    if not isinstance(raw, (list, tuple)):
        problems.bad("faults", raw, "expected a list of fault actions, "
                     "e.g. - {at_ms: 500, action: heal}")
        return ()
    faults = [_fault(index, item, problems, servers, clients, snapshot_every)
              for index, item in enumerate(raw)]
    return tuple(sorted((f for f in faults if f is not None), key=lambda f: f.at_ms))
