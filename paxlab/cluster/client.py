"""`paxlab client ID`: a person's prompt (or a script's) onto the cluster, one op at a time.

The original project's client read `put`/`get` lines and `eval`ed them; this one reads
Python literals with `ast.literal_eval` only (client_parse), finds the leader by hints and
redirects (the core's ClientSession), keeps exactly once across restarts (client_files)
and prints each outcome plainly: `OK` applied, `FAIL` certainly not applied, `INFO`
unknown. Every op also lands in the client's history.jsonl, which `paxlab cluster check`
judges. With `-c`, `-f` or a pipe it runs a script and exits 1 if any op ended fail or
info; a script given by `-c` or `-f` is checked whole before anything is sent.
"""

from __future__ import annotations

import argparse
import enum
import json
import random
import signal
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from paxlab.cluster.client_files import ClientFiles, ClientFilesError
from paxlab.cluster.client_node import (
    ClientClock,
    ClientLoop,
    ClientNode,
    ClientTransport,
    OpInterrupted,
    OpResult,
)
from paxlab.cluster.client_parse import (
    COMMANDS,
    HELP_TEXT,
    Command,
    CommandError,
    parse_command,
    split_commands,
)
from paxlab.cluster.clusterfile import (
    CLIENT_ID_LIMIT,
    ClusterFile,
    ClusterFileError,
    load_cluster_file,
)
from paxlab.cluster.terminal import Terminal
from paxlab.core import ClientSession
from paxlab.core.ids import node_parts

__all__ = ["ExitCode", "add_arguments", "client_main", "format_result", "format_status",
           "run_client"]


class ExitCode(enum.IntEnum):
    """paxlab.cli.exit_codes' values (cluster/ may not import cli/, which imports it)."""

    OK = 0
    CHECK_FAILED = 1  # here: an op ended fail or info
    BAD_INPUT = 2
    INTERRUPTED = 130


