"""The `paxlab` command: assembles the command groups' parsers and dispatches to them.

Each group lives in its own module (`cli.lab`: run, check, report; `cli.sim`: sim and
its shrink; `cli.bench`: bench, bench-check, bench-sim, bench-report; `cli.cluster`:
cluster, server, client) and the exit codes in `cli.exit_codes`, so no group imports this
module and a new driver adds one module.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from paxlab import results
from paxlab.cli import bench, cluster, lab, sim
from paxlab.cli.exit_codes import ExitCode

__all__ = ["ExitCode", "main"]

_HANDLERS = {**lab.HANDLERS, **bench.HANDLERS, **sim.HANDLERS, **cluster.HANDLERS}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paxlab",
        description="A Multi-Paxos blockchain key-value store you can run, break and verify.",
    )
    commands = parser.add_subparsers(dest="paxlab_command", required=True)
    lab.add_run_parser(commands)  # the order `paxlab --help` lists the commands in
    bench.add_parsers(commands)
    sim.add_parser(commands)
    lab.add_folder_parsers(commands)
    cluster.add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code (ResultsError and Ctrl-C handled here)."""
    args = _parser().parse_args(argv)
    try:
        return int(_HANDLERS[args.paxlab_command](args))
    except results.ResultsError as error:
        print(f"paxlab: {error}", file=sys.stderr)
        return int(ExitCode.BAD_INPUT)
    except KeyboardInterrupt:
        print("\npaxlab: interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)


if __name__ == "__main__":
    sys.exit(main())
