"""The client side of a run (paxlab.scenario.client_driver), shared by the lab and sim."""

from __future__ import annotations

from typing import Any

from paxlab.core import ClientParams
from paxlab.core.messages import ClientReply, Envelope
from paxlab.scenario.client_driver import recover_client, start_client
from tests.sim.helpers import shipped


def _ev(kind: str, seq: int) -> dict[str, Any]:
    return {"type": kind, "f": "put", "key": "'k'", "value": "1", "seq": seq, "process": 0,
            "time": seq}


def test_a_restart_carries_on_after_its_own_past() -> None:
    past = [_ev("invoke", 1), _ev("ok", 1), _ev("invoke", 2)]
    where = recover_client(past)
    assert (where.last_seq, where.started, where.done) == (2, 2, 1)
    assert recover_client([]) == recover_client(())


class _Clock:
    ms = 0.0

    def now_ms(self) -> float:
        return self.ms

    def now_ns(self) -> int:
        return round(self.ms * 1_000_000)


def test_events_have_the_results_folders_key_order_and_seq_goes_on() -> None:
    config = shipped("basic")
    events: list[dict[str, Any]] = []
    sent: list[Envelope] = []
    clock = _Clock()
    past = [_ev("invoke", 1), _ev("ok", 1), _ev("invoke", 2)]
    driver = start_client(0, ClientParams(server_count=3), config.workload, 1, 1, past,
                          sent.append, clock, events.append)
    driver.start(0)
    clock.ms = 1_000.5
    driver.wake(clock.ms)
    assert sent and events[0]["type"] == "invoke" and events[0]["seq"] == 3
    assert list(events[0]) == ["type", "f", "key", "value", "seq", "process", "time"]
    request = sent[-1].message
    reply = ClientReply(client=0, seq=3, outcome="ok", value=request.value)  # type: ignore[attr-defined]
    clock.ms = 1_002.25
    driver.deliver(clock.ms, Envelope(source=sent[-1].target, target="c0", message=reply))
    assert events[1]["type"] == "ok" and events[1]["time"] == 1_002_250_000
    assert driver.done == 2


def test_an_op_that_times_out_completes_once() -> None:
    """Every invoke gets exactly one completion: an op ended by its timer (info) was
    recorded twice, once by `deliver` (which the timer steps through) and again by `wake`."""
    config = shipped("basic")
    events: list[dict[str, Any]] = []
    clock = _Clock()
    params = ClientParams(server_count=3, request_timeout_ms=100, op_timeout_ms=300)
    driver = start_client(0, params, config.workload, 1, 1, [], lambda _env: None, clock,
                          events.append)
    driver.start(0)
    while not any(e["type"] == "info" for e in events) and clock.ms < 10_000:
        deadline = driver.next_deadline_ms()
        assert deadline is not None
        clock.ms = deadline
        driver.wake(clock.ms)
    first = [e for e in events if e["seq"] == 1]
    assert [e["type"] for e in first] == ["invoke", "info"]
    assert driver.done == 1
