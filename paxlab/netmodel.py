"""The pure link model: delay with jitter, drop, duplicate, failed links and partitions.

The lab's router and (later) the simulator share this module, so a fault schedule means
the same thing in both. It decides a message's fate from its addresses alone and never
looks inside it; randomness comes from the injected generator.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field

from paxlab.config_types import NetworkConfig

__all__ = ["Fate", "NetworkModel"]


@dataclass(frozen=True, slots=True)
class Fate:
    """What happens to one message: delivered once per delay in `delays_ms` (none:
    lost), and why, for the router's log."""

    delays_ms: tuple[float, ...]
    reason: str  # "deliver", "drop", "duplicate", "cut"


@dataclass(slots=True)
class NetworkModel:
    rules: NetworkConfig
    rng: random.Random
    failed_links: set[frozenset[str]] = field(default_factory=set)
    # server address -> group number while a partition holds; None when there is none.
    groups: dict[str, int] | None = None
    isolated: set[str] = field(default_factory=set)

    # --- faults -------------------------------------------------------------------------

    def set_rules(self, **changes: float) -> None:
        self.rules = dataclasses.replace(self.rules, **changes)

    def fail_link(self, a: str, b: str) -> None:
        self.failed_links.add(frozenset((a, b)))

    def fix_link(self, a: str, b: str) -> None:
        self.failed_links.discard(frozenset((a, b)))

    def partition(self, groups: list[list[str]], servers: list[str]) -> None:
        """Servers talk only within their group; unlisted servers form one more group."""
        mapping = {server: index for index, group in enumerate(groups) for server in group}
        for server in servers:
            mapping.setdefault(server, len(groups))
        self.groups = mapping

    def isolate(self, server: str) -> None:
        self.isolated.add(server)

    def heal(self) -> None:
        self.failed_links.clear()
        self.groups = None
        self.isolated.clear()

    def active_faults(self) -> list[str]:
        """One short phrase per fault in force, for the live progress line."""
        links = sorted("-".join(sorted(link)) for link in self.failed_links)
        faults = [f"link {link} down" for link in links]
        if self.groups is not None:
            by_group: dict[int, list[str]] = {}
            for server, group in sorted(self.groups.items()):
                by_group.setdefault(group, []).append(server)
            faults.append("partition " + " | ".join(" ".join(g) for g in by_group.values()))
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
        if not (source.startswith("s") and target.startswith("s")) or source == target:
            return False
        if frozenset((source, target)) in self.failed_links:
            return True
        if source in self.isolated or target in self.isolated:
            return True
        return self.groups is not None and self.groups.get(source) != self.groups.get(target)

    def fate(self, source: str, target: str) -> Fate:
        if self.is_cut(source, target):
            return Fate((), "cut")
        rules = self.rules
        if rules.drop_probability > 0 and self.rng.random() < rules.drop_probability:
            return Fate((), "drop")
        copies = 1
        if rules.duplicate_probability > 0 and self.rng.random() < rules.duplicate_probability:
            copies = 2
        delays = tuple(self._delay_ms() for _ in range(copies))
        return Fate(delays, "duplicate" if copies == 2 else "deliver")

    def _delay_ms(self) -> float:
        jitter = self.rules.delay_ms_jitter
        offset = self.rng.uniform(-jitter, jitter) if jitter > 0 else 0.0
        return max(0.0, self.rules.delay_ms_mean + offset)
