"""Faults by hand against the fake cluster: who gets which admin request, what is logged
to faults.jsonl, and each bad target's exit code and message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from paxlab.cli.main import main
from paxlab.cluster import control
from paxlab.cluster.control import ControlError, up
from paxlab.cluster.control_faults import _cut_off, parse_groups, parse_target, process_fault
from paxlab.cluster.procs import running_server
from tests.cluster.control_fake import FakeCluster, make_cluster, stop_all


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCluster]:
    """A 3-server fake cluster, up, with s0 leading."""
    fake = FakeCluster(make_cluster(tmp_path / "demo"), tmp_path)
    monkeypatch.setattr(control, "wire_admin", fake.admin)
    monkeypatch.setattr(control, "start_server", fake.start)
    assert up(fake.control()).ok
    fake.requests.clear()
    yield fake
    stop_all(fake)


def run(fake: FakeCluster, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["cluster", *argv, "--cluster", str(fake.cluster.path)])
    out, err = capsys.readouterr()
    return code, out, err


def sent(fake: FakeCluster, cmd: str) -> list[tuple[int, dict[str, object]]]:
    return [(sid, req) for sid, req in fake.requests if req["cmd"] == cmd]


def logged(fake: FakeCluster) -> list[dict[str, object]]:
    path = fake.cluster.data_dir / "faults.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_crash_leader_then_restart(fake: FakeCluster, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(fake, capsys, "crash", "leader")
    assert (code, out) == (0, "crash leader (s0)\n")
    assert running_server(fake.cluster, 0) is None and fake.leader() == 1
    code, out, _ = run(fake, capsys, "crash", "0")
    assert code == 1 and "crash 0: no server to apply it to (none running)" in out
    code, out, _ = run(fake, capsys, "restart", "all", "--json")
    assert code == 0 and json.loads(out) == {"action": "restart", "detail": "restart all (s0)",
                                             "servers": ["s0"], "failed": {}}
    assert running_server(fake.cluster, 0) is not None
    assert [(e["action"], e["detail"], e["nodes"]) for e in logged(fake)] == [
        ("crash", "crash leader (s0)", ["s0"]), ("restart", "restart all (s0)", ["s0"])]
    assert all(isinstance(e["time_ns"], int) for e in logged(fake))


def test_crash_majority_and_a_list(fake: FakeCluster, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(fake, capsys, "crash", "majority")
    assert code == 0 and out.startswith("crash majority (")
    assert sum(running_server(fake.cluster, sid) is None for sid in range(3)) == 2
    code, out, _ = run(fake, capsys, "restart", "0,1,2")
    assert code == 0 and "(s" in out
    assert all(running_server(fake.cluster, sid) for sid in range(3))


def test_pause_and_resume(fake: FakeCluster, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(fake, capsys, "pause", "1", "--ms", "5000")
    assert (code, out) == (0, "pause 1 (s1)\n")
    assert sent(fake, "pause") == [(1, {"cmd": "pause", "ms": 5000})]
    code, out, _ = run(fake, capsys, "resume", "all")
    assert (code, out) == (0, "resume all (s1)\n") and not fake.servers[1].paused
    code, out, _ = run(fake, capsys, "resume", "all")
    assert code == 1 and "no server to apply it to (none paused)" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["crash", "5"], "server id '5' out of range: expected a server id from 0 to 2 (the "
     "cluster file lists 3 servers)"),
    (["crash", "leeder"], "target 'leeder': unknown (did you mean leader?); allowed: a server "
     "id from 0 to 2, ids like 0,2, or one of: leader, random, minority, majority, all"),
    (["restart", "leader"], "target leader: not allowed here"),
    (["resume", "leader"], "target leader: not allowed here"),
    (["pause", ""], "target '': unknown"),
    (["fail-link", "1", "1"], "fail-link 1 1: a link joins two different servers"),
    (["fail-link", "0", "3"], "server id '3' out of range"),
    (["fix-link", "x", "1"], "server id 'x' out of range"),
    (["partition", "0,1/1"], "partition '0,1/1': server 1 is in two groups"),
    (["partition", "0//1"], "partition '0//1': an empty group"),
    (["partition", "0,9/1"], "server id '9' out of range"),
    (["isolate", "0,1"], "isolate 0,1: one server only"),
    (["isolate", "all"], "target 'all': unknown"),
])
def test_bad_targets_are_exit_2_and_send_nothing(
        fake: FakeCluster, capsys: pytest.CaptureFixture[str], argv: list[str],
        message: str) -> None:
    code, out, err = run(fake, capsys, *argv)
    assert code == 2 and message in err and out == ""
    assert not [r for r in fake.requests if r[1]["cmd"] != "status"]


def test_link_faults_go_to_the_servers_concerned(
        fake: FakeCluster, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(fake, capsys, "fail-link", "1", "0")
    assert (code, out) == (0, "fail_link 0-1\n")
    net = {"cmd": "fault", "net": {"cmd": "fail_link", "a": "s1", "b": "s0"}}
    assert sorted(sent(fake, "fault")) == [(0, net), (1, net)]
    assert fake.servers[0].cut == {1} and fake.servers[2].cut == set()
    fake.requests.clear()
    code, out, _ = run(fake, capsys, "fail-link", "2", "1", "--one-way")
    assert (code, out) == (0, "fail_link_one_way 2->1\n")
    one_way = {"cmd": "fault", "net": {"cmd": "fail_link_one_way", "source": "s2",
                                       "target": "s1"}}
    assert sorted(sent(fake, "fault")) == [(1, one_way), (2, one_way)]
    code, out, _ = run(fake, capsys, "fix-link", "0", "1", "--json")
    assert code == 0 and json.loads(out)["servers"] == ["s0", "s1"]
    assert fake.servers[0].cut == set()
    assert [e["nodes"] for e in logged(fake)] == [["s0", "s1"], ["s2", "s1"], ["s0", "s1"]]
    with pytest.raises(SystemExit) as info:  # argparse: fix-link has no --one-way
        main(["cluster", "fix-link", "0", "1", "--one-way"])
    assert info.value.code == 2


def test_partition_isolate_and_heal_go_to_every_server(
        fake: FakeCluster, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(fake, capsys, "partition", "0,1/2")
    assert (code, out) == (0, "partition [0, 1] | [2]\n")
    net = {"cmd": "fault", "net": {"cmd": "partition", "groups": [["s0", "s1"], ["s2"]]}}
    assert sorted(sent(fake, "fault")) == [(0, net), (1, net), (2, net)]
    assert fake.servers[2].cut == {0, 1}
    code, out, _ = run(fake, capsys, "isolate", "leader")
    assert (code, out) == (0, "isolate leader (s0)\n")
    assert fake.servers[0].cut == {1, 2}
    fake.servers[2].reachable = False
    code, out, _ = run(fake, capsys, "heal")
    assert code == 0 and out.startswith("heal\ns2: not reachable")
    assert fake.servers[0].cut == set() == fake.servers[1].cut
    assert [e["action"] for e in logged(fake)] == ["partition", "isolate", "heal"]
    # The nodes each hit, as the results contract names them: the minority cut off,
    # the isolated server, nobody for a heal.
    assert [e["nodes"] for e in logged(fake)] == [["s2"], ["s0"], []]
    assert logged(fake)[-1]["failed"] == {"s2": "not reachable: s2: connection refused"}


def test_a_fault_no_server_took_is_exit_1(fake: FakeCluster,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    for server in fake.servers.values():
        server.reachable = False
    code, out, _ = run(fake, capsys, "fail-link", "0", "1", "--json")
    assert code == 1 and json.loads(out)["servers"] == [] and not logged(fake)


def test_a_partition_cuts_off_the_servers_outside_its_majority() -> None:
    assert _cut_off([[0, 1], [2]], [0, 1, 2]) == ["s2"]
    assert _cut_off([[2]], [0, 1, 2]) == ["s2"]  # the rest, 0 and 1, is the majority
    assert _cut_off([[0, 1], [2, 3], [4]], [0, 1, 2, 3, 4]) == ["s0", "s1", "s2", "s3", "s4"]


def test_target_and_group_parsing() -> None:
    assert parse_target("2", 3) == 2 and parse_target("s2", 3) == 2
    assert parse_target("2,0", 3) == (0, 2) and parse_target("ALL", 3) == "all"
    assert parse_groups("0,1/2", 3) == [[0, 1], [2]]
    with pytest.raises(ControlError, match="server 0 is in two groups"):
        parse_groups("0,0/1", 3)


def test_restart_of_a_remote_server_prints_the_command(
        fake: FakeCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    ctl = fake.control()
    process_fault(ctl, "crash", "2")
    monkeypatch.setattr(control.Control, "local_ids", lambda self: [0, 1])
    report = process_fault(ctl, "restart", "2")
    assert not report.ok
    assert report.data["failed"] == {"s2": "on 127.0.0.1: not local; run there: paxlab "
                                           "server 2 --cluster cluster.yaml"}


@pytest.mark.parametrize("argv", [
    ["crash", "random"], ["pause", "minority"], ["partition", "0/1,2"], ["isolate", "1"],
    ["heal"], ["fail-link", "0", "2", "--one-way"],
])
def test_every_fault_command_prints_json(fake: FakeCluster, capsys: pytest.CaptureFixture[str],
                                         argv: list[str]) -> None:
    code, out, _ = run(fake, capsys, *argv, "--json")
    data = json.loads(out)
    assert code == 0 and sorted(data) == ["action", "detail", "failed", "servers"]
    assert data["servers"] and data["failed"] == {}
    assert logged(fake)[-1]["detail"] == data["detail"]
