"""The client's prompt in a pseudo-terminal, as a person sees it: the prompt names the
server it believes leads, put/get with nested literals, a bad literal (one line, the
prompt returns), Ctrl-C clears the line or abandons a pending op as INFO, Ctrl-D leaves.
Scripted servers stand in for real ones (tests/cluster/client_fakes.py); CONSOLE's
PtyProcess (tests/cluster/ptyproc.py) plays the terminal."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.cluster.ptyproc import CTRL_C, CTRL_D, PtyProcess

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 15


def screen(term: PtyProcess) -> str:
    """What the terminal shows, row by row."""
    return "\n".join(term.screen.line(row) for row in range(len(term.screen.rows)))


def answer_after(term: PtyProcess, line: str, answer: str, prompt: str) -> str:
    """Type `line` and Enter, wait for `answer` (a regex) in the output and then for the
    prompt; return the answer's row as the screen shows it."""
    term.send(line + "\r")
    term.expect(answer)
    term.wait_row(prompt)
    return term.screen.line(term.screen.row - 1)


def start(tmp_path: Path, *extra: str) -> PtyProcess:
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump({
        "servers": {i: f"127.0.0.1:{7000 + i}" for i in range(3)},
        "clients": {"request_timeout_ms": 100, "op_timeout_ms": 60_000}}))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    return PtyProcess([sys.executable, "-m", "tests.cluster.client_fakes", str(path), "7",
                       *extra], env=env, cwd=ROOT)


def wait_for_invoke(history: Path, proc: subprocess.Popen[str] | None = None) -> None:
    """Until the client has written an invoke: its op is then in flight."""
    deadline = time.monotonic() + WAIT_S
    while not (history.exists() and '"invoke"' in history.read_text()):
        assert time.monotonic() < deadline, "the op never started"
        assert proc is None or proc.poll() is None, "the client exited"
        time.sleep(0.01)


@pytest.fixture
def pty_client(tmp_path: Path):  # type: ignore[no-untyped-def]
    made: list[PtyProcess] = []

    def make(*extra: str) -> PtyProcess:
        made.append(start(tmp_path, *extra))
        return made[-1]

    yield make
    for p in made:
        p.close()


def test_the_prompt_put_get_bad_literal_ctrl_c_ctrl_d(pty_client) -> None:  # type: ignore[no-untyped-def]
    term = pty_client()
    term.expect("Type help for commands")
    term.wait_row("c7 -> ?> ")  # nobody has answered yet
    put = answer_after(term, "put ('alice', 1) {'phone': '858-1', 'tags': [1, 2]}",
                       "OK   put", "c7 -> s0> ")  # the answer came from s0, the leader
    assert re.fullmatch(r"OK   put \('alice', 1\)   seq 1  \d+\.\d ms  via s0", put)
    get = answer_after(term, "get ('alice', 1)", "OK   get", "c7 -> s0> ")
    assert re.fullmatch(r"OK   get \('alice', 1\) -> \{'phone': '858-1', 'tags': \[1, 2\]\}"
                        r"   \d+\.\d ms  via s0", get)
    assert answer_after(term, "put x 1", "error: ", "c7 -> s0> ") == (
        "error: x is not a Python literal; for the string write 'x'")
    term.send("put 'half typed")
    term.wait_row("c7 -> s0> put 'half typed")
    term.send(CTRL_C)  # the line is dropped, the client stays
    term.wait_row("c7 -> s0> ")
    assert "c7 -> s0> put 'half typed^C" in screen(term)
    term.send("g\t")  # Tab completes a command
    term.wait_row("c7 -> s0> get ")
    get = answer_after(term, "'k'", "OK   get", "c7 -> s0> ")
    assert re.fullmatch(r"OK   get 'k' -> not found   \d+\.\d ms  via s0", get)
    term.send(CTRL_D)
    assert term.wait_exit() == 0


def test_ctrl_c_while_waiting_ends_the_op_info_and_returns_to_the_prompt(
        pty_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    term = pty_client("silent")
    term.wait_row("c7 -> ?> ")
    term.send("put 'k' [1, (2, 3)]\r")
    wait_for_invoke(tmp_path / "data" / "clients" / "c7" / "history.jsonl")  # op pending
    term.send(CTRL_C)  # the tty is in its normal mode while an op runs: a real SIGINT
    term.expect("INFO put")
    term.wait_row("c7 -> ?> ")
    assert ("INFO put 'k' [1, (2, 3)]   seq 1  outcome unknown (interrupted by Ctrl-C; "
            "it may or may not have been applied)\r\n") in term.output  # wider than the screen
    term.send("quit\r")
    assert term.wait_exit() == 0


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
