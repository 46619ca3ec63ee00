"""The server console on a real pseudo-terminal (tests/cluster/console_child.py: run_console
with a fake submit and a log thread): the prompt, replies, a log line printed while a
person types, Ctrl-C at the prompt and while a command runs, Ctrl-D.

Each step waits for the echo or prompt it caused before the next key, with a deadline.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.ptyproc import CTRL_C, CTRL_D, PtyProcess

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("console_child.py")
PROMPT = "s0> "


@pytest.fixture
def console() -> Iterator[PtyProcess]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with PtyProcess([sys.executable, str(CHILD)], env=env, cwd=ROOT) as proc:
        proc.expect(r"console ready \(foreground\)")
        proc.expect(PROMPT)
        yield proc


def test_prompt_command_reply_and_ctrl_d(console: PtyProcess) -> None:
    console.send("status\r")
    console.expect(r"s0  follower  leader s1  ballot 3.1  commit 1  head ab12cd34")
    console.expect(r"links: s1 up, s2 cut")
    console.expect(PROMPT)
    console.send("failLnk 2\r")
    console.expect(r"unknown command 'failLnk'; did you mean failLink\?")
    console.expect(PROMPT)
    console.send(CTRL_D)
    console.expect("console ended")
    assert console.wait_exit() == 0


def test_a_log_line_while_typing_leaves_the_typed_text_intact(console: PtyProcess) -> None:
    console.wait_row(PROMPT)
    console.send("print b")
    console.wait_row(PROMPT + "print b")
    console.signal(signal.SIGUSR1)
    console.expect("log: tick 1")
    console.wait_row(PROMPT + "print b")
    assert console.screen.line(console.screen.row - 1) == "log: tick 1"
    console.send("c\r")  # the line is still "print b": this makes it "print bc"
    console.expect(r"blockchain: 1 block, head ab12cd34, difficulty 0")
    console.expect(r"c7\.1 put 'alice' = 1")
    console.expect(PROMPT)
    assert console.alive()


def test_typing_during_a_burst_of_log_lines(console: PtyProcess) -> None:
    console.wait_row(PROMPT)
    console.signal(signal.SIGUSR2)
    for ch in "printKVStore":
        console.send(ch)
    console.expect("log: burst done")
    console.wait_row(PROMPT + "printKVStore")
    console.send("\r")
    console.expect(r"KV store: 1 key")
    console.expect(PROMPT)


def test_ctrl_c_clears_the_line_and_the_console_lives_on(console: PtyProcess) -> None:
    console.wait_row(PROMPT)
    console.send("failLink 1 garbage")
    console.wait_row(PROMPT + "failLink 1 garbage")
    console.send(CTRL_C)
    console.expect(r"\^C")
    console.wait_row(PROMPT)
    console.send("links\r")
    console.expect(r"links of s0")
    console.expect(r"s2 +│ cut")
    console.expect(PROMPT)
    assert console.alive()


def test_ctrl_c_while_a_command_runs_returns_to_the_prompt(console: PtyProcess) -> None:
    console.send("elect\r")
    console.expect("elect: waiting")
    console.send(CTRL_C)  # the tty is in its normal mode now: this is a real SIGINT
    console.expect(r"\^C: stopped waiting; elect may still run")
    console.expect(PROMPT)
    console.send("status\r")
    console.expect(r"leader s1")
    console.expect(PROMPT)
    console.send("quit\r")
    console.expect("console ended")
    assert console.wait_exit() == 0
