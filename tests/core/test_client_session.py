"""The client session: seq numbers, leader hints, redirects, retries and outcomes."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

from paxlab.core import ClientParams, ClientSession, Completion, UsageError
from paxlab.core.messages import (
    ClientReply,
    ClientRequest,
    Redirect,
    RequestTimeout,
    Submit,
)
from paxlab.core.output import Output, TimerCommand
from paxlab.core.replica import Role
from tests.core.harness import Net
from tests.core.scripted import env

PUT = Submit(op="put", key="'k'", value="1")
GET = Submit(op="get", key="'k'", value=None)


def session(client: int = 4, servers: int = 3, **params: Any) -> ClientSession:
    return ClientSession(client, ClientParams(server_count=servers, **params), random.Random(0))


def view(s: ClientSession) -> dict[str, Any]:
    p = s.pending
    return {
        "seq": s.seq,
        "leader_hint": s.leader_hint,
        "pending": None if p is None else {
            "seq": p.seq, "target": p.target, "attempt": p.attempt,
            "deadline_ms": p.deadline_ms, "hops": p.hops,
        },
    }


def requests(out: Output) -> list[tuple[str, int, bool]]:
    return [(e.target, e.message.seq, e.message.nominate) for e in out.to_send
            if isinstance(e.message, ClientRequest)]


def timer(at_ms: int, seq: int, attempt: int) -> TimerCommand:
    return TimerCommand(key="request", at_ms=at_ms,
                        message=RequestTimeout(seq=seq, attempt=attempt))


def local(s: ClientSession, now_ms: int, message: Any) -> Output:
    return s.step(now_ms, env(s.node, s.node, message))


def reply(s: ClientSession, now_ms: int, server: int, seq: int, value: str | None = "1",
          client: int | None = None) -> Output:
    client = s.id if client is None else client
    return s.step(now_ms, env(f"s{server}", s.node,
                              ClientReply(client=client, seq=seq, outcome="ok", value=value)))


def redirect(s: ClientSession, now_ms: int, server: int, seq: int, hint: int | None) -> Output:
    return s.step(now_ms, env(f"s{server}", s.node,
                              Redirect(client=s.id, seq=seq, leader_hint=hint)))


# --- one operation --------------------------------------------------------------------


def test_submit_sends_to_a_server_picked_by_client_id_and_arms_a_timer() -> None:
    s = session(client=4)
    out = local(s, 10, PUT)
    assert [e.message for e in out.to_send] == [
        ClientRequest(client=4, seq=1, op="put", key="'k'", value="1", nominate=False)
    ]
    assert requests(out) == [("s1", 1, False)]  # 4 % 3
    assert out.timers == (timer(410, 1, 1),)
    assert view(s) == {"seq": 1, "leader_hint": None, "pending": {
        "seq": 1, "target": 1, "attempt": 1, "deadline_ms": 5010, "hops": 0}}


def test_an_ok_reply_completes_and_remembers_the_leader() -> None:
    s = session()
    local(s, 0, PUT)
    out = reply(s, 30, server=2, seq=1)
    assert out.completed == (
        Completion(client=4, seq=1, op="put", key="'k'", value="1", outcome="ok"),
    )
    assert out.timers == (TimerCommand(key="request", at_ms=None),)
    assert view(s) == {"seq": 1, "leader_hint": 2, "pending": None}
    out = local(s, 40, GET)
    assert requests(out) == [("s2", 2, False)]  # straight to the leader


def test_a_get_of_a_missing_key_completes_ok_with_none() -> None:
    s = session()
    local(s, 0, GET)
    out = reply(s, 5, server=1, seq=1, value=None)
    assert out.completed == (
        Completion(client=4, seq=1, op="get", key="'k'", value=None, outcome="ok"),
    )


def test_a_fail_reply_completes_fail_with_its_error() -> None:
    s = session()
    local(s, 0, PUT)
    out = s.step(5, env("s1", "c4", ClientReply(client=4, seq=1, outcome="fail", value=None,
                                                error="too big")))
    assert [(c.outcome, c.error) for c in out.completed] == [("fail", "too big")]


# --- timeouts -------------------------------------------------------------------------


def test_a_request_timeout_moves_to_the_next_server_and_nominates_it() -> None:
    s = session()
    local(s, 0, PUT)
    out = local(s, 400, RequestTimeout(seq=1, attempt=1))
    assert requests(out) == [("s2", 1, True)]
    assert out.timers == (timer(800, 1, 2),)
    out = local(s, 800, RequestTimeout(seq=1, attempt=2))
    assert requests(out) == [("s0", 1, True)]  # wraps around
    assert view(s)["pending"] == {
        "seq": 1, "target": 0, "attempt": 3, "deadline_ms": 5000, "hops": 0}


def test_a_timeout_at_the_hinted_leader_forgets_the_hint() -> None:
    s = session()
    local(s, 0, PUT)
    reply(s, 5, server=2, seq=1)
    local(s, 10, GET)
    local(s, 410, RequestTimeout(seq=2, attempt=1))
    assert view(s)["leader_hint"] is None


def test_timers_for_superseded_attempts_or_ops_are_ignored() -> None:
    s = session()
    local(s, 0, PUT)
    local(s, 400, RequestTimeout(seq=1, attempt=1))
    before = view(s)
    for stale in [RequestTimeout(seq=1, attempt=1), RequestTimeout(seq=0, attempt=2)]:
        assert local(s, 500, stale) == Output()
    assert view(s) == before


def test_the_op_timeout_gives_info() -> None:
    s = session(request_timeout_ms=400, op_timeout_ms=1000)
    local(s, 0, PUT)
    local(s, 400, RequestTimeout(seq=1, attempt=1))
    out = local(s, 800, RequestTimeout(seq=1, attempt=2))
    assert out.timers == (timer(1000, 1, 3),)  # capped at the op deadline
    out = local(s, 1000, RequestTimeout(seq=1, attempt=3))
    assert out.to_send == ()
    assert out.completed == (
        Completion(client=4, seq=1, op="put", key="'k'", value="1", outcome="info",
                   error="no answer within 1000 ms"),
    )
    assert view(s)["pending"] is None


def test_give_up_reports_a_pending_op_as_info() -> None:
    s = session()
    assert s.give_up(5) == Output()
    local(s, 10, GET)
    out = s.give_up(20)
    assert [(c.seq, c.outcome, c.value) for c in out.completed] == [(1, "info", None)]
    assert not s.busy


# --- redirects ------------------------------------------------------------------------


def test_a_redirect_with_a_hint_is_followed_at_once() -> None:
    s = session()
    local(s, 0, PUT)
    out = redirect(s, 3, server=1, seq=1, hint=0)
    assert requests(out) == [("s0", 1, False)]
    assert out.timers == (timer(403, 1, 2),)
    assert view(s) == {"seq": 1, "leader_hint": 0, "pending": {
        "seq": 1, "target": 0, "attempt": 2, "deadline_ms": 5000, "hops": 1}}


def test_a_redirect_without_a_hint_pauses_then_tries_the_next_server() -> None:
    s = session(redirect_backoff_ms=20)
    local(s, 0, PUT)
    out = redirect(s, 3, server=1, seq=1, hint=None)
    assert out.to_send == ()
    assert out.timers == (timer(23, 1, 2),)
    out = local(s, 23, RequestTimeout(seq=1, attempt=2))
    assert requests(out) == [("s2", 1, True)]


@pytest.mark.parametrize("hint", [1, 3, -1], ids=["itself", "too-high", "negative"])
def test_an_unusable_hint_is_treated_as_none(hint: int) -> None:
    s = session()
    local(s, 0, PUT)
    out = redirect(s, 3, server=1, seq=1, hint=hint)
    assert out.to_send == () and view(s)["leader_hint"] is None


def test_redirect_ping_pong_is_bounded() -> None:
    """s0 and s1 each think the other leads: the client follows at most server_count
    hints in a row, then pauses and moves on instead of bouncing forever."""
    s = session(client=0, servers=3)
    local(s, 0, PUT)  # to s0
    hops = []
    now = 1
    for _ in range(10):
        target = s.pending.target
        out = redirect(s, now, server=target, seq=1, hint=1 - target)
        now += 1
        if not out.to_send:
            break
        hops.append(requests(out)[0][0])
    assert hops == ["s1", "s0", "s1"]
    assert view(s)["pending"]["hops"] == 0 and view(s)["leader_hint"] is None


def test_a_redirect_from_a_server_we_moved_on_from_is_ignored() -> None:
    s = session()
    local(s, 0, PUT)  # to s1
    local(s, 400, RequestTimeout(seq=1, attempt=1))  # now at s2
    before = view(s)
    assert redirect(s, 401, server=1, seq=1, hint=0) == Output()
    assert redirect(s, 401, server=2, seq=0, hint=0) == Output()
    assert view(s) == before


def test_a_hint_naming_a_server_beyond_the_count_is_still_followed() -> None:
    """The session keeps addresses for servers 0..count-1 ready; a reply's sender
    outside them still becomes the hint and gets the next request."""
    s = session(servers=3)
    local(s, 0, PUT)
    reply(s, 5, server=7, seq=1)
    assert requests(local(s, 6, GET)) == [("s7", 2, False)]


def test_outputs_are_whole_frozen_outputs() -> None:
    """The session fills Output slots itself; every field must be set and frozen."""
    s = session()
    outs = [local(s, 0, PUT), reply(s, 5, server=1, seq=1), local(s, 6, GET),
            redirect(s, 7, server=1, seq=2, hint=None), s.give_up(8)]
    for out in outs:
        assert out == Output(to_persist=out.to_persist, to_send=out.to_send,
                             timers=out.timers, committed=out.committed,
                             completed=out.completed, trace=out.trace)
        assert out.to_persist == () and out.committed == () and out.trace == ()
        with pytest.raises(dataclasses.FrozenInstanceError):
            out.timers = ()  # type: ignore[misc]


# --- stale input and misuse -----------------------------------------------------------


def test_late_replies_for_old_seqs_or_other_clients_are_ignored() -> None:
    s = session()
    local(s, 0, PUT)
    reply(s, 5, server=1, seq=1)
    local(s, 6, GET)
    before = view(s)
    assert reply(s, 7, server=1, seq=1) == Output()  # a duplicate answer to op 1
    assert reply(s, 7, server=1, seq=2, client=9) == Output()
    assert view(s) == before
    assert reply(s, 8, server=1, seq=2, value="1").completed[0].seq == 2
    assert reply(s, 9, server=1, seq=2) == Output()  # nothing pending any more


def test_submitting_while_busy_is_a_usage_error() -> None:
    s = session()
    local(s, 0, PUT)
    with pytest.raises(UsageError, match="pending"):
        local(s, 1, GET)


def test_time_going_backwards_is_a_usage_error() -> None:
    s = session()
    local(s, 100, PUT)
    with pytest.raises(UsageError, match="backwards"):
        reply(s, 99, server=1, seq=1)


def test_messages_a_client_does_not_handle_are_traced() -> None:
    s = session()
    out = s.step(0, env("s0", "c4", ClientRequest(client=1, seq=1, op="get", key="'k'",
                                                  value=None)))
    assert out.to_send == () and out.trace[0].startswith("ignored s0->c4 ClientRequest")


# --- against a running cluster --------------------------------------------------------


def test_the_client_follows_the_leader_hint_through_a_redirect() -> None:
    net = Net(servers=3, clients=1, seed=11)
    net.run_until(lambda: len(net.leaders()) == 1, deadline_ms=3000)
    net.run_for(200)
    (leader,) = net.leaders()
    first = 0 % 3  # client 0 starts at s0
    assert leader != first, "this seed must elect another server, so s0 redirects"
    mark = len(net.sent)
    net.submit(0, "put", "'x'", "1")
    net.run_until(lambda: len(net.completions) == 1, deadline_ms=1000)
    hops = [e.describe() for e in net.sent[mark:]
            if isinstance(e.message, ClientRequest | Redirect | ClientReply)]
    assert hops == [
        f"c0->s{first} ClientRequest c0#1 put 'x' 1",
        f"s{first}->c0 Redirect c0#1 hint={leader}",
        f"c0->s{leader} ClientRequest c0#1 put 'x' 1",
        f"s{leader}->c0 ClientReply c0#1 ok 1",
    ]
    assert net.completions[0].outcome == "ok"
    assert net.sessions[0].leader_hint == leader


def test_a_lost_reply_is_retried_and_answered_from_the_saved_result() -> None:
    net = Net(servers=3, clients=1, seed=11)
    net.run_until(lambda: len(net.leaders()) == 1, deadline_ms=3000)
    (leader,) = net.leaders()
    lost: list[str] = []

    def drop_first_reply(e) -> bool:
        if isinstance(e.message, ClientReply) and not lost:
            lost.append(e.describe())
            return True
        return False

    net.drop = drop_first_reply
    net.submit(0, "put", "'x'", "1")
    net.run_until(lambda: len(net.completions) == 1, deadline_ms=3000)
    assert lost and net.completions[0].outcome == "ok"
    ids = [t.request_id for b in net.replicas[leader].learner.chain for t in b.txns]
    assert ids == [(0, 1)]
    assert net.replicas[leader].role is Role.LEADER  # nominated followers kept quiet
