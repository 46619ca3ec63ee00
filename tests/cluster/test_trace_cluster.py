"""A real 3-server cluster (127.0.0.1, free ports) records its messages, and `paxlab
cluster check` joins them into the results folder's messages.jsonl: each client op's
ClientRequest, Accepts, Accepteds and ClientReply with their arrivals; a failed link's
messages cut and never arriving; a torn or corrupt node file noted, never fatal.

Servers are real processes (tests/cluster/harness.py, always killed at the end); the
client and the `cluster` commands run in this process. Every wait has a deadline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paxlab.cli.main import main
from paxlab.cluster.msgrecord import NODE_MESSAGES_FILE
from paxlab.results.messages import read_messages
from tests.cluster.harness import LocalCluster, wait_until, write_cluster

WAIT_S = 15  # one step; a loaded 2-core machine takes a small part of it


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    with LocalCluster(write_cluster(tmp_path, 3)) as running:
        yield running


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


def check(capsys: pytest.CaptureFixture[str], cluster: LocalCluster) -> tuple[int, dict[str, Any]]:
    code, out = run(capsys, "cluster", "check", "--json", "--cluster", str(cluster.path))
    return code, json.loads(out)


def client(capsys: pytest.CaptureFixture[str], cluster: LocalCluster, commands: str) -> None:
    code, out = run(capsys, "client", "7", "--cluster", str(cluster.path), "-c", commands)
    assert code == 0, out


class Joined:
    """The results folder's messages: sends by id, and each id's arrivals."""

    def __init__(self, run_dir: str) -> None:
        read = read_messages(Path(run_dir))
        assert read.problems == [] and read.header["driver"] == "cluster"
        self.sends = {s.id: s for s in read.sends}
        assert len(self.sends) == len(read.sends)  # one id per message
        self.arrivals: dict[int, list[Any]] = {}
        for arrival in read.arrivals:
            assert arrival.id in self.sends
            self.arrivals.setdefault(arrival.id, []).append(arrival)
        assert min(s.t_us for s in read.sends) == 0  # the session's first event

    def find(self, kind: str, src: str | None = None, dst: str | None = None,
             op: tuple[int, int] | None = None, slot: int | None = None) -> list[Any]:
        return [s for s in self.sends.values() if s.type == kind
                and (src is None or s.src == src) and (dst is None or s.dst == dst)
                and (op is None or op in (s.ops or [])) and (slot is None or s.slot == slot)]

    def delivered(self, kind: str, **where: Any) -> list[Any]:
        """The sends that match and arrived, each arrival after its send (one host:
        one clock)."""
        found = []
        for send in self.find(kind, **where):
            if any(a.outcome == "delivered" for a in self.arrivals.get(send.id, [])):
                assert all(a.t_us >= send.t_us for a in self.arrivals[send.id])
                found.append(send)
        return found


def test_each_op_s_messages_are_joined_send_to_arrival(
        cluster: LocalCluster, capsys: pytest.CaptureFixture[str]) -> None:
    leader = cluster.wait_ready(WAIT_S)
    client(capsys, cluster, "put 'a' 1; put 'b' 2; get 'a'")
    code, data = check(capsys, cluster)
    assert code == 0 and data["passed"], data
    assert data["messages"]["unmatched"] == 0 and data["messages"]["files"] == 4
    joined = Joined(data["run_dir"])
    me, lead = "c7", f"s{leader}"
    followers = [f"s{i}" for i in range(3) if i != leader]
    for seq in (1, 2, 3):
        op = (7, seq)
        assert joined.delivered("ClientRequest", src=me, dst=lead, op=op)
        accepts = {s.dst: s for s in joined.delivered("Accept", src=lead, op=op)}
        assert sorted(accepts) == followers, f"seq {seq}: {accepts}"
        slot = accepts[followers[0]].slot
        for follower in followers:
            assert joined.delivered("Accepted", src=follower, dst=lead, slot=slot)
        assert joined.delivered("ClientReply", src=lead, dst=me, op=op)
    assert joined.delivered("Heartbeat", src=lead)
    assert joined.delivered("HeartbeatAck", dst=lead)


def node_file(cluster: LocalCluster, node: str) -> Path:
    kind = "servers" if node[0] == "s" else "clients"
    return cluster.cluster.data_dir / kind / node / NODE_MESSAGES_FILE


def test_a_failed_link_cuts_messages_and_torn_node_files_do_not_break_check(
        cluster: LocalCluster, capsys: pytest.CaptureFixture[str]) -> None:
    leader = cluster.wait_ready(WAIT_S)
    other = (leader + 1) % 3
    code, out = run(capsys, "cluster", "fail-link", str(leader), str(other),
                    "--cluster", str(cluster.path))
    assert code == 0, out

    def cut_noted() -> bool:
        cluster.admin(leader, {"cmd": "dump"})  # flushes its record
        return any(json.loads(line)[-1] == "cut" for line in
                   node_file(cluster, f"s{leader}").read_text().splitlines()[1:]
                   if line.startswith('["s"'))

    wait_until(cut_noted, WAIT_S, f"a message cut on s{leader}-s{other}")
    code, out = run(capsys, "cluster", "fix-link", str(leader), str(other),
                    "--cluster", str(cluster.path))
    assert code == 0, out
    cluster.wait_converged([0, 1, 2], WAIT_S)
    client(capsys, cluster, "put 'a' 1; get 'a'")

    # A crash mid-write tears a line: a client's last line, and a running server's
    # line that its next write then continues (a corrupt line in the middle).
    client_file = node_file(cluster, "c7")
    text = client_file.read_bytes()
    client_file.write_bytes(text[:-5])
    last = text.count(b"\n")
    with open(node_file(cluster, f"s{other}"), "a") as torn:
        torn.write('["s",99,')
    code, data = check(capsys, cluster)
    assert code == 0 and data["passed"], data
    notes = "\n".join(data["notes"])
    assert f"{client_file}: line {last}: cut short" in notes
    assert f"{node_file(cluster, f's{other}')}: line " in notes

    joined = Joined(data["run_dir"])
    pair = {f"s{leader}", f"s{other}"}
    cut = [s for s in joined.sends.values() if s.fate == "cut"]
    assert cut and all({s.src, s.dst} == pair for s in cut)
    assert all(s.id not in joined.arrivals for s in cut)
    assert joined.delivered("ClientRequest", src="c7", op=(7, 1))
    assert joined.delivered("ClientReply", dst="c7", op=(7, 2)) == []  # its line was torn
    assert joined.find("ClientReply", dst="c7", op=(7, 2))  # the server's send is there


def test_a_crash_keeps_the_record_up_to_it_and_a_restart_starts_a_new_run(
        cluster: LocalCluster, capsys: pytest.CaptureFixture[str]) -> None:
    leader = cluster.wait_ready(WAIT_S)
    follower = (leader + 1) % 3
    client(capsys, cluster, "put 'a' 1")
    # `cluster crash`: the server writes what it holds of its record, then SIGKILLs itself.
    code, out = run(capsys, "cluster", "crash", str(follower), "--cluster", str(cluster.path))
    assert code == 0, out
    cluster.wait_exit(follower, WAIT_S)
    cluster.start(follower)
    cluster.wait_converged([0, 1, 2], WAIT_S)
    client(capsys, cluster, "put 'b' 2")
    code, data = check(capsys, cluster)
    assert code == 0 and data["passed"], data
    headers = [line for line in node_file(cluster, f"s{follower}").read_text().splitlines()
               if line.startswith("{")]
    assert len(headers) == 2  # one per start of the process
    joined = Joined(data["run_dir"])
    me, lead = f"s{follower}", f"s{leader}"
    assert joined.delivered("Accept", src=lead, dst=me, op=(7, 1))  # before the crash
    # After the restart (which may have made it the leader):
    assert joined.delivered("Accept", dst=me, op=(7, 2)) \
        or joined.delivered("Accept", src=me, op=(7, 2))
