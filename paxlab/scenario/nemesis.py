"""Expands a `nemesis` fault into the concrete, seeded faults it stands for.

A config can ask for "a random mix of crashes and partitions" in one line, yet every run
must be reproducible and every driver (lab, simulator) must see the same plain faults. So
the mix is expanded here, before a run, from its own named random stream
(`random.Random(f"{seed}:nemesis")`, see STYLE.md section 5): the same seed gives the same
faults, and new draws elsewhere do not reshuffle them. Pure: no clock, no I/O, no global
random.

The timeline: from at_ms, every interval_ms while t < until_ms, pick a kind and emit its
fault at t and its undo at t + ceil(interval_ms / 2) (dropped when that is not before
until_ms). At until_ms every kind in the mix is undone as a whole (heal, network back,
resume all, restart all), so the run can converge. Random crash and pause targets are
a minority, so the cluster can still make progress while they last, except for the two
correlated kinds: crash_majority and power_cut stop the cluster until their undo, which is
what catches a server that acknowledges before it syncs (the `no-fsync` mutant).
`crash_in_compaction` arms one random server to crash inside its next compaction (the
simulator only); its undo restarts it, and the crash restarts it half an interval later
by itself when it comes after the undo.
"""

from __future__ import annotations

import random

from paxlab.config.fault_schema import NEMESIS_KINDS, NEMESIS_SERVERS_MIN
from paxlab.config.types import (
    Config,
    Crash,
    CrashInCompaction,
    FailLink,
    FailLinkOneWay,
    Fault,
    FixLink,
    Heal,
    Isolate,
    Nemesis,
    NetworkConfig,
    PartitionBridge,
    PartitionHalves,
    PartitionRing,
    Pause,
    Restart,
    Resume,
    SetNetwork,
)

__all__ = ["LOSSY_CHANGES", "expand_faults", "expand_nemesis"]

LOSSY_CHANGES: tuple[tuple[str, float], ...] = (
    ("delay_ms_jitter", 5.0),
    ("drop_probability", 0.2),
    ("duplicate_probability", 0.1),
)
"""What the `lossy` kind sets, in network table order; its undo puts these keys back."""

_NETWORK_KINDS = frozenset({"isolate_leader", "partition_halves", "partition_ring",
                            "partition_bridge", "fail_link", "one_way_link"})
_CRASH_KINDS = frozenset({"crash", "crash_leader", "crash_majority", "power_cut",
                          "crash_in_compaction"})
_PAUSE_KINDS = frozenset({"pause", "pause_leader"})
_SHAPES = {"partition_halves": PartitionHalves, "partition_ring": PartitionRing,
           "partition_bridge": PartitionBridge}


