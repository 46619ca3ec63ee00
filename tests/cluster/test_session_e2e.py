"""Issue 12's "Done when" as one story a person could play, for 3 and for 5 real servers.

`paxlab cluster init` writes the cluster file (127.0.0.1, free ports, the shipped timing,
difficulty and fsync). Servers 0 and 1 run `paxlab server ID` each in a pseudo-terminal,
their consoles live, and `paxlab cluster up` starts the others (two consoles: whichever
server leads and is killed, a console's server is left for `down` to stop cleanly).
Clients run as users run them: `-c`, `-f`, a pipe that stays open through every fault,
and the prompt in a pseudo-terminal. Then the faults: a link cut from s0's console
(`failLink 2`, `fixLink 2`) and by `paxlab cluster fail-link`/`fix-link`, a real SIGKILL
of the leader by its pid, and `paxlab cluster restart`, after which it catches up. Ops
succeed throughout, `paxlab cluster check` passes, `paxlab cluster down` stops
everything, no process of the session is left and every port can be bound again.

The `cluster` commands run in this process (`paxlab.cli.main.main`, the code behind
`paxlab cluster ...`); servers and clients are real processes. Every wait has a deadline.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from paxlab.cli.main import main
from paxlab.cluster.admin import admin_request
from paxlab.cluster.clusterfile import ClusterFile, load_cluster_file
from paxlab.cluster.control import busy_port
from paxlab.cluster.procs import is_alive, kill_server, read_pid, running_server
from tests.cluster.harness import ROOT, wait_until
from tests.cluster.ptyproc import CTRL_C, CTRL_D, PtyProcess

NESTED = "{'phone': '858-1', 'tags': [1, 2]}"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(
    [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
PAXLAB = [sys.executable, "-m", "paxlab"]
WAIT_S = 20  # any one step; a loaded 2-core machine takes a small part of it
PUTS = {"('alice', 1)": NESTED, "'b c'": "(1, 'x y')", "('bob', 2)": NESTED,
        "'console cut'": "1", "'cli cut'": "2", "'after kill'": "3"}


@dataclass
class Session:
    """One cluster session and everything it started, so the end can prove none is left."""

    capsys: pytest.CaptureFixture[str]
    cluster: ClusterFile
    consoles: dict[int, PtyProcess]  # servers 0 and 1, each with its console
    pids: set[int] = field(default_factory=set)  # every server and client process seen

    @property
    def path(self) -> str:
        return str(self.cluster.path)

    def cluster_cmd(self, *argv: str) -> tuple[int, str]:
        """`paxlab cluster ARGV --cluster FILE`: its exit code and what it printed."""
        code = main(["cluster", *argv, "--cluster", self.path])
        out, err = self.capsys.readouterr()
        return code, out + err

    def cluster_process(self, *argv: str) -> tuple[int, str]:
        """The same as a process of its own, as from another terminal. (`down` waits for
        each server to exit and reaps it if it is a child of the caller: here that would
        take the consoles' exit codes from their PtyProcess.)"""
        done = subprocess.run([*PAXLAB, "cluster", *argv, "--cluster", self.path],
                              capture_output=True, text=True, env=ENV, timeout=60,
                              check=False)
        return done.returncode, done.stdout + done.stderr

    def status(self) -> dict[str, Any]:
        code, out = self.cluster_cmd("status", "--json")
        data = json.loads(out)
        assert code == (0 if data["ok"] else 1), out
        for row in data["servers"]:
            if row.get("pid"):
                self.pids.add(row["pid"])
        return data

    def leader(self) -> int:
        """The leader a majority follows (`OK: leader s1, ...`), once there is one."""
        def found() -> re.Match[str] | None:
            return re.match(r"OK: leader s(\d+)", self.status()["verdict"])
        return int(wait_until(found, WAIT_S, "an OK verdict").group(1))

    def wait_caught_up(self) -> int:
        """Until every server is up, holds the same chain and has every link up; the
        height."""
        def agreed() -> tuple[int] | None:
            rows = self.status()["servers"]
            if not all(row["up"] for row in rows):
                return None
            tips = {(row["commit"], row["head"]) for row in rows}
            links = {state for row in rows for state in row["links"].values()}
            return (next(iter(tips))[0],) if len(tips) == 1 and links == {"up"} else None
        return wait_until(agreed, WAIT_S, "every server on one chain, every link up")[0]

    def client(self, client_id: int, *args: str) -> str:
        """A non-interactive client run that must exit 0; its output."""
        done = subprocess.run([*PAXLAB, "client", str(client_id), "--cluster", self.path,
                               *args], capture_output=True, text=True, env=ENV,
                              timeout=60, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout


class PipeClient:
    """`paxlab client 8 --cluster FILE` with its stdin a pipe that stays open: one line in,
    one answer line out, each with a deadline."""

    def __init__(self, session: Session, client_id: int) -> None:
        self.proc = subprocess.Popen(
            [*PAXLAB, "client", str(client_id), "--cluster", session.path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        session.pids.add(self.proc.pid)
        self._buffer = b""

    def ask(self, line: str, timeout_s: float = WAIT_S) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout_s
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no answer to {line!r} within {timeout_s} s"
            ready, _, _ = select.select([self.proc.stdout], [], [], remaining)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                assert chunk, f"the client ended before answering {line!r}"
                self._buffer += chunk
        answer, _, self._buffer = self._buffer.partition(b"\n")
        return answer.decode()

    def close(self) -> int:
        """End of input: the client exits (0 when every op ended ok)."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return self.proc.wait(WAIT_S)

    def kill(self) -> None:
        """SIGKILL unless it has exited; reap it."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(WAIT_S)


@pytest.fixture
def session(tmp_path: Path, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest,
            ) -> Iterator[Session]:
    """`paxlab cluster init` for N servers, servers 0 and 1 each on a pty with its
    console. At the end, whatever happened, every server still running is SIGKILLed."""
    monkeypatch.setenv("PYTHONPATH", ENV["PYTHONPATH"])  # servers `cluster up` starts
    n = request.param
    assert main(["cluster", "init", str(tmp_path / "demo"), "--servers", str(n)]) == 0
    capsys.readouterr()
    cluster = load_cluster_file(tmp_path / "demo" / "cluster.yaml")
    consoles: dict[int, PtyProcess] = {}
    try:
        for sid in (0, 1):
            consoles[sid] = PtyProcess([*PAXLAB, "server", str(sid), "--cluster",
                                        str(cluster.path)], env=ENV, cwd=tmp_path,
                                       columns=200)
        yield Session(capsys, cluster, consoles, {c.pid for c in consoles.values()})
    finally:
        for console in consoles.values():
            console.close()
        for sid in cluster.servers:
            if (proc := running_server(cluster, sid)) is not None:  # checks its cmdline
                kill_server(proc)


def pgrep(pattern: str) -> list[str]:
    done = subprocess.run(["pgrep", "-a", "-f", pattern], capture_output=True, text=True,
                          check=False)
    return done.stdout.splitlines()


def runs_with(pid: int, path: str) -> bool:
    """Process `pid` is alive and names `path` on its command line (so a pid reused by
    another program since does not count)."""
    try:
        return is_alive(pid) and path in Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return False


@pytest.mark.parametrize("session", [3, 5], indirect=True, ids=["3-servers", "5-servers"])
def test_a_session_played_by_hand_ends_checked_and_leaves_nothing_behind(
        session: Session, tmp_path: Path) -> None:
    s, n = session, len(session.cluster.servers)
    console = s.consoles[0]

    # --- servers: s0 and s1 in their terminals, the others by `cluster up` ----------
    for sid, term in s.consoles.items():
        term.wait_row(f"s{sid}> ")
        wait_until(lambda sid=sid, term=term: read_pid(s.cluster, sid) == term.pid, WAIT_S,
                   f"s{sid}'s pid file")
    code, out = s.cluster_cmd("up")
    assert code == 0, out
    for sid, term in s.consoles.items():
        assert f"s{sid} already running (pid {term.pid})" in out
    assert out.count(" started (pid ") == n - 2 and "leader: s" in out, out
    s.leader()
    console.send("status\r")
    console.expect(r"links: " + ", ".join(fr"s{i} \w+" for i in range(1, n)))
    console.wait_row("s0> ")

    # --- clients without a terminal: -c, -f and a pipe ------------------------------
    out = s.client(7, "-c", f"put ('alice', 1) {NESTED}; get ('alice', 1)")
    put, get = out.splitlines()
    assert re.fullmatch(r"OK   put \('alice', 1\)   seq 1  \d+\.\d ms  via s\d", put)
    assert re.fullmatch(rf"OK   get \('alice', 1\) -> {re.escape(NESTED)}   \d+\.\d ms  "
                        r"via s\d", get)
    script = tmp_path / "ops.txt"
    script.write_text("# a script\nput 'b c' (1, 'x y')\n\nget 'b c'\nget 'never written'\n")
    assert [line.rsplit("   ", 1)[0] for line in s.client(6, "-f", str(script)).splitlines()] \
        == ["OK   put 'b c'", "OK   get 'b c' -> (1, 'x y')", "OK   get 'never written' -> "
            "not found"]
    pipe = PipeClient(s, 8)
    try:
        assert pipe.ask("get ('alice', 1)").startswith(f"OK   get ('alice', 1) -> {NESTED}")

        # --- the prompt in a terminal -----------------------------------------------
        with PtyProcess([*PAXLAB, "client", "9", "--cluster", s.path], env=ENV,
                        cwd=tmp_path) as term:
            s.pids.add(term.pid)
            prompt = re.compile(r"c9 -> (\?|s\d)> ")
            term.wait_row(prompt)
            term.send(f"put ('bob', 2) {NESTED}\r")
            term.expect(r"OK   put \('bob', 2\)   seq 1  \d+\.\d ms  via s\d\r\n")
            term.wait_row(prompt)
            term.send("get ('bob', 2)\r")
            term.expect(rf"OK   get \('bob', 2\) -> {re.escape(NESTED)}   ")
            term.wait_row(prompt)
            term.send("put 'k' {'a': [1, 2}\r")  # a bad literal: one line, then the prompt
            term.expect(r"\r\nerror: '}' does not close '\[' in put 'k' \{'a': \[1, 2}\r\n")
            term.wait_row(prompt)
            term.send("get 'half")
            term.wait_row(re.compile(prompt.pattern + "get 'half"))
            term.send(CTRL_C)  # the line is dropped; the client stays
            term.wait_row(prompt)
            assert term.screen.line(term.screen.row - 1).endswith("> get 'half^C")
            term.send(CTRL_D)
            assert term.wait_exit() == 0

        # --- a link cut from s0's console, then fixed -------------------------------
        console.send("failLink 2\r")
        console.expect("link s0 - s2 failed: nothing passes either way")
        console.wait_row("s0> ")
        links = {row["id"]: row["links"] for row in s.status()["servers"]}
        assert links["s0"]["s2"] == "cut"
        assert pipe.ask("put 'console cut' 1").startswith("OK   put 'console cut'")
        console.send("fixLink 2\r")
        console.expect("link s0 - s2 fixed")
        console.wait_row("s0> ")

        # --- a link cut by `paxlab cluster fail-link`, then fixed --------------------
        code, out = s.cluster_cmd("fail-link", "1", "2")
        assert code == 0 and "fail_link 1-2" in out, out
        links = {row["id"]: row["links"] for row in s.status()["servers"]}
        assert links["s1"]["s2"] == "cut" and links["s2"]["s1"] == "cut"
        assert pipe.ask("put 'cli cut' 2").startswith("OK   put 'cli cut'")
        code, out = s.cluster_cmd("fix-link", "1", "2")
        assert code == 0 and "fix_link 1-2" in out, out
        s.wait_caught_up()

        # --- kill -9 the leader by its pid; an op still succeeds ---------------------
        old = s.leader()
        pid = read_pid(s.cluster, old)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        if old in s.consoles:
            assert s.consoles[old].wait_exit() == -signal.SIGKILL  # its console with it
        wait_until(lambda: not is_alive(pid), WAIT_S, f"s{old} (pid {pid}) gone")
        assert pipe.ask("put 'after kill' 3").startswith("OK   put 'after kill'")
        assert s.leader() != old

        # --- restart it: it catches up --------------------------------------------
        code, out = s.cluster_cmd("restart", str(old))
        assert code == 0 and f"restart {old} (s{old})" in out, out
        new_pid = read_pid(s.cluster, old)
        assert new_pid is not None and new_pid != pid
        s.pids.add(new_pid)
        assert pipe.ask("get 'after kill'").startswith("OK   get 'after kill' -> 3")
        s.wait_caught_up()
        kv = admin_request(s.cluster, old, {"cmd": "dump"}, WAIT_S)["kv"]
        assert {key: kv.get(key) for key in PUTS} == PUTS  # the restarted one has them all
        assert pipe.close() == 0  # end of input; 0: every op of the pipe ended ok
    finally:
        pipe.kill()

    # --- the verdict, then down ------------------------------------------------------
    code, out = s.cluster_cmd("check")
    assert code == 0, out
    assert "ALL CHECKS PASS" in out
    assert f"({n} of {n} servers, 4 clients," in out  # c6, c7, c8, c9
    for sid in s.cluster.servers:
        if (pid := read_pid(s.cluster, sid)) is not None:
            s.pids.add(pid)
    code, out = s.cluster_process("down")
    assert code == 0 and out.count(" stopped (pid") == n, out
    for sid, term in s.consoles.items():
        if sid != old:
            assert term.wait_exit() == 0  # `down` stopped the console's server cleanly
    code, out = s.cluster_cmd("down", "--json")  # again: fine, nothing to stop
    assert code == 0 and set(json.loads(out)["servers"].values()) == {"not running"}

    # --- nothing left: no process, every port free ----------------------------------
    assert [pid for pid in sorted(s.pids) if runs_with(pid, s.path)] == []
    assert pgrep(s.path) == []
    assert [busy_port(entry.listen) for entry in s.cluster.servers.values()] == [None] * n