# (node id, cluster, log, clock) -> transport; the clock is the one the loop's deadlines use.
TransportFactory = Callable[[str, ClusterFile, Callable[[str], None], ClientClock],
                            ClientTransport]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `paxlab client` (CONTROL's cli adds these to its subparser)."""
    parser.add_argument("id", type=int, help=f"this client's id, 0 to {CLIENT_ID_LIMIT - 1}")
    parser.add_argument("--cluster", type=Path, default=Path("cluster.yaml"),
                        help="the cluster file (default: ./cluster.yaml)")
    script = parser.add_mutually_exclusive_group()
    script.add_argument("-c", dest="command", metavar="CMD",
                        help="run these commands (separated by ';') and exit")
    script.add_argument("-f", dest="script", type=Path, metavar="FILE",
                        help="run the commands in FILE, one a line, and exit")
    parser.add_argument("--json", dest="json_lines", action="store_true",
                        help="print each op's history lines (JSON) instead of OK/FAIL/INFO")


def client_main(argv: Sequence[str] | None = None) -> int:
    """`python -m paxlab.cluster.client ID [--cluster FILE] [-c CMD | -f FILE] [--json]`."""
    parser = argparse.ArgumentParser(prog="paxlab client", description=__doc__.split("\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run_client(args.id, args.cluster, command=args.command, script=args.script,
                      json_lines=args.json_lines)


def run_client(client_id: int, cluster_path: Path, *, command: str | None = None,
               script: Path | None = None, json_lines: bool = False,
               stdin: TextIO | None = None, stdout: TextIO | None = None,
               stderr: TextIO | None = None,
               transport_factory: TransportFactory | None = None) -> int:
    """Run one client; return its exit code (ExitCode: 0 ok, 1 an op ended fail or info,
    2 bad input, 130 Ctrl-C during a script). `transport_factory` is for tests."""
    stdin = stdin if stdin is not None else sys.stdin
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr

    def bad(message: object) -> int:
        print(f"paxlab client: {message}", file=err, flush=True)
        return int(ExitCode.BAD_INPUT)

    if not 0 <= client_id < CLIENT_ID_LIMIT:
        return bad(f"client id {client_id} is out of range: expected 0 to {CLIENT_ID_LIMIT - 1}")
    planned: list[tuple[str, Command]] | None = None
    try:
        cluster = load_cluster_file(cluster_path)
        if command is not None:
            planned = _plan(command.splitlines() or [""], "-c")
        elif script is not None:
            planned = _plan(_read_script(script), str(script))
    except (ClusterFileError, CommandError) as error:
        return bad(error)
    try:
        files = ClientFiles.open(cluster.client_dir(client_id), client_id, time.time_ns())
    except (ClientFilesError, OSError) as error:
        return bad(error)
    try:
        with open(files.log_path, "a", buffering=1, encoding="utf-8") as log_file:
            def log(line: str) -> None:
                log_file.write(f"{time.strftime('%H:%M:%S')} {line}\n")

            loop = _start(client_id, cluster, files, log, transport_factory)
            try:
                repl = _Repl(loop, cluster, files, out, err, json_lines)
                if planned is not None:
                    return repl.run_planned(planned)
                if stdin.isatty() and out.isatty():
                    return repl.interactive(stdin)
                return repl.run_stream(stdin)
            finally:
                loop.close()
    finally:
        files.close()


def _read_script(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"{path}: cannot read the script ({error})") from None


def _plan(lines: Iterable[str], where: str) -> list[tuple[str, Command]]:
    """Every command of a script, checked before any is sent: all errors in one message."""
    planned: list[tuple[str, Command]] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        try:
            for text in split_commands(line):
                parsed = parse_command(text)
                if parsed is not None:
                    planned.append((text, parsed))
        except CommandError as error:
            problems.append(f"{where}: line {number}: {error}")
    if problems:
        raise CommandError("\n".join(problems) + "\nnothing was sent")
    return planned


def _start(client_id: int, cluster: ClusterFile, files: ClientFiles, log: Callable[[str], None],
           factory: TransportFactory | None) -> ClientLoop:
    me = f"c{client_id}"
    if factory is None:
        factory = _tcp_transport
    clock = ClientClock(floor_ns=files.last_time_ns)
    # Seeded by the OS: a hand-played client has no run seed to repeat.
    session = ClientSession(client_id, cluster.client_params(), random.Random(),
                            last_seq=files.last_seq)
    # The transport's and the loop's threads start with SIGINT blocked (threads inherit
    # the mask), so Ctrl-C always lands on the main thread. Landing on another, it only
    # set Python's flag, and the main thread slept on in readline until the next key.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        transport = factory(me, cluster, log, clock)
        loop = ClientLoop(ClientNode(session, transport, clock, files, log=log), transport)
        loop.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    log(f"{me} started: {len(cluster.servers)} servers, last seq {files.last_seq}")
    return loop


def _tcp_transport(me: str, cluster: ClusterFile, log: Callable[[str], None],
                   clock: ClientClock) -> ClientTransport:
    from paxlab.cluster.msgrecord import MessageRecorder
    from paxlab.cluster.transport import TcpTransport
    from paxlab.cluster.wire import derive_keys
    # A client notes its requests and replies beside its history, every line flushed:
    # a person's client may sit at the prompt for hours, and it sends little.
    recorder = (MessageRecorder.open(cluster.client_dir(node_parts(me)[1]), me, flush_ns=0)
                if cluster.record_messages else None)
    return TcpTransport(me, cluster, derive_keys(cluster.secret), log, clock=clock,
                        recorder=recorder)


def format_result(result: OpResult, op_timeout_ms: int) -> str:
    """One answer line: `OK   put ('alice', 1)   seq 1  2.1 ms  via s0`."""
    c = result.command
    ms = f"{result.latency_ms:.1f} ms"
    if result.outcome == "ok" and c.name == "put":
        return f"OK   put {c.key}   seq {result.seq}  {ms}  via {result.via}"
    if result.outcome == "ok":
        shown = "not found" if result.value is None else result.value
        return f"OK   get {c.key} -> {shown}   {ms}  via {result.via}"
    if result.outcome == "fail":
        why = result.error or "refused"
        return (f"FAIL {c.describe()}   seq {result.seq}  not applied ({why})  {ms}"
                f"  via {result.via}")
    error = result.error or ""
    why = f"timed out after {op_timeout_ms} ms" if error.startswith("no answer") else error
    effect = "it may or may not have been applied" if c.name == "put" else "nothing was read"
    return f"INFO {c.describe()}   seq {result.seq}  outcome unknown ({why}; {effect})"


def format_status(status: dict[str, Any], cluster: ClusterFile) -> str:
    """`status`: who this client believes leads, its last seq, its link to each server
    (a client dials a server the first time it sends to it: "not dialed" before)."""
    leader = status["leader"] or "unknown (no answer yet)"
    lines = [f"{status['client']}: leader {leader}; last seq {status['last_seq']}; "
             f"cluster {cluster.name} ({len(cluster.servers)} servers)"]
    links = status.get("links") or {}
    peers = links.get("peers", {}) if isinstance(links, dict) else {}
    shown = []
    for server_id in sorted(cluster.servers):
        info = peers.get(f"s{server_id}")
        if not isinstance(info, dict):
            shown.append(f"s{server_id} not dialed")
            continue
        state = "up" if info.get("up") else "down"
        if info.get("reconnects"):
            state += f" ({info['reconnects']} reconnects)"
        shown.append(f"s{server_id} {state}")
    lines.append("links: " + ", ".join(shown))
    return "\n".join(lines)


class _Repl:
    """Runs commands and prints their answers; one per client run."""

    def __init__(self, loop: ClientLoop, cluster: ClusterFile, files: ClientFiles,
                 out: TextIO, err: TextIO, json_lines: bool) -> None:
        self.loop = loop
        self.cluster = cluster
        self.files = files
        self.out = out
        self.err = err
        self.json_lines = json_lines
        self.unsure = 0  # ops that ended fail or info
        self.key_refused = False  # the servers hold another secret: bad input, exit 2

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def run_one(self, parsed: Command) -> bool:
        """Run a command; False when it was `quit`. Ctrl-C during an op raises
        OpInterrupted, whose result the caller shows (`_show`)."""
        if parsed.name == "quit":
            return False
        if parsed.name == "help":
            self.say(HELP_TEXT)
        elif parsed.name == "status":
            status = self.loop.status()
            self.say(json.dumps(status) if self.json_lines else
                     format_status(status, self.cluster))
        else:
            self._show(self.loop.run(parsed))
        return True

    def _show(self, result: OpResult, after_ctrl_c: bool = False) -> None:
        if after_ctrl_c and not self.json_lines:
            self.say("")  # the terminal echoed ^C: the answer gets its own line
        if result.outcome != "ok":
            self.unsure += 1
        if result.outcome == "info" and not self.key_refused and self._secret_differs():
            self.key_refused = True
            print(f"paxlab client: every server refused this client's key: the secret "
                  f"{self.cluster.secret_path} is not the one the servers use (copy theirs "
                  f"here, mode 0600)", file=self.err, flush=True)
        if self.json_lines:
            for event in result.events:
                self.say(json.dumps(event, separators=(",", ":")))
        else:
            self.say(format_result(result, self.cluster.clients.op_timeout_ms))

    def _secret_differs(self) -> bool:
        """Every server this client dialed failed to prove our key: a wrong secret, which
        the servers, by design, never say (they close without telling why)."""
        peers = self.loop.status().get("links", {}).get("peers", {})
        servers = [p for name, p in peers.items() if name.startswith("s")]
        return bool(servers) and all(p.get("key_refused") for p in servers)

    def _code(self, bad_lines: int = 0) -> int:
        if bad_lines or self.key_refused:
            return int(ExitCode.BAD_INPUT)
        return int(ExitCode.CHECK_FAILED if self.unsure else ExitCode.OK)

    def run_planned(self, planned: list[tuple[str, Command]]) -> int:
        try:
            for _, parsed in planned:
                if not self.run_one(parsed):
                    break
        except KeyboardInterrupt as stop:
            return self._interrupted(stop)
        return self._code()

    def _interrupted(self, stop: KeyboardInterrupt) -> int:
        """Ctrl-C during a script: show the abandoned op's INFO line, exit 130."""
        if isinstance(stop, OpInterrupted):
            self._show(stop.result, after_ctrl_c=True)
        return int(ExitCode.INTERRUPTED)

    def run_stream(self, stream: TextIO) -> int:
        """A pipe: run each line as it comes; a bad line is reported and skipped (exit 2)."""
        bad = 0
        try:
            for number, line in enumerate(stream, start=1):
                try:
                    commands = [parse_command(t) for t in split_commands(line)]
                except CommandError as error:
                    print(f"paxlab client: line {number}: {error}", file=self.err, flush=True)
                    bad += 1
                    continue
                for parsed in commands:
                    if parsed is not None and not self.run_one(parsed):
                        return self._code(bad)
        except KeyboardInterrupt as stop:
            return self._interrupted(stop)
        return self._code(bad)

    def prompt(self) -> str:
        return f"{self.loop.node.session.node} -> {self.loop.node.leader_guess() or '?'}> "

    def interactive(self, stdin: TextIO) -> int:
        """The prompt (CONSOLE's Terminal: line editing, history kept in the client's
        folder, Tab completes commands and the keys this client used). Ctrl-C clears the
        line, or during an op abandons it (INFO); Ctrl-D or `quit` leaves. A bad command
        prints one line and the prompt returns."""
        term = Terminal(self.prompt, lambda: [*COMMANDS, *self.files.keys],
                        history_path=self.files.lines_path, stdin_fd=stdin.fileno(),
                        stdout=self.out)
        self.say(f"paxlab client {self.loop.node.session.node}: cluster {self.cluster.name}, "
                 f"{len(self.cluster.servers)} servers, last seq {self.files.last_seq}. "
                 "Type help for commands; Ctrl-D leaves.")
        try:
            while True:
                try:
                    line = term.read_line()  # Ctrl-C here only clears the line
                    if line is None or not self._run_line(line):
                        return int(ExitCode.OK)
                except KeyboardInterrupt as stop:
                    # During an op: it was abandoned (INFO). Between reads: nothing ran.
                    if isinstance(stop, OpInterrupted):
                        self._show(stop.result, after_ctrl_c=True)
                    else:
                        self.say("")
        finally:
            term.close()

    def _run_line(self, line: str) -> bool:
        """One line at the prompt; False after `quit`. A bad command: one line."""
        try:
            commands = [parse_command(t) for t in split_commands(line)]
        except CommandError as error:
            self.say(f"error: {error}")
            return True
        return all(parsed is None or self.run_one(parsed) for parsed in commands)


if __name__ == "__main__":
    sys.exit(client_main())
