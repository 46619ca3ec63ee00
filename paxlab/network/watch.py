"""What the network sees of the run: who leads, and messages held for a paused node.

Both the lab's router and the simulator's network carry every message, so both watch
the traffic the same way, with the classes here:

- `LeaderWatch`: the leader is the sender of the highest-ballot Heartbeat or Accept
  seen so far; each change of sender counts as a leader change (the summary reports it,
  the `isolate: leader` fault and the progress line use it).
- `HeldMessages`: messages for a paused (SIGSTOPped) node wait here until it resumes,
  at most `HELD_MAX` per node, the oldest dropped first, so a long pause cannot grow
  without limit; in the lab, a frozen reader can then never block the router either.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Generic, TypeVar

from paxlab.core.ids import Ballot
from paxlab.core.messages import Accept, Heartbeat

__all__ = ["HELD_MAX", "HeldMessages", "LeaderWatch"]

HELD_MAX = 100_000  # messages kept for one paused node; older ones are dropped

T = TypeVar("T")


class LeaderWatch:
    """The sender of the highest-ballot Heartbeat or Accept, and how often it changed."""

    __slots__ = ("ballot", "changes", "leader")

    def __init__(self) -> None:
        self.ballot: Ballot | None = None
        self.leader: str | None = None
        self.changes = 0  # each new leader counts, the first one too

    def observe(self, source: str, message: object) -> bool:
        """Look at one message; True if it names a higher ballot than any seen."""
        kind = type(message)
        if kind is not Heartbeat and kind is not Accept:
            return False
        return self.see_ballot(message.ballot, source)  # type: ignore[attr-defined]

    def see_ballot(self, ballot: Ballot, source: str) -> bool:
        """`source` leads at `ballot`: True if that is higher than any ballot seen."""
        if self.ballot is not None and not ballot > self.ballot:
            return False
        if source != self.leader:
            self.changes += 1
        self.ballot = ballot
        self.leader = source
        return True


class HeldMessages(Generic[T]):
    """Messages for paused nodes, in arrival order, at most `cap` per node."""

    __slots__ = ("_held", "cap", "dropped")

    def __init__(self, cap: int = HELD_MAX) -> None:
        self.cap = cap
        self._held: dict[str, deque[T]] = {}
        self.dropped = 0  # messages pushed out by newer ones past the cap

    def pause(self, node: str) -> None:
        self._held.setdefault(node, deque(maxlen=self.cap))

    def is_paused(self, node: str) -> bool:
        return node in self._held

    def hold(self, node: str, item: T) -> bool:
        """Keep `item` for `node` if it is paused; False if it is not (deliver it)."""
        held = self._held.get(node)
        if held is None:
            return False
        if len(held) == self.cap:
            self.dropped += 1  # deque(maxlen) drops the oldest one
        held.append(item)
        return True

    def pushed_out_next(self, node: str) -> T | None:
        """The item the next `hold` for `node` would push out past the cap (None: none),
        so a recording driver can say which message was lost."""
        held = self._held.get(node)
        return held[0] if held is not None and len(held) == self.cap else None

    def release(self, node: str) -> list[T]:
        """`node` resumes: what was held for it, oldest first, and it is no longer paused."""
        return list(self._held.pop(node, ()))

    def forget(self, node: str) -> list[T]:
        """`node` crashed: what was held for it is lost, as on a real network; the lost
        items, oldest first (a recording driver records each)."""
        return list(self._held.pop(node, ()))

    def __iter__(self) -> Iterator[str]:
        """The paused nodes, sorted."""
        return iter(sorted(self._held))
