"""The client's node against scripted servers (a fake transport): it follows redirects,
retries under the same seq and nominates, ends a silent op as info, and writes every
invoke and completion to its history before the REPL sees it."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from paxlab.cluster.client_files import ClientFiles
from paxlab.cluster.client_node import ClientClock, ClientLoop, ClientNode, OpInterrupted
from paxlab.cluster.client_parse import Command
from paxlab.core import ClientParams, ClientSession
from paxlab.core.messages import ClientRequest, Envelope
from paxlab.results import format as fmt
from tests.cluster.client_fakes import FakeTransport, ScriptedServers

PUT = Command("put", "('alice', 1)", "{'phone': '858-1', 'tags': [1, 2]}")
GET = Command("get", "('alice', 1)")


@contextmanager
def running(folder: Path, servers: Callable[[Envelope], list[Envelope]], *,
            request_timeout_ms: int = 50, op_timeout_ms: int = 400,
            client_id: int = 7) -> Iterator[tuple[ClientLoop, FakeTransport]]:
    files = ClientFiles.open(folder, client_id, now_ns=0)
    clock = ClientClock(floor_ns=files.last_time_ns)
    params = ClientParams(server_count=3, request_timeout_ms=request_timeout_ms,
                          op_timeout_ms=op_timeout_ms)
    session = ClientSession(client_id, params, random.Random(1), last_seq=files.last_seq)
    transport = FakeTransport(clock, servers)
    loop = ClientLoop(ClientNode(session, transport, clock, files), transport)
    loop.start()
    try:
        yield loop, transport
    finally:
        loop.close()
        files.close()


def requests(transport: FakeTransport) -> list[tuple[str, int, bool]]:
    out = []
    for env in transport.sent:
        assert isinstance(env.message, ClientRequest)
        out.append((env.target, env.message.seq, env.message.nominate))
    return out


def history(folder: Path) -> list[dict]:
    return fmt.read_jsonl(folder / "history.jsonl", fmt.event_problem)


def test_put_then_get_returns_the_nested_literal(tmp_path: Path) -> None:
    with running(tmp_path, ScriptedServers(leader=1)) as (loop, transport):
        put = loop.run(PUT)
        get = loop.run(GET)
    assert (put.outcome, put.seq, put.via, put.value) == ("ok", 1, "s1", PUT.value)
    assert (get.outcome, get.seq, get.via, get.value) == ("ok", 2, "s1", PUT.value)
    # c7 first asks s1 (7 % 3); it leads, so no redirect and the hint is kept
    assert requests(transport) == [("s1", 1, False), ("s1", 2, False)]
    events = history(tmp_path)
    assert [(e["type"], e["f"], e["seq"]) for e in events] == [
        ("invoke", "put", 1), ("ok", "put", 1), ("invoke", "get", 2), ("ok", "get", 2)]
    assert events[3]["value"] == PUT.value and events[2]["value"] is None
    assert list(put.events) == events[:2]
    assert all(a["time"] <= b["time"] for a, b in itertools.pairwise(events))


def test_redirect_is_followed_and_the_leader_remembered(tmp_path: Path) -> None:
    with running(tmp_path, ScriptedServers(leader=2)) as (loop, transport):
        assert loop.run(PUT).via == "s2"
        assert loop.status()["leader"] == "s2"
        loop.run(GET)
    assert requests(transport) == [("s1", 1, False), ("s2", 1, False), ("s2", 2, False)]


def test_a_silent_server_is_skipped_and_the_next_nominated_under_the_same_seq(
        tmp_path: Path) -> None:
    servers = ScriptedServers(leader=2, silent=frozenset({1}))
    with running(tmp_path, servers) as (loop, transport):
        result = loop.run(PUT)
    assert (result.outcome, result.seq, result.via) == ("ok", 1, "s2")
    assert requests(transport) == [("s1", 1, False), ("s2", 1, True)]
    assert len(servers.applied) == 1  # one op, applied once


def test_retries_keep_their_seq_and_no_answer_ends_info(tmp_path: Path) -> None:
    servers = ScriptedServers(leader=None, silent=frozenset({0, 1, 2}))
    with running(tmp_path, servers, request_timeout_ms=30, op_timeout_ms=200) as (loop, t):
        result = loop.run(PUT)
        assert loop.status()["busy"] is False
    assert result.outcome == "info" and result.via is None
    assert result.error == "no answer within 200 ms"
    assert 190 <= result.latency_ms < 2000
    sent = requests(t)
    assert len(sent) >= 3 and {seq for _, seq, _ in sent} == {1}
    assert {target for target, _, _ in sent} == {"s0", "s1", "s2"}  # it went round
    assert all(nominate for _, _, nominate in sent[1:])
    events = history(tmp_path)
    assert [e["type"] for e in events] == ["invoke", "info"]
    assert events[1]["value"] == PUT.value  # an info put keeps its value: maybe applied


def test_seq_survives_a_restart_and_is_never_reused(tmp_path: Path) -> None:
    servers = ScriptedServers(leader=1)
    with running(tmp_path, servers) as (loop, _):
        loop.run(PUT)
        loop.run(GET)
    with running(tmp_path, servers) as (loop, transport):
        assert loop.run(GET).seq == 3
    assert requests(transport) == [("s1", 3, False)]
    assert [e["seq"] for e in history(tmp_path)] == [1, 1, 2, 2, 3, 3]


def test_seq_is_on_disk_before_the_request_leaves(tmp_path: Path) -> None:
    seen: list[str] = []

    def servers(env: Envelope) -> list[Envelope]:
        seen.append((tmp_path / "seq").read_text().strip())
        return ScriptedServers(leader=1)(env)

    with running(tmp_path, servers) as (loop, _):
        loop.run(PUT)
        loop.run(GET)
    assert [int(s) for s in seen] == [1, 2]
    invoked = json.loads((tmp_path / "history.jsonl").read_text().splitlines()[0])
    assert invoked["type"] == "invoke"


def test_ctrl_c_while_waiting_abandons_the_op_as_info(tmp_path: Path) -> None:
    servers = ScriptedServers(leader=None, silent=frozenset({0, 1, 2}))
    with running(tmp_path, servers, op_timeout_ms=60_000) as (loop, _):
        interrupt_once = iter([True])

        def wait_then_interrupt(ended: object, _real: Callable = loop._wait) -> None:
            if next(interrupt_once, False):
                raise KeyboardInterrupt
            _real(ended)

        loop._wait = wait_then_interrupt  # type: ignore[method-assign]
        with pytest.raises(OpInterrupted) as stopped:
            loop.run(PUT)
        assert stopped.value.result.outcome == "info"
        assert stopped.value.result.error == "interrupted by Ctrl-C"
        assert loop.status()["busy"] is False
    events = history(tmp_path)
    assert [e["type"] for e in events] == ["invoke", "info"]


def test_closing_with_an_op_pending_records_info(tmp_path: Path) -> None:
    servers = ScriptedServers(leader=None, silent=frozenset({0, 1, 2}))
    with running(tmp_path, servers, op_timeout_ms=60_000) as (loop, _):
        loop._in_loop(lambda: loop.node.submit(PUT, lambda result: None))
    assert [e["type"] for e in history(tmp_path)] == ["invoke", "info"]
