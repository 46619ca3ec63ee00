"""`paxlab client` end to end over scripted servers (a fake transport): -c, -f, a pipe,
--json, the answer lines, the exit codes, and bad input refused before anything is sent."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import yaml

from paxlab.cluster.client import run_client
from paxlab.cluster.client_files import ClientFiles
from paxlab.cluster.client_node import ClientClock
from paxlab.cluster.clusterfile import ClusterFile, load_cluster_file
from tests.cluster.client_fakes import FakeTransport, ScriptedServers

PUT = "put ('alice', 1) {'phone': '858-1', 'tags': [1, 2]}"
GET = "get ('alice', 1)"
VALUE = "{'phone': '858-1', 'tags': [1, 2]}"


@pytest.fixture
def cluster_path(tmp_path: Path) -> Path:
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump({
        "servers": {i: f"127.0.0.1:{7000 + i}" for i in range(3)},
        "clients": {"request_timeout_ms": 30, "op_timeout_ms": 200}}))
    return path


class Run:
    """One run_client call against `servers`; keeps its output and what was sent."""

    def __init__(self, cluster_path: Path, servers: ScriptedServers, *, client_id: int = 7,
                 stdin: str = "", **options: object) -> None:
        self.transports: list[FakeTransport] = []

        def factory(me: str, cluster: ClusterFile, log: object,
                    clock: ClientClock) -> FakeTransport:
            transport = FakeTransport(clock, servers)
            self.transports.append(transport)
            return transport

        out, err = io.StringIO(), io.StringIO()
        self.code = run_client(client_id, cluster_path, stdin=io.StringIO(stdin), stdout=out,
                               stderr=err, transport_factory=factory, **options)  # type: ignore[arg-type]
        self.out = out.getvalue()
        self.err = err.getvalue()
        self.sent = [env for t in self.transports for env in t.sent]


def history(cluster_path: Path, client_id: int = 7) -> list[dict]:
    path = load_cluster_file(cluster_path).client_dir(client_id) / "history.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_dash_c_puts_then_gets_the_nested_literal(cluster_path: Path) -> None:
    run = Run(cluster_path, ScriptedServers(leader=1), command=f"{PUT}; {GET}")
    assert run.code == 0, run.err
    put, get = run.out.splitlines()
    assert re.fullmatch(r"OK   put \('alice', 1\)   seq 1  \d+\.\d ms  via s1", put)
    assert re.fullmatch(rf"OK   get \('alice', 1\) -> {re.escape(VALUE)}   \d+\.\d ms  via s1", get)
    assert [e["type"] for e in history(cluster_path)] == ["invoke", "ok", "invoke", "ok"]


def test_json_prints_the_history_lines(cluster_path: Path) -> None:
    run = Run(cluster_path, ScriptedServers(leader=0), command=f"{PUT}\n{GET}", json_lines=True)
    assert run.code == 0
    printed = [json.loads(line) for line in run.out.splitlines()]
    assert printed == history(cluster_path)
    assert printed[3] == {**printed[3], "type": "ok", "f": "get", "value": VALUE, "seq": 2,
                          "process": 7}


def test_a_script_file_with_comments_and_blank_lines(cluster_path: Path) -> None:
    script = cluster_path.parent / "ops.txt"
    script.write_text(f"# fill\n\n{PUT}\nget 'nothing'   # not there\nstatus\nquit\nget 1\n")
    run = Run(cluster_path, ScriptedServers(leader=2), script=script)
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].startswith("OK   put ('alice', 1)   seq 1")
    assert re.fullmatch(r"OK   get 'nothing' -> not found   \d+\.\d ms  via s2", lines[1])
    assert lines[2].startswith("c7: leader s2; last seq 2")
    assert lines[3] == "links: s0 up (1 reconnects), s1 not dialed, s2 not dialed"
    assert len(lines) == 4  # quit stopped the script: no get 1


def test_a_bad_script_is_refused_whole_before_anything_is_sent(cluster_path: Path) -> None:
    run = Run(cluster_path, ScriptedServers(leader=0), command=f"{PUT}; put x 1\nget [1]")
    assert run.code == 2
    assert run.err == ("paxlab client: -c: line 1: x is not a Python literal; for the string "
                       "write 'x'\n-c: line 2: [1]: a list cannot be a key (not hashable); use "
                       "a str, int, float, bool, None, bytes or a tuple of these\n"
                       "nothing was sent\n")
    assert run.sent == [] and history(cluster_path) == []


def test_a_pipe_runs_line_by_line_and_skips_a_bad_one(cluster_path: Path) -> None:
    run = Run(cluster_path, ScriptedServers(leader=1), stdin=f"{PUT}\ngett 1\n\n{GET}\n")
    assert run.code == 2  # a bad line is bad input, though the good ones ran
    assert run.err == "paxlab client: line 2: unknown command 'gett'; did you mean get?\n"
    assert [line[:8] for line in run.out.splitlines()] == ["OK   put", "OK   get"]


def test_an_unknown_outcome_is_info_and_exits_1(cluster_path: Path) -> None:
    run = Run(cluster_path, ScriptedServers(leader=None, silent=frozenset({0, 1, 2})),
              command="put 'k' 1; get 'k'")
    assert run.code == 1
    put, get = run.out.splitlines()
    assert put == ("INFO put 'k' 1   seq 1  outcome unknown (timed out after 200 ms; "
                   "it may or may not have been applied)")
    assert get == "INFO get 'k'   seq 2  outcome unknown (timed out after 200 ms; nothing was read)"
    assert {env.message.seq for env in run.sent} == {1, 2}  # type: ignore[attr-defined]


def test_a_second_client_with_the_same_id_is_refused(cluster_path: Path) -> None:
    folder = load_cluster_file(cluster_path).client_dir(7)
    holder = ClientFiles.open(folder, 7, now_ns=0)
    try:
        run = Run(cluster_path, ScriptedServers(), command=GET)
    finally:
        holder.close()
    assert run.code == 2 and run.sent == []
    assert re.fullmatch(r"paxlab client: client c7 is already running \(pid \d+\): .*lock is "
                        r"locked; .*\n", run.err)


def test_a_restarted_client_goes_on_with_new_seqs(cluster_path: Path) -> None:
    servers = ScriptedServers(leader=1)
    assert Run(cluster_path, servers, command=PUT).code == 0
    again = Run(cluster_path, servers, command=GET, json_lines=True)
    assert [json.loads(line)["seq"] for line in again.out.splitlines()] == [2, 2]
    assert json.loads(again.out.splitlines()[1])["value"] == VALUE


def test_bad_arguments_exit_2(cluster_path: Path) -> None:
    assert "out of range" in Run(cluster_path, ScriptedServers(), client_id=-1).err
    missing = Run(cluster_path.parent / "nope.yaml", ScriptedServers())
    assert missing.code == 2 and "nope.yaml" in missing.err
    gone = Run(cluster_path, ScriptedServers(), script=cluster_path.parent / "none.txt")
    assert gone.code == 2 and "cannot read the script" in gone.err


def test_exit_codes_are_the_cli_ones() -> None:
    from paxlab.cli.exit_codes import ExitCode as CliExitCode
    from paxlab.cluster.client import ExitCode

    assert {e.name: e.value for e in ExitCode} == {e.name: e.value for e in CliExitCode}
