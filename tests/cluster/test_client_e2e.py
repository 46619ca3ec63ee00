"""`python -m paxlab.cluster.client` against 3 real servers on 127.0.0.1 (free ports):
-c, -f, a pipe, --json, put then get of a nested literal, the prompt in a pty, and a
put that outlives a kill -9 of the leader under the same seq. Every wait has a deadline;
every server is stopped at the end."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from paxlab.cluster.admin import AdminError, admin_request
from paxlab.cluster.clusterfile import ClusterFile, load_cluster_file
from paxlab.cluster.ports import free_port
from tests.cluster.ptyproc import CTRL_C, CTRL_D, PtyProcess
from tests.cluster.test_client_pty import answer_after

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
START_S = 20
NESTED = "{'phone': '858-1', 'tags': [1, 2]}"


@dataclass
class Servers:
    cluster: ClusterFile
    procs: dict[int, subprocess.Popen[bytes]]

    @property
    def path(self) -> Path:
        return self.cluster.path

    def start(self, server_id: int) -> None:
        folder = self.cluster.server_dir(server_id)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "stderr.txt", "ab") as err:
            self.procs[server_id] = subprocess.Popen(
                [sys.executable, "-m", "paxlab.cluster.server", str(self.path), str(server_id)],
                stdin=subprocess.DEVNULL, stdout=err, stderr=err, cwd=ROOT, env=ENV)

    def leader(self, timeout_s: float = START_S, among: frozenset[int] | None = None) -> int:
        """The id of a server that says it leads, polled until the deadline."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for i in sorted(among if among is not None else self.procs):
                with contextlib.suppress(AdminError):
                    status = admin_request(self.cluster, i, {"cmd": "status"}, timeout_s=1.0)
                    if status.get("ok") and status.get("role") == "leader":
                        return i
            time.sleep(0.05)
        raise AssertionError(f"no leader within {timeout_s} s")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    folder = tmp_path_factory.mktemp("cluster")
    path = folder / "cluster.yaml"
    path.write_text(yaml.safe_dump({
        "servers": {i: f"127.0.0.1:{free_port()}" for i in range(3)},
        "cluster": {"difficulty": 0, "heartbeat_interval_ms": 50,
                    "election_timeout_ms_min": 300, "election_timeout_ms_max": 600},
        "clients": {"request_timeout_ms": 300, "op_timeout_ms": 8000}}))
    running = Servers(load_cluster_file(path), {})
    try:
        for i in range(3):
            running.start(i)
        running.leader()
        yield running
    finally:
        running.stop()


def client(servers: Servers, client_id: int, *args: str, stdin: str | None = None,
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paxlab.cluster.client", str(client_id), "--cluster",
         str(servers.path), *args], input=stdin if stdin is not None else "",
        capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=60)


def test_dash_c_put_then_get_returns_the_nested_literal(servers: Servers) -> None:
    done = client(servers, 1, "-c", f"put ('alice', 1) {NESTED}; get ('alice', 1)")
    assert done.returncode == 0, done.stderr
    put, get = done.stdout.splitlines()
    assert re.fullmatch(r"OK   put \('alice', 1\)   seq 1  \d+\.\d ms  via s\d", put)
    assert re.fullmatch(rf"OK   get \('alice', 1\) -> {re.escape(NESTED)}   \d+\.\d ms  via s\d",
                        get)


def test_a_script_file_with_json_prints_history_lines(servers: Servers, tmp_path: Path) -> None:
    script = tmp_path / "ops.txt"
    script.write_text("# two ops\nput 'b c' (1, 'x y')\n\nget 'b c'\nget 'never written'\n")
    done = client(servers, 2, "-f", str(script), "--json")
    assert done.returncode == 0, done.stderr
    printed = [json.loads(line) for line in done.stdout.splitlines()]
    history = servers.cluster.client_dir(2) / "history.jsonl"
    assert printed == [json.loads(line) for line in history.read_text().splitlines()]
    assert [(e["type"], e["f"], e["value"]) for e in printed] == [
        ("invoke", "put", "(1, 'x y')"), ("ok", "put", "(1, 'x y')"),
        ("invoke", "get", None), ("ok", "get", "(1, 'x y')"),
        ("invoke", "get", None), ("ok", "get", None)]


def test_a_pipe_and_a_restarted_client_never_reuse_a_seq(servers: Servers) -> None:
    first = client(servers, 3, stdin="put 3 [3]\nget 3\n")
    assert first.returncode == 0, first.stderr
    again = client(servers, 3, "--json", stdin="put 3 (3,)\nget 3\n")
    assert again.returncode == 0, again.stderr
    events = [json.loads(line) for line in again.stdout.splitlines()]
    assert [e["seq"] for e in events] == [3, 3, 4, 4]
    assert events[-1]["value"] == "(3,)"  # the restarted client's put took effect


def test_bad_input_is_refused_before_anything_is_sent(servers: Servers) -> None:
    done = client(servers, 4, "-c", "put x 1")
    assert done.returncode == 2
    assert done.stderr == ("paxlab client: -c: line 1: x is not a Python literal; for the "
                           "string write 'x'\nnothing was sent\n")
    assert not (servers.cluster.client_dir(4) / "history.jsonl").exists()


def test_the_prompt_in_a_pty(servers: Servers) -> None:
    with PtyProcess([sys.executable, "-m", "paxlab.cluster.client", "5", "--cluster",
                     str(servers.path)], env=ENV, cwd=ROOT) as term:
        term.wait_row("c5 -> ?> ")
        term.send(f"put ('alice', 2) {NESTED}\r")
        found = term.expect(r"OK   put \('alice', 2\)   seq 1  \d+\.\d ms  via (s\d)\r\n")
        prompt = f"c5 -> {found.group(1)}> "  # the server that answered leads
        term.wait_row(prompt)
        get = answer_after(term, "get ('alice', 2)", "OK   get", prompt)
        assert get.startswith(f"OK   get ('alice', 2) -> {NESTED}   ")
        bad = answer_after(term, "put 'k' {'a': [1, 2}", "error: ", prompt)
        assert bad == "error: '}' does not close '[' in put 'k' {'a': [1, 2}"
        term.send("get 'half")
        term.wait_row(prompt + "get 'half")
        term.send(CTRL_C)
        term.wait_row(prompt)
        status = answer_after(term, "status", "links: ", prompt)
        assert re.fullmatch(r"links: s0 \w.*, s1 \w.*, s2 \w.*", status)
        assert f"c5: leader {found.group(1)}; last seq 2" in term.output
        term.send(CTRL_D)
        assert term.wait_exit() == 0


def test_a_put_outlives_a_kill_9_of_the_leader(servers: Servers) -> None:
    before = servers.leader()
    warm = client(servers, 6, "-c", "put 'before' 1")
    assert warm.returncode == 0, warm.stderr
    servers.procs[before].send_signal(signal.SIGKILL)
    servers.procs[before].wait(5)
    try:
        done = client(servers, 6, "--json", "-c", "put 'after' 2; get 'before'")
        assert done.returncode == 0, done.stderr
        events = [json.loads(line) for line in done.stdout.splitlines()]
        assert [(e["type"], e["seq"]) for e in events] == [
            ("invoke", 2), ("ok", 2), ("invoke", 3), ("ok", 3)]
        assert events[-1]["value"] == "1"
    finally:
        servers.start(before)  # back for the other tests, from its record file
        servers.leader()
