"""Slow mode's clock and delay line: the replica's time never jumps and only slows."""

from __future__ import annotations

from paxlab.cluster.clock import DelayLine, ScaledClock, slow_scale


def test_scaled_clock_slows_without_a_jump_and_converts_deadlines() -> None:
    now = [5_000_000_000]
    clock = ScaledClock(lambda: now[0])
    now[0] += 300_000_000
    assert clock.now_ms() == 300
    clock.set_scale(20.0)
    assert clock.now_ms() == 300  # a change of speed is not a jump
    now[0] += 2_000_000_000
    assert clock.now_ms() == 400
    assert clock.seconds_until(410) == 0.2 and clock.seconds_until(10) == 0.0
    assert clock.seconds_until(None) is None
    clock.set_scale(1.0)
    now[0] += 5_000_000
    assert clock.now_ms() == 405


def test_slow_scale_fits_three_hops_in_the_shortest_election_timeout() -> None:
    assert slow_scale(300) == 20.0 and slow_scale(300) * 300 >= 3 * 2000
    assert slow_scale(10_000) == 1.0


def test_delay_line_releases_in_order_when_due_and_keeps_its_limit() -> None:
    line: DelayLine[str] = DelayLine(delay_ns=100, limit=2)
    assert line.push(0, "a") == [] and line.push(10, "b") == []
    assert line.push(20, "c") == ["a"]  # over the limit: the oldest leaves early
    assert line.next_due_ns() == 110
    assert line.pop_due(109) == [] and line.pop_due(115) == ["b"]
    assert line.drain() == ["c"] and len(line) == 0 and line.next_due_ns() is None
