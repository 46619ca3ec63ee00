"""`paxlab cluster ...`, `paxlab server ID` and `paxlab client ID`: the TCP cluster by hand.

Every command takes `--cluster FILE` (default ./cluster.yaml) and every `cluster`
command `--json` (what it printed, as one JSON object). Exit codes as everywhere: 0 ok,
1 a check failed / no leader / a fault not applied, 2 bad input (a bad cluster file,
target or argument, a busy port), 130 Ctrl-C. The work is in paxlab.cluster; this module
only parses and prints.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from paxlab.cli.exit_codes import ExitCode, bad_input
from paxlab.cli.pages import page_line
from paxlab.config import ConfigError

if TYPE_CHECKING:
    from paxlab.cluster.control import Report

__all__ = ["HANDLERS", "add_parsers"]

_DEFAULT_FILE = Path("cluster.yaml")
_TARGET_HELP = ("a server id, ids like 0,2, or leader, random, minority, majority, all "
                "(as in the lab's faults)")


def _common(parser: argparse.ArgumentParser, json_flag: bool = True) -> None:
    parser.add_argument("--cluster", type=Path, default=_DEFAULT_FILE, metavar="FILE",
                        help="the cluster file (default: ./cluster.yaml)")
    if json_flag:
        parser.add_argument("--json", action="store_true",
                            help="print the outcome as one JSON object")


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """`cluster` with its subcommands, then `server` and `client`."""
    group = commands.add_parser("cluster", help="start, stop, inspect, break and check a TCP "
                                "cluster (see docs/cluster.md)")
    sub = group.add_subparsers(dest="cluster_command", required=True, metavar="COMMAND")
    init = sub.add_parser("init", help="write DIR/cluster.yaml and DIR/secret (mode 0600)")
    init.add_argument("dir", type=Path, help="folder for the two files (created)")
    init.add_argument("--servers", type=int, required=True, help="number of servers (1-15)")
    init.add_argument("--host", default="127.0.0.1",
                      help="the servers' address (default: 127.0.0.1)")
    init.add_argument("--base-port", type=int, help="ports P, P+1, ... (default: free ones)")
    init.add_argument("--json", action="store_true", help="print the outcome as JSON")
    up = sub.add_parser("up", help="start the local servers detached, wait for a leader")
    up.add_argument("--timeout", type=float, default=10.0, help="seconds to wait (10)")
    _common(up)
    _common(sub.add_parser("down", help="stop every server (admin stop, SIGTERM, SIGKILL)"))
    _common(sub.add_parser("status", help="one table for the whole cluster and a verdict"))
    check = sub.add_parser("check", help="pull chains, KV stores and histories into a "
                           "results folder and run every check")
    check.add_argument("--results", type=Path, help="results root (default: DATA_DIR/results)")
    _common(check)
    for name, text in (("crash", "SIGKILL servers: only synced state survives"),
                       ("restart", "start crashed local servers again"),
                       ("pause", "stop servers stepping; messages wait"),
                       ("resume", "resume paused servers")):
        parser = sub.add_parser(name, help=text)
        parser.add_argument("target", help=_TARGET_HELP)
        if name == "pause":
            parser.add_argument("--ms", type=int, help="resume by itself after this long")
        _common(parser)
    for name, text in (("fail-link", "cut the link between servers A and B"),
                       ("fix-link", "restore the link between A and B")):
        parser = sub.add_parser(name, help=text)
        parser.add_argument("a", help="server id")
        parser.add_argument("b", help="server id")
        if name == "fail-link":
            parser.add_argument("--one-way", action="store_true",
                                help="lose only what A sends to B")
        _common(parser)
    partition = sub.add_parser("partition", help="split the servers into groups, e.g. 0,1/2")
    partition.add_argument("groups", help="groups split by '/', ids by ','")
    _common(partition)
    isolate = sub.add_parser("isolate", help="cut one server off from all the others")
    isolate.add_argument("target", help="a server id, leader or random")
    _common(isolate)
    _common(sub.add_parser("heal", help="remove every cut link, partition and isolation"))
    _common(sub.add_parser("power-cut", help="SIGKILL every local server at once: with "
                           "cluster.storage process_buffer each loses what it did not sync"))

    server = commands.add_parser("server", help="run one cluster server (a console when "
                                 "stdin is a terminal)")
    server.add_argument("id", type=int, help="the server's id in the cluster file")
    _common(server, json_flag=False)
    console = server.add_mutually_exclusive_group()
    console.add_argument("--console", dest="console", action="store_true", default=None,
                         help="read commands from stdin even if it is not a terminal")
    console.add_argument("--no-console", dest="console", action="store_false",
                         help="no console even on a terminal")
    from paxlab.cluster.client import add_arguments  # the client owns its options

    add_arguments(commands.add_parser(
        "client", help="the client prompt: put KEY VALUE, get KEY (or -c CMD, -f FILE)"))


def _print(report: Report, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.data, indent=2, default=str))
    else:
        for line in report.lines:
            print(line)


def _cluster(args: argparse.Namespace) -> ExitCode:
    from paxlab.cluster import clusterinit, collect, control, control_faults, control_status
    from paxlab.cluster.clusterfile import load_cluster_file

    try:
        if args.cluster_command == "init":
            cf = clusterinit.init_cluster(args.dir, args.servers, args.host, args.base_port)
            report = control.Report(data={"file": str(cf.path), "secret": str(cf.secret_path),
                                          "servers": {f"s{s}": str(e.address)
                                                      for s, e in cf.servers.items()}})
            report.say(f"wrote {cf.path} ({len(cf.servers)} servers on "
                       f"{cf.servers[0].address.host}) and {cf.secret_path} (mode 0600)")
            report.say(f"start them: paxlab cluster up --cluster {cf.path}")
            report.say(f"or one per terminal: paxlab server 0 --cluster {cf.path}")
            _print(report, args.json)
            return ExitCode.OK
        ctl = control.Control(load_cluster_file(args.cluster))
        command = args.cluster_command
        if command == "up":
            report = control.up(ctl, args.timeout)
        elif command == "down":
            report = control.down(ctl)
        elif command == "status":
            report = control_status.cluster_status(ctl)
        elif command == "check":
            report = collect.collect(ctl, args.results)
            if report.data.get("run_dir"):
                report.say(page_line(Path(report.data["run_dir"])))
                report.data["report"] = str(Path(report.data["run_dir"]) / "report.html")
        elif command in ("crash", "restart", "pause", "resume"):
            report = control_faults.process_fault(ctl, command, args.target,
                                                  pause_ms=getattr(args, "ms", None))
        elif command in ("fail-link", "fix-link"):
            report = control_faults.link_fault(ctl, command, args.a, args.b,
                                               getattr(args, "one_way", False))
        elif command == "partition":
            report = control_faults.partition(ctl, args.groups)
        elif command == "isolate":
            report = control_faults.isolate(ctl, args.target)
        elif command == "power-cut":
            report = control_faults.power_cut(ctl)
        else:
            report = control_faults.heal(ctl)
    except (ConfigError, control.ControlError) as error:
        return bad_input(error)
    _print(report, args.json)
    if report.data.get("key_refused"):
        return bad_input(f"every server refused the admin key: the secret "
                         f"{ctl.cluster.secret_path} is not the one the servers use")
    return ExitCode.OK if report.ok else ExitCode.CHECK_FAILED


def _server(args: argparse.Namespace) -> int:
    from paxlab.cluster.server import server_main

    return server_main(args.cluster, args.id, console=args.console)


def _client(args: argparse.Namespace) -> int:
    from paxlab.cluster.client import run_client

    return run_client(args.id, args.cluster, command=args.command, script=args.script,
                      json_lines=args.json_lines)


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "cluster": _cluster, "server": _server, "client": _client,
}
"""Command name -> handler, for `cli.main`'s dispatch."""
