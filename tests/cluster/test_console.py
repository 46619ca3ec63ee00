"""The console's parser: every spelling of the original project and the course assignment
gives the contract's command dict, and every bad input one line that says what would
work. Then run_console over a pipe: replies printed, bad lines answered, quit and end of
input return, a failing submit or a Ctrl-C during one never ends the console."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from paxlab.cluster.console import COMPLETION_WORDS, Action, parse_line, run_console
from paxlab.cluster.terminal import Terminal

ME, N = 1, 3  # server s1 of s0..s2


def request(line: str, me: int = ME, n: int = N) -> dict[str, Any] | None:
    action = parse_line(line, me, n)
    assert action.error is None, action.error
    return action.request


def error(line: str, me: int = ME, n: int = N) -> str:
    action = parse_line(line, me, n)
    assert action.request is None and action.error is not None, action
    assert "\n" not in action.error
    return action.error


def fault(cmd: str, **fields: str) -> dict[str, Any]:
    return {"cmd": "fault", "net": {"cmd": cmd, **fields}}


# ---- every spelling ----------------------------------------------------------------


@pytest.mark.parametrize("line", [
    "failLink 2", "faillink 2", "FAILLINK 2", "failLink s2", "failLink(2)", "failLink(1, 2)",
    "failLink(1,2)", "failLink 1 2", "failLink 1, 2", "failLink(2, 1)", "failLink 2 1",
    "fail_link 2", "fail-link 2", "  failLink   2  ", "failLink (1, 2)", "failLink S1 S2",
])
def test_fail_link_spellings(line: str) -> None:
    assert request(line) == fault("fail_link", a="s1", b="s2")


@pytest.mark.parametrize("line", ["fixLink 0", "fixLink(1, 0)", "fixlink 0 1", "FIX_LINK(s0)"])
def test_fix_link_spellings(line: str) -> None:
    assert request(line) == fault("fix_link", a="s1", b="s0")


@pytest.mark.parametrize("line", ["fixLink", "fixLink()", "FIXLINK", "fix-link"])
def test_fix_link_alone_heals_every_link_of_this_server(line: str) -> None:
    assert request(line) == fault("heal")
    assert parse_line(line, ME, N).done == "every link of s1 fixed"


@pytest.mark.parametrize("line", ["failProcess", "failProcess()", "failprocess", "crash",
                                  "fail_process", "failProcess 1", "failProcess(s1)"])
def test_fail_process_is_a_crash(line: str) -> None:
    assert request(line) == {"cmd": "crash"}


@pytest.mark.parametrize(("line", "view"), [
    ("print blockchain", "chain"), ("print bc", "chain"), ("print BC", "chain"),
    ("print Blockchain", "chain"), ("print(bc)", "chain"), ("printBlockchain", "chain"),
    ("printBlockchain()", "chain"), ("printBC", "chain"), ("printChain", "chain"),
    ("print_blockchain", "chain"), ("print chain", "chain"),
    ("print kvstore", "kv"), ("print kv", "kv"), ("print KVStore", "kv"),
    ("printKVStore", "kv"), ("printKVStore()", "kv"), ("printKV", "kv"),
    ("print requestQueue", "queue"), ("print rq", "queue"), ("print queue", "queue"),
    ("printQueue", "queue"), ("printQueue()", "queue"), ("printRQ", "queue"),
    ("printRequestQueue", "queue"),
])
def test_print_spellings(line: str, view: str) -> None:
    action = parse_line(line, ME, N)
    assert action.error is None
    assert action.view == view
    assert action.request == ({"cmd": "queue"} if view == "queue" else {"cmd": "dump"})


@pytest.mark.parametrize(("line", "expected", "view"), [
    ("status", {"cmd": "status"}, "status"), ("STATUS", {"cmd": "status"}, "status"),
    ("status()", {"cmd": "status"}, "status"),
    ("links", {"cmd": "status"}, "links"), ("Links", {"cmd": "status"}, "links"),
    ("elect", {"cmd": "elect"}, "ok"), ("elect()", {"cmd": "elect"}, "ok"),
    ("trace on", {"cmd": "trace", "on": True}, "ok"),
    ("trace OFF", {"cmd": "trace", "on": False}, "ok"),
    ("trace(on)", {"cmd": "trace", "on": True}, "ok"),
    ("slow on", {"cmd": "slow", "on": True}, "ok"),
    ("Slow Off", {"cmd": "slow", "on": False}, "ok"),
    ("pause", {"cmd": "pause", "ms": None}, "ok"),
    ("pause 500", {"cmd": "pause", "ms": 500}, "ok"),
    ("resume", {"cmd": "resume"}, "ok"),
])
def test_other_commands(line: str, expected: dict[str, Any], view: str) -> None:
    action = parse_line(line, ME, N)
    assert (action.request, action.view, action.error) == (expected, view, None)


@pytest.mark.parametrize("line", ["quit", "exit", "QUIT", "exit()", "quit()"])
def test_quit_asks_nothing(line: str) -> None:
    assert parse_line(line, ME, N) == Action(quit=True)


@pytest.mark.parametrize("line", ["help", "HELP", "?", "help()"])
def test_help_lists_every_command(line: str) -> None:
    text = parse_line(line, ME, N).say
    assert text is not None
    for name in ("failLink", "fixLink", "failProcess", "printBlockchain", "printKVStore",
                 "printQueue", "status", "links", "elect", "trace", "slow", "quit"):
        assert f"\n  {name} " in text


def test_help_for_one_command() -> None:
    assert parse_line("help failLink", ME, N).say == (
        "failLink ID | A B: cut the link to server ID (both ways); A B: one end is this one")
    assert (parse_line("help crash", ME, N).say or "").startswith("failProcess: crash")
    assert "did you mean failLink?" in error("help failLnk")


@pytest.mark.parametrize("line", ["", "   ", "\t"])
def test_an_empty_line_does_nothing(line: str) -> None:
    assert parse_line(line, ME, N) == Action()


# ---- bad input: one line each, saying what would work ------------------------------------


@pytest.mark.parametrize(("line", "suggestion"), [
    ("failLnk 2", "failLink"), ("fixlnk", "fixLink"), ("failProces", "failProcess"),
    ("stauts", "status"), ("printBlockchian", "printBlockchain"), ("elcet", "elect"),
    ("qiut", "quit"), ("lnks", "links"),
])
def test_unknown_command_suggests_the_nearest(line: str, suggestion: str) -> None:
    message = error(line)
    assert f"did you mean {suggestion}?" in message
    assert message.startswith(f"unknown command {line.split()[0]!r}")


def test_unknown_command_without_a_near_one() -> None:
    assert error("xyzzy") == "unknown command 'xyzzy'; type help for the list"
    assert error("123") == "123: not a command; type help for the list"
    assert error("(1, 2)") == "(1, 2): not a command; type help for the list"


@pytest.mark.parametrize("line", ["failLink 1", "failLink(1, 1)", "failLink s1", "fixLink 1 1"])
def test_a_link_to_itself(line: str) -> None:
    assert "a link joins two different servers (s1 twice)" in error(line)


@pytest.mark.parametrize(("line", "expected"), [
    ("failLink 0 2", "failLink: neither end is this server (s1); run it on s0 or s2, or use "
                     "`paxlab cluster fail-link 0 2`"),
    ("failLink(2, 0)", "failLink: neither end is this server (s1); run it on s2 or s0, or use "
                       "`paxlab cluster fail-link 2 0`"),
    ("fixLink 0 2", "fixLink: neither end is this server (s1); run it on s0 or s2, or use "
                    "`paxlab cluster fix-link 0 2`"),
])
def test_a_link_elsewhere_says_where_to_run_it(line: str, expected: str) -> None:
    assert error(line) == expected


@pytest.mark.parametrize("line", ["failLink 3", "failLink 9", "failLink(1, 7)", "fixLink 3",
                                  "failLink s3", "failProcess 5"])
def test_a_server_id_out_of_range(line: str) -> None:
    assert "ids are 0 to 2" in error(line)
    assert "there is no server s" in error(line)


@pytest.mark.parametrize("line", ["failLink x", "failLink -1", "failLink 1.5", "fixLink two",
                                  "failLink 'a'"])
def test_a_server_id_that_is_no_number(line: str) -> None:
    assert "is not a server id; ids are 0 to 2" in error(line)


@pytest.mark.parametrize("line", ["failLink", "failLink()", "failLink 0 1 2"])
def test_fail_link_needs_one_or_two_ids(line: str) -> None:
    assert error(line).startswith("failLink needs one server id or two: failLink ID or "
                                  "failLink(A, B), e.g. failLink 2")


def test_fail_process_of_another_server() -> None:
    assert error("failProcess 2") == ("failProcess: this is s1; run it on s2, or use "
                                      "`paxlab cluster crash 2`")
    assert "takes no arguments" in error("failProcess 1 2")


@pytest.mark.parametrize(("line", "expected"), [
    ("print", "print what? blockchain (bc), kvstore (kv) or requestQueue (rq), e.g. print bc"),
    ("print bc kv", "print what? blockchain (bc), kvstore (kv) or requestQueue (rq), "
                    "e.g. print bc"),
    ("print stuff", "print: cannot print 'stuff': blockchain (bc), kvstore (kv) or "
                    "requestQueue (rq)"),
    ("print blokchain", "print: cannot print 'blokchain': blockchain (bc), kvstore (kv) or "
                        "requestQueue (rq); did you mean print blockchain?"),
])
def test_print_what(line: str, expected: str) -> None:
    assert error(line) == expected


@pytest.mark.parametrize(("line", "expected"), [
    ("trace", "trace on or trace off"), ("trace maybe", "trace on or trace off"),
    ("slow", "slow on or slow off"), ("slow on off", "slow on or slow off"),
    ("status now", "status takes no arguments"), ("elect 2", "elect takes no arguments"),
    ("printKV all", "printKV takes no arguments"), ("quit now", "quit takes no arguments"),
    ("pause soon", "pause or pause MS (a whole number of milliseconds)"),
    ("pause -5", "pause or pause MS (a whole number of milliseconds)"),
    ("failLink(1, 2", "failLink(1, 2: missing ')'; write failLink(...) or failLink ..."),
])
def test_bad_arguments(line: str, expected: str) -> None:
    assert error(line) == expected


def test_a_long_bad_line_is_cut_short() -> None:
    assert len(error("x" * 500)) < 120


def test_completion_words_cover_the_commands() -> None:
    for word in ("failLink", "fixLink", "failProcess", "printBlockchain", "blockchain",
                 "requestQueue", "on", "off", "status", "quit"):
        assert word in COMPLETION_WORDS


# ---- run_console over a pipe ---------------------------------------------------------------


class Console:
    """run_console on a Terminal reading a pipe (no tty) and writing a StringIO."""

    def __init__(self, submit: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.read_fd, self.write_fd = os.pipe()
        self.out = io.StringIO()
        self.term = Terminal("s1> ", COMPLETION_WORDS, stdin_fd=self.read_fd, stdout=self.out)
        self.submit = submit

    def run(self, text: str) -> str:
        os.write(self.write_fd, text.encode())
        os.close(self.write_fd)
        run_console(ME, N, self.submit, terminal=self.term)
        os.close(self.read_fd)
        return self.out.getvalue()


@pytest.fixture
def sent() -> Iterator[list[dict[str, Any]]]:
    yield []


def test_run_console_submits_and_prints_replies(sent: list[dict[str, Any]]) -> None:
    def submit(req: dict[str, Any]) -> dict[str, Any]:
        sent.append(req)
        if req["cmd"] == "dump":
            return {"ok": True, "chain": [], "kv": {"'a'": "1"}, "difficulty": 0}
        if req["cmd"] == "elect":
            return {"ok": False, "error": "s1 is paused"}
        return {"ok": True}

    out = Console(submit).run("\nfailLink 2\nprint kv\nstauts\nelect\nfailLink 1\nhelp\n")
    assert sent == [fault("fail_link", a="s1", b="s2"), {"cmd": "dump"}, {"cmd": "elect"}]
    lines = out.splitlines()
    assert lines[:4] == ["OK link s1 - s2 failed: nothing passes either way",
                         "KV store: 1 key", "┌───────┬─────────┐", "│ key   │ value   │"]
    assert "unknown command 'stauts'; did you mean status? type help for the list" in lines
    assert "error: s1 is paused" in lines
    assert "failLink: a link joins two different servers (s1 twice)" in lines
    assert any(line.startswith("console of s1 (servers 0 to 2)") for line in lines)


def test_quit_returns_without_reading_further(sent: list[dict[str, Any]]) -> None:
    out = Console(lambda req: sent.append(req) or {"ok": True}).run("quit\nstatus\n")
    assert sent == [] and out == ""


def test_end_of_input_returns(sent: list[dict[str, Any]]) -> None:
    out = Console(lambda req: sent.append(req) or {"ok": True}).run("elect")
    assert sent == [{"cmd": "elect"}]  # a last line without a newline still counts
    assert out == "OK s1 is running for leader\n"


def test_a_failing_submit_never_ends_the_console() -> None:
    calls = []

    def submit(req: dict[str, Any]) -> dict[str, Any]:
        calls.append(req["cmd"])
        if req["cmd"] == "elect":
            raise TimeoutError("no answer from the node loop in 5 s")
        if req["cmd"] == "resume":
            raise KeyboardInterrupt
        return {"ok": True}

    out = Console(submit).run("elect\nresume\nslow on\n")
    assert calls == ["elect", "resume", "slow"]
    assert out.splitlines() == [
        "error: elect failed: no answer from the node loop in 5 s",
        "^C: stopped waiting; resume may still run",
        "OK slow on: 2 s per hop, timeouts scaled",
    ]
