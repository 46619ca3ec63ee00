"""The leader watch and the held-for-paused queue the router and the simulator share."""

from __future__ import annotations

from paxlab.core.ids import Ballot
from paxlab.core.messages import Heartbeat, Redirect
from paxlab.network.watch import HeldMessages, LeaderWatch


def _hb(round_: int, replica: int) -> Heartbeat:
    return Heartbeat(ballot=Ballot(round=round_, replica=replica), commit_index=0)


def test_the_leader_is_the_sender_of_the_highest_ballot() -> None:
    watch = LeaderWatch()
    assert watch.observe("s1", _hb(1, 1))
    assert not watch.observe("s1", _hb(1, 1))  # no news
    assert not watch.observe("s0", _hb(1, 0))  # lower: a stale leader
    assert watch.observe("s1", _hb(2, 1))  # higher, same leader: not a change
    assert watch.observe("s2", _hb(2, 2))
    assert not watch.observe("s0", Redirect(client=0, seq=1, leader_hint=None))
    assert (watch.leader, watch.changes) == ("s2", 2)


def test_held_messages_wait_for_resume_and_keep_at_most_the_cap() -> None:
    held: HeldMessages[int] = HeldMessages(cap=3)
    assert not held.hold("s0", 1)  # not paused: deliver it
    held.pause("s0")
    for item in range(5):
        assert held.hold("s0", item)
    assert list(held) == ["s0"] and held.dropped == 2
    assert held.release("s0") == [2, 3, 4]  # the oldest went first
    assert not held.is_paused("s0") and held.release("s0") == []
    held.pause("s1")
    held.hold("s1", 9)
    held.forget("s1")
    assert held.release("s1") == []


def test_held_messages_name_what_they_lose() -> None:
    """A recording driver writes a "lost" line per copy pushed out or forgotten."""
    held: HeldMessages[str] = HeldMessages(cap=2)
    held.pause("s0")
    assert held.pushed_out_next("s0") is None
    held.hold("s0", "a")
    held.hold("s0", "b")
    assert held.pushed_out_next("s0") == "a"  # the cap is reached: "a" goes next
    held.hold("s0", "c")
    assert held.pushed_out_next("s0") == "b"
    assert held.forget("s0") == ["b", "c"]
    assert held.forget("s0") == [] and held.pushed_out_next("s0") is None
