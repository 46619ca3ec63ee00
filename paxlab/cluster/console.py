"""The server console: what a person types at `paxlab server`, turned into the contract's
command dicts, run by the server, and shown as text.

Every spelling of the project we grew from and of the course assignment works, ignoring
case, `_` and `-` in names: `failLink 2`, `failLink(0, 2)`, `failLink 0 2`, `fixLink`,
`failProcess()`, `print bc`, `printBlockchain`, ... `parse_line` is pure (a line, this
server's id and the server count in; an Action out), so each spelling and each bad input
has a unit test; `run_console` is the loop around it. A bad line never reaches the server
and never stops the console: it gets one line saying what is wrong and what would work.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from paxlab.cluster.console_format import format_reply
from paxlab.cluster.terminal import Terminal

__all__ = ["COMMANDS", "COMPLETION_WORDS", "Action", "console_terminal", "parse_line",
           "run_console"]

Submit = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Action:
    """What one console line asks for: exactly one of a request to submit (with the view
    its reply is shown in, and what an OK means), text to print (help, or an error), or
    quit. All None/False: nothing (an empty line)."""

    request: dict[str, Any] | None = None  # a contract command dict
    view: str = "ok"  # console_format.format_reply's view: chain kv queue status links ok
    done: str = ""  # what `OK` reports for an acting command
    say: str | None = None  # help text
    error: str | None = None  # one line: what is wrong, and what would work
    quit: bool = False


# The commands as `help` lists them: (name, arguments, what it does).
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("failLink", "ID | A B", "cut the link to server ID (both ways); A B: one end is this one"),
    ("fixLink", "[ID | A B]", "restore a link; no argument: every link of this server"),
    ("failProcess", "", "crash this server now (kill -9: only synced state survives)"),
    ("print", "WHAT", "blockchain|bc, kvstore|kv or requestQueue|rq"),
    ("printBlockchain", "", "the blockchain as a table (also printBC, printChain)"),
    ("printKVStore", "", "the key-value store (also printKV)"),
    ("printQueue", "", "the request queue: requests not committed yet (also printRQ)"),
    ("status", "", "role, leader, ballot, commit height, head, links, counters"),
    ("links", "", "this server's link to each peer"),
    ("elect", "", "run for leader now"),
    ("trace", "on|off", "log every message in and out"),
    ("slow", "on|off", "2 s per hop, timeouts scaled, to watch the phases"),
    ("pause", "[MS]", "stop stepping the protocol (for MS milliseconds); resume ends it"),
    ("resume", "", "step the protocol again after pause"),
    ("help", "[COMMAND]", "this list, or one command"),
    ("quit", "", "stop this server gracefully (also exit, Ctrl-D)"),
)

_PRINT_VIEWS = {"blockchain": "chain", "bc": "chain", "chain": "chain", "kvstore": "kv",
                "kv": "kv", "requestqueue": "queue", "rq": "queue", "queue": "queue"}
_PRINT_NAMES = {"printblockchain": "chain", "printbc": "chain", "printchain": "chain",
                "printkvstore": "kv", "printkv": "kv", "printqueue": "queue",
                "printrequestqueue": "queue", "printrq": "queue"}
_ALIASES = {"crash": "failprocess", "exit": "quit", "?": "help"}
_SWITCH = {"on": True, "off": False, "true": True, "false": False}
_NAME = re.compile(r"[A-Za-z][A-Za-z_-]*|\?")
_ID = re.compile(r"[sS]?(\d+)")

COMPLETION_WORDS: tuple[str, ...] = (
    *(name for name, _, _ in COMMANDS), "exit", "blockchain", "bc", "kvstore", "kv",
    "requestQueue", "rq", "on", "off",
)


def _key(name: str) -> str:
    """The lookup form of a command name: `failLink`, `fail_link`, `FAIL-LINK` are one."""
    return name.lower().replace("_", "").replace("-", "")


_KNOWN = {_key(name): name for name, _, _ in COMMANDS} | {
    _key(alias): alias for alias in ("crash", "exit", "printBC", "printChain", "printKV",
                                     "printRQ", "printRequestQueue")}


def parse_line(line: str, me: int, n: int) -> Action:
    """One console line of server `me` (of servers 0..n-1) as an Action. Accepts
    `name args`, `name(args)` and `name()`, with args separated by spaces or commas."""
    text = line.strip()
    if not text:
        return Action()
    match = _NAME.match(text)
    if match is None:
        return Action(error=f"{_cut(text)}: not a command; type help for the list")
    name, rest = match.group(), text[match.end():].strip()
    if rest.startswith("("):
        if not rest.endswith(")"):
            return Action(error=f"{_cut(text)}: missing ')'; write {name}(...) or {name} ...")
        rest = rest[1:-1]
    args = [a for a in re.split(r"[\s,]+", rest) if a]
    key = _key(name)
    key = _ALIASES.get(key, key)
    parse = _PARSERS.get(key)
    if parse is not None:
        return parse(name, args, me, n)
    if key in _PRINT_NAMES:
        return _no_args(name, args) or _print(_PRINT_NAMES[key])
    return Action(error=_unknown(name))


def _cut(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _unknown(name: str) -> str:
    close = difflib.get_close_matches(_key(name), list(_KNOWN), n=1, cutoff=0.6)
    hint = f"did you mean {_KNOWN[close[0]]}? " if close else ""
    return f"unknown command {_cut(name)!r}; {hint}type help for the list"


def _no_args(name: str, args: list[str]) -> Action | None:
    return Action(error=f"{name} takes no arguments") if args else None


def _server_id(name: str, arg: str, n: int) -> int | str:
    """A server id from `2` or `s2`, or a one-line error."""
    match = _ID.fullmatch(arg)
    if match is None:
        return f"{name}: {_cut(arg)!r} is not a server id; ids are 0 to {n - 1}"
    value = int(match.group(1))
    if not 0 <= value < n:
        return f"{name}: there is no server s{value}; ids are 0 to {n - 1}"
    return value


def _link(name: str, args: list[str], me: int, n: int) -> Action:
    """failLink / fixLink: `ID` (this server and ID) or `A B` (one of them this server)."""
    fail = _key(name) == "faillink"
    usage = f"{name} ID or {name}(A, B), e.g. {name} {(me + 1) % max(n, 2)}"
    if not args and not fail:
        return Action(request={"cmd": "fault", "net": {"cmd": "heal"}},
                      done=f"every link of s{me} fixed")
    if not args or len(args) > 2:
        return Action(error=f"{name} needs one server id or two: {usage}")
    ids = []
    for arg in args:
        value = _server_id(name, arg, n)
        if isinstance(value, str):
            return Action(error=value)
        ids.append(value)
    a, b = (me, ids[0]) if len(ids) == 1 else ids
    if a == b:
        return Action(error=f"{name}: a link joins two different servers (s{a} twice)")
    if me not in (a, b):
        word = "fail-link" if fail else "fix-link"
        return Action(error=f"{name}: neither end is this server (s{me}); run it on s{a} or "
                            f"s{b}, or use `paxlab cluster {word} {a} {b}`")
    other = b if a == me else a
    if fail:
        return Action(request={"cmd": "fault", "net": {"cmd": "fail_link", "a": f"s{me}",
                                                       "b": f"s{other}"}},
                      done=f"link s{me} - s{other} failed: nothing passes either way")
    return Action(request={"cmd": "fault", "net": {"cmd": "fix_link", "a": f"s{me}",
                                                   "b": f"s{other}"}},
                  done=f"link s{me} - s{other} fixed")


def _fail_process(name: str, args: list[str], me: int, n: int) -> Action:
    """failProcess, failProcess(), or failProcess ID where ID is this server."""
    if len(args) > 1:
        return Action(error=f"{name} takes no arguments (it crashes this server, s{me})")
    if args:
        target = _server_id(name, args[0], n)
        if isinstance(target, str):
            return Action(error=target)
        if target != me:
            return Action(error=f"{name}: this is s{me}; run it on s{target}, or use "
                                f"`paxlab cluster crash {target}`")
    return Action(request={"cmd": "crash"}, done=f"s{me} crashes now (only synced state survives)")


def _print(view: str) -> Action:
    return Action(request={"cmd": "queue" if view == "queue" else "dump"}, view=view)


def _print_what(name: str, args: list[str], me: int, n: int) -> Action:
    choices = "blockchain (bc), kvstore (kv) or requestQueue (rq)"
    if len(args) != 1:
        return Action(error=f"{name} what? {choices}, e.g. {name} bc")
    view = _PRINT_VIEWS.get(_key(args[0]))
    if view is None:
        close = difflib.get_close_matches(_key(args[0]), list(_PRINT_VIEWS), n=1, cutoff=0.6)
        hint = f"; did you mean {name} {close[0]}?" if close else ""
        return Action(error=f"{name}: cannot print {_cut(args[0])!r}: {choices}{hint}")
    return _print(view)


def _switch(name: str, args: list[str], me: int, n: int) -> Action:
    on = _SWITCH.get(args[0].lower()) if len(args) == 1 else None
    if on is None:
        return Action(error=f"{name} on or {name} off")
    cmd = _key(name)
    what = ("every message in and out is logged" if cmd == "trace"
            else "2 s per hop, timeouts scaled")
    return Action(request={"cmd": cmd, "on": on},
                  done=f"{cmd} on: {what}" if on else f"{cmd} off")


def _pause(name: str, args: list[str], me: int, n: int) -> Action:
    if len(args) > 1 or (args and not args[0].isdigit()):
        return Action(error=f"{name} or {name} MS (a whole number of milliseconds)")
    ms = int(args[0]) if args else None
    until = f" for {ms} ms" if ms is not None else "; resume steps it again"
    return Action(request={"cmd": "pause", "ms": ms}, done=f"s{me} paused{until}")


def _simple(cmd: str, view: str = "ok", done: str = "") -> Callable[..., Action]:
    def parse(name: str, args: list[str], me: int, n: int) -> Action:
        return _no_args(name, args) or Action(request={"cmd": cmd}, view=view,
                                              done=done.format(me=me))
    return parse


def _help(name: str, args: list[str], me: int, n: int) -> Action:
    if args:
        wanted = _ALIASES.get(_key(args[0]), _key(args[0]))
        for command, arguments, what in COMMANDS:
            if _key(command) == wanted:
                return Action(say=f"{command} {arguments}".rstrip() + f": {what}")
        return Action(error=_unknown(args[0]))
    width = max(len(f"{c} {a}") for c, a, _ in COMMANDS)
    lines = [f"  {f'{c} {a}'.ljust(width)}  {w}" for c, a, w in COMMANDS]
    return Action(say="\n".join([
        f"console of s{me} (servers 0 to {n - 1}); names ignore case, and "
        "failLink(0, 2) works as failLink 0 2", *lines]))


def _quit(name: str, args: list[str], me: int, n: int) -> Action:
    return _no_args(name, args) or Action(quit=True)


_PARSERS: dict[str, Callable[[str, list[str], int, int], Action]] = {
    "faillink": _link,
    "fixlink": _link,
    "failprocess": _fail_process,
    "print": _print_what,
    "status": _simple("status", "status"),
    "links": _simple("status", "links"),
    "elect": _simple("elect", done="s{me} is running for leader"),
    "resume": _simple("resume", done="s{me} resumed"),
    "trace": _switch,
    "slow": _switch,
    "pause": _pause,
    "help": _help,
    "quit": _quit,
}


def console_terminal(me: int) -> Terminal:
    """The Terminal a server's console reads from: prompt `s0> `, command completion.
    Make it first and give its `print_above` to the server's log, then pass it to
    run_console, so log lines print above the prompt."""
    return Terminal(lambda: f"s{me}> ", COMPLETION_WORDS)


def run_console(me: int, n: int, submit: Submit, *, prompt: str | None = None,
                terminal: Terminal | None = None) -> None:
    """Read console lines and run them until quit/exit, Ctrl-D, end of input or
    `terminal.close()`; then return, and the caller stops the server gracefully (the
    console submits no stop itself).

    `submit(request) -> reply` runs a contract command dict in the server's node loop.
    Ctrl-C while typing clears the line; a Ctrl-C that arrives as SIGINT while a command
    runs (the tty is in its normal mode then) prints a line and the console goes on: the
    console never lets Ctrl-C end the server. A submit that raises prints one line too."""
    term = terminal or (Terminal(prompt, COMPLETION_WORDS) if prompt is not None
                        else console_terminal(me))
    while True:
        try:
            line = term.read_line()
            if line is None:
                return
            action = parse_line(line, me, n)
            if action.quit:
                return
            if action.error is not None or action.say is not None:
                term.print_above(action.error if action.error is not None else str(action.say))
            elif action.request is not None:
                _run(term, submit, action)
        except KeyboardInterrupt:
            term.print_above("^C (the console goes on; quit or Ctrl-D stops the server)")


def _run(term: Terminal, submit: Submit, action: Action) -> None:
    assert action.request is not None
    try:
        reply = submit(action.request)
    except KeyboardInterrupt:
        term.print_above(f"^C: stopped waiting; {action.request['cmd']} may still run")
        return
    except Exception as exc:  # the server's problem must not end the console
        term.print_above(f"error: {action.request['cmd']} failed: {exc}")
        return
    term.print_above(format_reply(action.view, reply, action.done))
