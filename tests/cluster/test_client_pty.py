"""The client's prompt in a pseudo-terminal, as a person sees it: the prompt names the
server it believes leads, put/get with nested literals, a bad literal (one line, the
prompt returns), Ctrl-C clears the line or abandons a pending op as INFO, Ctrl-D leaves.
Scripted servers stand in for real ones (tests/cluster/client_fakes.py)."""

from __future__ import annotations

import fcntl
import os
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 15


class Pty:
    """A process on a pty it has as controlling terminal (so ^C is a SIGINT), read with
    deadlines: `expect(text)` waits until `text` appears after what was already matched."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        master, slave = os.openpty()
        self.master = master

        def controlling_tty() -> None:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT,
                                     env=env, start_new_session=True,
                                     preexec_fn=controlling_tty)
        os.close(slave)
        self.seen = ""
        self.pos = 0

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def expect(self, text: str, timeout_s: float = WAIT_S) -> str:
        """Everything from the last match through `text`."""
        deadline = time.monotonic() + timeout_s
        while (at := self.seen.find(text, self.pos)) < 0:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {text!r} within {timeout_s} s; output:\n{self.seen}"
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    chunk = b""
                assert chunk, f"output ended before {text!r}:\n{self.seen}"
                self.seen += chunk.decode(errors="replace").replace("\r\n", "\n")
        start, self.pos = self.pos, at + len(text)
        return self.seen[start:self.pos]

    def wait(self, timeout_s: float = WAIT_S) -> int:
        return self.proc.wait(timeout_s)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(WAIT_S)
        os.close(self.master)


def start(tmp_path: Path, *extra: str) -> Pty:
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump({
        "servers": {i: f"127.0.0.1:{7000 + i}" for i in range(3)},
        "clients": {"request_timeout_ms": 100, "op_timeout_ms": 60_000}}))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "dumb", "INPUTRC": "/dev/null",
           "HOME": str(tmp_path)}
    return Pty([sys.executable, "-m", "tests.cluster.client_fakes", str(path), "7", *extra],
               env)


def wait_for_invoke(history: Path, proc: subprocess.Popen[str] | None = None) -> None:
    """Until the client has written an invoke: its op is then in flight."""
    deadline = time.monotonic() + WAIT_S
    while not (history.exists() and '"invoke"' in history.read_text()):
        assert time.monotonic() < deadline, "the op never started"
        assert proc is None or proc.poll() is None, "the client exited"
        time.sleep(0.01)


@pytest.fixture
def pty_client(tmp_path: Path):  # type: ignore[no-untyped-def]
    made: list[Pty] = []

    def make(*extra: str) -> Pty:
        made.append(start(tmp_path, *extra))
        return made[-1]

    yield make
    for p in made:
        p.close()


def test_the_prompt_put_get_bad_literal_ctrl_c_ctrl_d(pty_client) -> None:  # type: ignore[no-untyped-def]
    term = pty_client()
    term.expect("Type help for commands")
    term.expect("c7 -> ?> ")  # nobody has answered yet
    term.send("put ('alice', 1) {'phone': '858-1', 'tags': [1, 2]}\n")
    answer = term.expect("c7 -> s0> ")  # the answer came from s0, the leader
    assert "OK   put ('alice', 1)   seq 1  " in answer and "via s0" in answer
    term.send("get ('alice', 1)\n")
    answer = term.expect("c7 -> s0> ")
    assert "OK   get ('alice', 1) -> {'phone': '858-1', 'tags': [1, 2]}   " in answer
    term.send("put x 1\n")
    answer = term.expect("c7 -> s0> ")
    assert "error: x is not a Python literal; for the string write 'x'\n" in answer
    term.send("put 'half typed")
    term.expect("half typed")
    term.send("\x03")  # Ctrl-C: the line is dropped, the client stays
    term.expect("c7 -> s0> ")
    term.send("get 'k'\n")
    assert "OK   get 'k' -> not found" in term.expect("c7 -> s0> ")
    term.send("\x04")  # Ctrl-D: leave
    assert term.wait() == 0


def test_ctrl_c_while_waiting_ends_the_op_info_and_returns_to_the_prompt(
        pty_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    term = pty_client("silent")
    term.expect("c7 -> ?> ")
    term.send("put 'k' [1, (2, 3)]\n")
    term.expect("put 'k' [1, (2, 3)]\n")  # the echo
    wait_for_invoke(tmp_path / "data" / "clients" / "c7" / "history.jsonl")  # op pending
    term.send("\x03")
    answer = term.expect("c7 -> ?> ")
    assert ("INFO put 'k' [1, (2, 3)]   seq 1  outcome unknown (interrupted by Ctrl-C; "
            "it may or may not have been applied)") in answer
    term.send("quit\n")
    assert term.wait() == 0


def test_ctrl_c_during_a_piped_script_records_info_and_exits_130(tmp_path: Path) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump({
        "servers": {i: f"127.0.0.1:{7000 + i}" for i in range(3)},
        "clients": {"request_timeout_ms": 100, "op_timeout_ms": 60_000}}))
    history = tmp_path / "data" / "clients" / "c7" / "history.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.cluster.client_fakes", str(path), "7", "silent"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdin is not None
        proc.stdin.write("put 'k' 1\nget 'k'\n")
        proc.stdin.flush()
        wait_for_invoke(history, proc)
        proc.send_signal(2)  # SIGINT, as Ctrl-C
        out, err = proc.communicate(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(WAIT_S)
    assert proc.returncode == 130, err
    assert "INFO put 'k' 1   seq 1  outcome unknown (interrupted by Ctrl-C; " in out
    assert [line.split('"type":"')[1][:4] for line in history.read_text().splitlines()] == [
        "invo", "info"]  # the get never started
