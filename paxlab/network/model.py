"""The pure link model: delay with jitter, drop, duplicate, failed links and partitions.

The lab's router and (later) the simulator share this module, so a fault schedule means
the same thing in both. It decides a message's fate from its addresses alone and never
looks inside it; randomness comes from the injected generator.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from paxlab.config.types import NetworkConfig

__all__ = [
    "Fate",
    "NetworkModel",
    "bridge_cuts",
    "group_cuts",
    "random_halves",
    "ring_cuts",
]


class Fate(NamedTuple):
    """What happens to one message: delivered once per delay in `delays_ms` (none:
    lost), and why, for the router's log. A NamedTuple, not a frozen dataclass: one is
    made per message routed, and a tuple is made several times faster."""

    delays_ms: tuple[float, ...]
    reason: str  # "deliver", "drop", "duplicate", "cut"


@dataclass(slots=True)
class NetworkModel:
    """The links' state and the fate of each message on them.

    Change the state through the methods below (`apply_command` calls them), never by
    assigning or mutating the fields: each method ends by refreshing `_plain`, the
    summary that lets `fate` take its fast path.
    """

    rules: NetworkConfig
    rng: random.Random
    failed_links: set[frozenset[str]] = field(default_factory=set)
    # Directed cuts (source, target): messages source -> target are lost, the reverse flows.
    one_way_cuts: set[tuple[str, str]] = field(default_factory=set)
    # Server pairs a partition (of any shape) separates, and its name for the progress line.
    partition_cuts: set[frozenset[str]] = field(default_factory=set)
    partition_label: str | None = None
    isolated: set[str] = field(default_factory=set)
    # Per-link rules that override `rules` for one server pair, both ways (set_link).
    link_rules: dict[frozenset[str], NetworkConfig] = field(default_factory=dict)
    # While no link is cut or has rules of its own and `rules` neither drops nor
    # duplicates, every message is delivered once after `mean + (low + span * random())`
    # ms (span None: no jitter, no draw): (mean, low, span). None otherwise.
    _plain: tuple[float, float | None, float | None] | None = field(
        default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._refresh()

    def _refresh(self) -> None:
        """Recompute `_plain` from the state; every method that changes it ends here."""
        rules = self.rules
        if (self.failed_links or self.one_way_cuts or self.isolated or self.partition_cuts
                or self.link_rules or rules.drop_probability > 0
                or rules.duplicate_probability > 0):
            self._plain = None
            return
        jitter = rules.delay_ms_jitter
        # As Random.uniform(-jitter, jitter) computes it: a + (b - a) * random().
        self._plain = ((rules.delay_ms_mean, -jitter, jitter - -jitter) if jitter > 0
                       else (rules.delay_ms_mean, None, None))

    # --- faults -------------------------------------------------------------------------

    def set_rules(self, **changes: float) -> None:
        self.rules = dataclasses.replace(self.rules, **changes)
        self._refresh()

    def fail_link(self, a: str, b: str) -> None:
        self.failed_links.add(frozenset((a, b)))
        self._refresh()

    def fail_link_one_way(self, source: str, target: str) -> None:
        """Lose messages source -> target only; target -> source still arrive."""
        self.one_way_cuts.add((source, target))
        self._refresh()

    def fix_link(self, a: str, b: str) -> None:
        """Restore the pair in both directions, whether cut both ways or one way."""
        self.failed_links.discard(frozenset((a, b)))
        self.one_way_cuts.discard((a, b))
        self.one_way_cuts.discard((b, a))
        self._refresh()

    def partition(self, groups: list[list[str]], servers: list[str]) -> None:
        """Servers talk only within their group; unlisted servers form one more group.
        A later partition replaces an earlier one."""
        self.set_partition(group_cuts(groups, servers), " | ".join(" ".join(g) for g in groups))

    def set_partition(self, cuts: set[frozenset[str]], label: str) -> None:
        """Install a partition of any shape as the set of server pairs it separates."""
        self.partition_cuts = set(cuts)
        self.partition_label = label
        self._refresh()

    def set_link(self, a: str, b: str, **changes: float) -> None:
        """Rules for one link, both ways: the global rules with `changes` applied."""
        self.link_rules[frozenset((a, b))] = dataclasses.replace(self.rules, **changes)
        self._refresh()

    def isolate(self, server: str) -> None:
        self.isolated.add(server)
        self._refresh()

    def heal(self) -> None:
        """Undo partitions, isolation and failed links (one-way too); link rules stay."""
        self.failed_links.clear()
        self.one_way_cuts.clear()
        self.partition_cuts.clear()
        self.partition_label = None
        self.isolated.clear()
        self._refresh()

    def calm(self) -> None:
        """Heal, and stop losing or duplicating messages on every link (for quiescence)."""
        self.heal()
        quiet = {"drop_probability": 0.0, "duplicate_probability": 0.0}
        self.rules = dataclasses.replace(self.rules, **quiet)
        self.link_rules = {
            link: dataclasses.replace(rules, **quiet) for link, rules in self.link_rules.items()
        }
        self._refresh()

    def apply_command(self, command: Mapping[str, Any]) -> bool:
        """Carry out one network command (see paxlab.scenario.faults); False if unknown.
        The lab's router and the simulator both change the network only through this."""
        name = command["cmd"]
        if name == "fail_link":
            self.fail_link(*command["between"])
        elif name == "fix_link":
            self.fix_link(*command["between"])
        elif name == "fail_link_one_way":
            self.fail_link_one_way(command["source"], command["target"])
        elif name == "cut":
            self.set_partition({frozenset(pair) for pair in command["pairs"]}, command["label"])
        elif name == "set_link":
            self.set_link(*command["between"], **command["changes"])
        elif name == "isolate":
            self.isolate(command["target"])
        elif name == "heal":
            self.heal()
        elif name == "set_network":
            self.set_rules(**command["changes"])
        elif name == "quiesce":
            self.calm()
        else:
            return False
        return True

    def active_faults(self) -> list[str]:
        """One short phrase per fault in force, for the live progress line."""
        links = sorted("-".join(sorted(link)) for link in self.failed_links)
        faults = [f"link {link} down" for link in links]
        faults.extend(f"link {a}->{b} down" for a, b in sorted(self.one_way_cuts))
        if self.partition_label is not None:
            faults.append(f"partition {self.partition_label}")
        faults.extend(f"{server} isolated" for server in sorted(self.isolated))
        if self.rules.drop_probability > 0:
            faults.append(f"drop {self.rules.drop_probability:g}")
        if self.rules.duplicate_probability > 0:
            faults.append(f"dup {self.rules.duplicate_probability:g}")
        return faults

    # --- fate of one message ------------------------------------------------------------

    def is_cut(self, source: str, target: str) -> bool:
        """Partitions, isolation and failed links apply between servers only: clients
        stay connected to every server, as in Jepsen, so they can see a split brain."""
        if not (self.failed_links or self.one_way_cuts or self.isolated
                or self.partition_cuts):
            return False  # no cut anywhere
        if not (source.startswith("s") and target.startswith("s")) or source == target:
            return False
        pair = frozenset((source, target))
        if pair in self.failed_links:
            return True
        if (source, target) in self.one_way_cuts:
            return True
        if source in self.isolated or target in self.isolated:
            return True
        return pair in self.partition_cuts

    def plain_delay_ms(self) -> float | None:
        """While no fault is in force (no cut, no link rules, nothing dropped or
        duplicated), every message is delivered once: then this is the next message's
        delay, from the one draw `fate` would make. Otherwise None, and no draw: ask
        `fate`. The simulator routes every message this way and so builds no Fate for
        most of them."""
        plain = self._plain
        if plain is None:
            return None
        mean, low, span = plain
        offset = low + span * self.rng.random() if span is not None else 0.0  # type: ignore[operator]
        delay_ms = mean + offset
        return delay_ms if delay_ms > 0.0 else 0.0

    def fate(self, source: str, target: str) -> Fate:
        """One message's fate. The draws are always, in this order: drop (if its
        probability is > 0), duplicate (likewise), then one delay per delivery.
        With no fault in force that is one draw (`plain_delay_ms`); else no pair key
        unless some link has its own rules, and lost messages share their Fate."""
        if self._plain is not None:
            return _new_fate(Fate, ((self.plain_delay_ms(),), "deliver"))
        if self.is_cut(source, target):
            return _CUT
        rules = (self.link_rules.get(frozenset((source, target)), self.rules)
                 if self.link_rules else self.rules)
        random_ = self.rng.random
        drop = rules.drop_probability
        if drop > 0 and random_() < drop:
            return _DROP
        duplicate = rules.duplicate_probability
        if duplicate > 0 and random_() < duplicate:
            first = self._delay_ms(rules)  # draws in the same order as ever: first, second
            return Fate((first, self._delay_ms(rules)), "duplicate")
        return _new_fate(Fate, ((self._delay_ms(rules),), "deliver"))

    def _delay_ms(self, rules: NetworkConfig) -> float:
        """The mean plus a uniform draw in [-jitter, jitter], never below 0. Written out
        as `Random.uniform(a, b)` computes it, `a + (b - a) * random()`, the same bits as
        `plain_delay_ms` with its precomputed terms; `x if x > 0.0 else 0.0` is
        `max(0.0, x)`, -0.0 and all, without the call."""
        jitter = rules.delay_ms_jitter
        offset = -jitter + (jitter - -jitter) * self.rng.random() if jitter > 0 else 0.0
        delay_ms = rules.delay_ms_mean + offset
        return delay_ms if delay_ms > 0.0 else 0.0


