"""The command dicts against a real Replica with fake time and a fake transport: each
command does what contract.md says, and a bad one gets an `ok: false` reply and changes
nothing."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import pytest

from paxlab.cluster.clock import ScaledClock, slow_scale
from paxlab.cluster.commands import ServerState, execute
from paxlab.cluster.links import LinkFilter
from paxlab.core import Ballot, Replica, ReplicaParams
from paxlab.core.messages import Boot, ClientRequest, Envelope, Prepare
from paxlab.host import NodeHost


class FakeTime:
    def __init__(self) -> None:
        self.ns = 0

    def __call__(self) -> int:
        return self.ns

    def advance_ms(self, ms: int) -> None:
        self.ns += ms * 1_000_000


def make_server(n: int = 3, **params: Any) -> tuple[ServerState, FakeTime, list[Envelope],
                                                   list[str]]:
    fake = FakeTime()
    clock = ScaledClock(fake)
    sent: list[Envelope] = []
    lines: list[str] = []
    replica = Replica(0, ReplicaParams(replica_count=n, difficulty=0, **params),
                      random.Random(1))
    host = NodeHost(replica, sent.append)
    stats: dict[str, Any] = {"peers": {}, "reconnects": 2, "auth_failures": 1}
    state = ServerState(replica=replica, host=host, links=LinkFilter("s0", n), clock=clock,
                        stats=lambda: stats, send_now=sent.append, log=lines.append, pid=4242)
    host.local(clock.now_ms(), Boot())
    return state, fake, sent, lines


def run(state: ServerState, request: Any, **kw: Any) -> dict[str, Any]:
    outcome = execute(state, request, **kw)
    assert outcome.then == () or request.get("cmd") in ("crash", "stop", "slow")
    return outcome.reply


def make_leader(state: ServerState, fake: FakeTime, sent: list[Envelope]) -> None:
    """Time out, then hand the Prepare to a real peer replica and step its Promise back."""
    fake.advance_ms(state.replica.params.election_timeout_ms_max + 1)
    assert run(state, {"cmd": "elect"})["role"] in ("candidate", "leader")
    if state.replica.params.replica_count == 1:
        return
    prepare = next(e for e in sent if isinstance(e.message, Prepare) and e.target == "s1")
    peer = Replica(1, state.replica.params, random.Random(2))
    promise = peer.step(state.clock.now_ms(), prepare).to_send[0]
    state.host.deliver(state.clock.now_ms(), promise)


def test_status_of_a_fresh_follower() -> None:
    state, _, _, _ = make_server()
    reply = run(state, {"cmd": "status"})
    assert reply == {
        "ok": True, "id": 0, "role": "follower", "leader": None, "ballot": None,
        "commit": 0, "head": None, "pid": 4242, "links": {"s1": "up", "s2": "up"},
        "reconnects": 2, "auth_failures": 1, "paused": False, "trace": False,
        "slow": False, "queue": 0,
    }


def test_status_links_merge_cuts_with_the_transports_up_and_down() -> None:
    state, _, _, _ = make_server(n=4)
    stats = {"peers": {"s1": "down", "s2": {"up": False}, "s3": {"up": True}}}
    state.stats = lambda: stats
    execute(state, {"cmd": "fault", "net": {"cmd": "fail_link_one_way",
                                            "source": "s3", "target": "s0"}})
    assert run(state, {"cmd": "status"})["links"] == {"s1": "down", "s2": "down",
                                                      "s3": "cut-in"}


def test_elect_runs_for_leader_at_once_through_the_core() -> None:
    state, _fake, sent, lines = make_server()
    # Just booted, its election timer far off: elect does not wait for it.
    reply = run(state, {"cmd": "elect"})
    assert reply == {"ok": True, "role": "candidate", "ballot": "1.0"}
    assert [e.describe() for e in sent[:2]] == ["s0->s1 Prepare b=1.0 from_slot=0",
                                                "s0->s2 Prepare b=1.0 from_slot=0"]
    assert "elect: running for leader at b=1.0" in lines
    prepare = next(e for e in sent if isinstance(e.message, Prepare) and e.target == "s1")
    peer = Replica(1, state.replica.params, random.Random(2))
    state.host.deliver(state.clock.now_ms(), peer.step(state.clock.now_ms(), prepare).to_send[0])
    assert run(state, {"cmd": "status"})["role"] == "leader"
    assert run(state, {"cmd": "elect"}) == {"ok": True, "role": "leader", "ballot": "1.0"}


def test_dump_and_queue_show_chain_kv_and_pending_requests() -> None:
    state, fake, _, _ = make_server(n=1)
    make_leader(state, fake, [])
    request = ClientRequest(client=7, seq=1, op="put", key="'a'", value="1")
    state.host.deliver(state.clock.now_ms(), Envelope(source="c7", target="s0",
                                                      message=request))
    dump = run(state, {"cmd": "dump"})
    assert dump["ok"] and dump["kv"] == {"'a'": "1"} and dump["difficulty"] == 0
    assert [b["txns"] for b in dump["chain"]][-1] == [
        {"client": 7, "seq": 1, "op": "put", "key": "'a'", "value": "1"}]
    status = run(state, {"cmd": "status"})
    assert status["commit"] == len(dump["chain"]) and status["head"] == dump["chain"][-1]["hash"]
    assert run(state, {"cmd": "queue"}) == {"ok": True, "pending": []}


def test_queue_lists_proposed_then_queued_requests() -> None:
    state, fake, sent, _ = make_server(batch_size_max=1, pipeline_window=1)
    make_leader(state, fake, sent)
    for seq in (1, 2):
        request = ClientRequest(client=3, seq=seq, op="get", key="'k'", value=None)
        state.host.deliver(state.clock.now_ms(), Envelope(source="c3", target="s0",
                                                          message=request))
    pending = run(state, {"cmd": "queue"})["pending"]
    assert [(p["seq"], p["state"]) for p in pending] == [(1, "proposed"), (2, "queued")]
    assert pending[1] == {"client": 3, "seq": 2, "op": "get", "key": "'k'", "value": None,
                          "state": "queued"}
    assert run(state, {"cmd": "status"})["queue"] == 1


def test_fault_applies_to_the_links_and_bad_faults_change_nothing() -> None:
    state, _, _, lines = make_server()
    reply = run(state, {"cmd": "fault", "net": {"cmd": "fail_link", "a": "s0", "b": "s2"}})
    assert reply == {"ok": True, "applied": "link s0-s2 failed",
                     "links": {"s1": "up", "s2": "cut"}}
    assert "fault: link s0-s2 failed" in lines
    bad = run(state, {"cmd": "fault", "net": {"cmd": "fail_link", "a": "s0", "b": "s0"}})
    assert bad["ok"] is False and "two different servers" in bad["error"]
    assert run(state, {"cmd": "fault"})["error"].startswith("fault needs")
    assert state.links.states() == {"s1": "up", "s2": "cut"}


def test_pause_holds_and_resume_releases_in_order() -> None:
    state, fake, _, _ = make_server()
    assert run(state, {"cmd": "pause", "ms": None}) == {"ok": True, "paused": True, "ms": None}
    envelopes = [Envelope(source="s1", target="s0", message=Prepare(
        ballot=_ballot(r), from_slot=0)) for r in (1, 2)]
    state.hold(envelopes)
    assert state.release_held() == []  # still paused
    assert run(state, {"cmd": "elect"})["error"].startswith("paused")
    assert run(state, {"cmd": "status"})["paused"] is True
    assert run(state, {"cmd": "resume"}) == {"ok": True, "paused": False, "released": 2}
    assert state.release_held() == envelopes and not state.held
    assert run(state, {"cmd": "resume"})["released"] == 0
    run(state, {"cmd": "pause", "ms": 250})
    assert state.resume_at_real_ns == fake.ns + 250_000_000


def _ballot(round_: int) -> Ballot:
    return Ballot(round_, 1)


@pytest.mark.parametrize("ms", [0, -5, 1.5, "10", True, 10**12])
def test_pause_refuses_a_bad_duration(ms: object) -> None:
    state, _, _, _ = make_server()
    reply = run(state, {"cmd": "pause", "ms": ms})
    assert reply["ok"] is False and "ms must be" in reply["error"] and not state.paused


def test_trace_and_slow_toggle_and_slow_scales_the_clock_and_flushes_on_off() -> None:
    state, fake, sent, _ = make_server()
    assert run(state, {"cmd": "trace", "on": True}) == {"ok": True, "trace": True}
    assert state.trace
    fake.advance_ms(100)
    before = state.clock.now_ms()
    outcome = execute(state, {"cmd": "slow", "on": True}, from_console=True)
    scale = slow_scale(state.replica.params.election_timeout_ms_min)
    assert outcome.reply == {"ok": True, "slow": True, "scale": scale}
    assert outcome.then == ("spread",)  # a console's slow reaches every server
    assert execute(state, {"cmd": "slow", "on": True}).then == ()  # admin's does not
    fake.advance_ms(int(scale) * 10)
    assert state.clock.now_ms() == before + 10  # the replica's clock runs slower
    envelope = Envelope(source="s0", target="s1", message=Prepare(ballot=_ballot(1),
                                                                  from_slot=0))
    state.delayed.push(fake.ns, envelope)
    sent.clear()
    assert run(state, {"cmd": "slow", "on": False})["slow"] is False
    assert sent == [envelope] and not state.delayed and state.clock.scale == 1.0


def test_crash_and_stop_reply_first_then_ask_the_process_to_act() -> None:
    state, _, _, _ = make_server()
    crash = execute(state, {"cmd": "crash"})
    assert crash.reply == {"ok": True, "pid": 4242} and crash.then == ("crash",)
    stop = execute(state, {"cmd": "stop"})
    assert stop.reply["ok"] and stop.then == ("stop",)


@pytest.mark.parametrize(("request_", "error"), [
    ("status", "a command is an object"),
    (["status"], "a command is an object"),
    ({}, "needs \"cmd\""),
    ({"cmd": 3}, "needs \"cmd\""),
    ({"cmd": "stauts"}, "unknown command 'stauts'; did you mean 'status'?"),
    ({"cmd": "frobnicate"}, "known: status, dump"),
    ({"cmd": "status", "verbose": True}, "status: unknown field 'verbose'"),
    ({"cmd": "trace"}, "trace needs \"on\""),
    ({"cmd": "slow", "on": "yes"}, "slow needs \"on\": true or false"),
    ({"cmd": "fault", "net": "heal"}, "must be an object"),
])
def test_bad_commands_get_an_error_and_nothing_crashes(request_: object, error: str) -> None:
    state, _, sent, _ = make_server()
    before = run(state, {"cmd": "status"})
    outcome = execute(state, request_)
    assert outcome.reply["ok"] is False and error in outcome.reply["error"]
    assert set(outcome.reply) == {"ok", "error"} and outcome.then == ()
    assert run(state, {"cmd": "status"}) == before and not sent


def test_a_bug_inside_a_command_is_an_error_reply_and_a_log_line() -> None:
    state, _, _, lines = make_server()

    def broken() -> Mapping[str, Any]:
        raise KeyError("peers")

    state.stats = broken
    reply = run(state, {"cmd": "status"})
    assert reply == {"ok": False, "error": "internal error: KeyError: 'peers'"}
    assert any("failed: KeyError" in line for line in lines)
