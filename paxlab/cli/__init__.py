"""The `paxlab` command line: one module per command group, assembled in `main`."""

from paxlab.cli.main import ExitCode, main

__all__ = ["ExitCode", "main"]