# Fates without a delay are all alike: share them. A NamedTuple's own __new__ is a Python
# function; tuple.__new__ builds the same Fate in C (one per message the router routes).
_CUT = Fate((), "cut")
_DROP = Fate((), "drop")
_new_fate = tuple.__new__


# --- partition shapes (pure; a seeded rng picks the random ones) ------------------------


def group_cuts(groups: list[list[str]], servers: list[str]) -> set[frozenset[str]]:
    """Pairs in different groups; servers in no group form one extra group."""
    group_of = {server: index for index, group in enumerate(groups) for server in group}
    for server in servers:
        group_of.setdefault(server, len(groups))
    return {
        frozenset((a, b))
        for a, b in itertools.combinations(servers, 2)
        if group_of[a] != group_of[b]
    }


def random_halves(servers: list[str], rng: random.Random) -> list[list[str]]:
    """Two random halves of sizes n//2 and n - n//2."""
    shuffled = list(servers)
    rng.shuffle(shuffled)
    cut = len(shuffled) // 2
    return [sorted(shuffled[:cut]), sorted(shuffled[cut:])]


def ring_cuts(servers: list[str]) -> set[frozenset[str]]:
    """Majority ring: server i talks only to its neighbours i-1 and i+1 (mod n)."""
    n = len(servers)
    neighbours = {frozenset((servers[i], servers[(i + 1) % n])) for i in range(n)}
    return {
        frozenset((a, b)) for a, b in itertools.combinations(servers, 2)
    } - neighbours


def bridge_cuts(servers: list[str], rng: random.Random) -> tuple[set[frozenset[str]], str]:
    """Two halves joined by one bridge server that talks to both sides."""
    shuffled = list(servers)
    rng.shuffle(shuffled)
    bridge, rest = shuffled[0], shuffled[1:]
    left, right = sorted(rest[: len(rest) // 2]), sorted(rest[len(rest) // 2 :])
    cuts = {frozenset((a, b)) for a in left for b in right}
    return cuts, f"{' '.join(left)} | bridge {bridge} | {' '.join(right)}"