def _minority(rng: random.Random, servers: int) -> int | tuple[int, ...]:
    """A random minority: one server id, or an ascending tuple of 2..(servers-1)//2 ids."""
    size = rng.randint(1, (servers - 1) // 2)
    chosen = sorted(rng.sample(range(servers), size))
    return chosen[0] if size == 1 else tuple(chosen)


def _restore(network: NetworkConfig, at_ms: int) -> SetNetwork:
    return SetNetwork(at_ms=at_ms, changes=tuple(
        (key, float(getattr(network, key))) for key, _ in LOSSY_CHANGES))


def _fault_and_undo(kind: str, at_ms: int, undo_ms: int, rng: random.Random, servers: int,
                    network: NetworkConfig) -> tuple[Fault, Fault]:
    """One fault of `kind` at at_ms and the fault that undoes it at undo_ms."""
    if kind in ("crash", "pause"):
        target = _minority(rng, servers)
        if kind == "crash":
            return Crash(at_ms=at_ms, target=target), Restart(at_ms=undo_ms, target=target)
        return Pause(at_ms=at_ms, target=target), Resume(at_ms=undo_ms, target=target)
    if kind == "crash_leader":
        return Crash(at_ms=at_ms, target="leader"), Restart(at_ms=undo_ms, target="all")
    if kind in ("crash_majority", "power_cut"):  # correlated: the cluster stops a while
        everyone = "majority" if kind == "crash_majority" else "all"
        return Crash(at_ms=at_ms, target=everyone), Restart(at_ms=undo_ms, target="all")
    if kind == "crash_in_compaction":  # simulator only; it crashes when it next compacts
        server = rng.randrange(servers)
        step = rng.randint(1, 3)
        return (CrashInCompaction(at_ms=at_ms, target=server, step=step,
                                  restart_after_ms=undo_ms - at_ms),
                Restart(at_ms=undo_ms, target=server))
    if kind == "pause_leader":
        return Pause(at_ms=at_ms, target="leader"), Resume(at_ms=undo_ms, target="all")
    if kind == "isolate_leader":
        return Isolate(at_ms=at_ms, target="leader"), Heal(at_ms=undo_ms)
    if kind in _SHAPES:
        return _SHAPES[kind](at_ms=at_ms), Heal(at_ms=undo_ms)
    if kind == "fail_link":
        low, high = sorted(rng.sample(range(servers), 2))
        return (FailLink(at_ms=at_ms, between=(low, high)),
                FixLink(at_ms=undo_ms, between=(low, high)))
    if kind == "one_way_link":
        source, target = rng.sample(range(servers), 2)  # ordered: source's messages are lost
        return (FailLinkOneWay(at_ms=at_ms, source=source, target=target),
                FixLink(at_ms=undo_ms, between=(min(source, target), max(source, target))))
    if kind == "lossy":
        return SetNetwork(at_ms=at_ms, changes=LOSSY_CHANGES), _restore(network, undo_ms)
    raise ValueError(f"unknown nemesis kind {kind!r}; allowed: {', '.join(NEMESIS_KINDS)}")


def _undo_all(kinds: tuple[str, ...], at_ms: int, network: NetworkConfig) -> list[Fault]:
    """What undoes every fault the kinds can leave behind, in a fixed order."""
    undo: list[Fault] = []
    if _NETWORK_KINDS.intersection(kinds):
        undo.append(Heal(at_ms=at_ms))
    if "lossy" in kinds:
        undo.append(_restore(network, at_ms))
    if _PAUSE_KINDS.intersection(kinds):
        undo.append(Resume(at_ms=at_ms, target="all"))
    if _CRASH_KINDS.intersection(kinds):
        undo.append(Restart(at_ms=at_ms, target="all"))
    return undo


def expand_nemesis(nemesis: Nemesis, servers: int, config_seed: int,
                   network: NetworkConfig) -> tuple[Fault, ...]:
    """The concrete faults of `nemesis`, in time order, all within [at_ms, until_ms].

    `config_seed` is used when the nemesis has no seed of its own; `network` is the config's
    network section, which the `lossy` kind's undo restores. Raises ValueError for a kind
    that needs more servers than there are (the config validator reports that first).
    """
    for kind in nemesis.kinds:
        need = NEMESIS_SERVERS_MIN.get(kind, 1)
        if servers < need:
            raise ValueError(f"nemesis kind {kind} needs at least {need} servers, got {servers}")
    seed = config_seed if nemesis.seed is None else nemesis.seed
    rng = random.Random(f"{seed}:nemesis")
    half_ms = (nemesis.interval_ms + 1) // 2
    faults: list[Fault] = []
    at_ms = nemesis.at_ms
    while at_ms < nemesis.until_ms:
        kind = rng.choice(nemesis.kinds)
        fault, undo = _fault_and_undo(kind, at_ms, at_ms + half_ms, rng, servers, network)
        faults.append(fault)
        if undo.at_ms < nemesis.until_ms:  # else the undo-all at until_ms covers it
            faults.append(undo)
        at_ms += nemesis.interval_ms
    faults.extend(_undo_all(nemesis.kinds, nemesis.until_ms, network))
    return tuple(faults)


def expand_faults(config: Config) -> tuple[Fault, ...]:
    """The config's faults with every Nemesis replaced by its expansion, sorted by at_ms.

    The sort is stable, so faults at equal times keep file order, and a nemesis's faults
    keep the place of the nemesis among them. Drivers run this list, never a Nemesis.
    """
    faults: list[Fault] = []
    for fault in config.faults:
        if isinstance(fault, Nemesis):
            faults.extend(expand_nemesis(fault, config.cluster.servers, config.seed,
                                         config.network))
        else:
            faults.append(fault)
    return tuple(sorted(faults, key=lambda fault: fault.at_ms))
