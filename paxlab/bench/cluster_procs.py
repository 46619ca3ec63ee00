"""The bench's child processes: started in their own session, ended by pid, always.

Servers, load processes and PySyncObj nodes run in sessions of their own, so a Ctrl-C in
the terminal reaches only the bench, which then ends each child it started, by its pid
(SIGTERM, a short grace, then SIGKILL) on the way out, also after a failure. Load
processes and PySyncObj nodes speak JSON lines: a command on stdin, a reply on stdout;
they also exit when stdin closes, so even a bench killed with SIGKILL leaves them none.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType

__all__ = ["Child", "ChildError", "Children", "CpuMeter", "python_argv", "terminate_on_sigterm"]


class ChildError(RuntimeError):
    """A child died, said something that is not a reply, or missed a deadline."""


def python_argv(module: str, *args: str) -> list[str]:
    """`python -m module args...` with this interpreter."""
    return [sys.executable, "-m", module, *args]


class Child:
    """One started process; `request` talks to it when it speaks JSON lines."""

    def __init__(self, name: str, popen: subprocess.Popen[bytes], log_path: Path) -> None:
        self.name = name
        self.popen = popen
        self.log_path = log_path
        self._buffer = b""

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def send(self, command: dict) -> None:
        stdin = self.popen.stdin
        if stdin is None:
            raise ChildError(f"{self.name} takes no commands")
        try:
            stdin.write(json.dumps(command).encode() + b"\n")
            stdin.flush()
        except (BrokenPipeError, ValueError) as error:
            raise ChildError(f"{self.name} is gone ({error}); see {self.log_path}") from None

    def read(self, timeout_s: float) -> dict:
        """The next JSON line from the child, within `timeout_s`."""
        stdout = self.popen.stdout
        if stdout is None:
            raise ChildError(f"{self.name} has no reply pipe")
        deadline = time.monotonic() + timeout_s
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ChildError(f"{self.name}: no reply within {timeout_s:g} s; "
                                     f"see {self.log_path}")
                if not selector.select(left):
                    continue
                chunk = os.read(stdout.fileno(), 1 << 20)
                if not chunk:
                    raise ChildError(f"{self.name} exited (code {self.popen.wait()}); "
                                     f"see {self.log_path}")
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            reply = json.loads(line)
        except json.JSONDecodeError:
            raise ChildError(f"{self.name} said {line[:200]!r}") from None
        if not isinstance(reply, dict) or reply.get("error"):
            raise ChildError(f"{self.name}: {reply}")
        return reply

    def request(self, command: dict, timeout_s: float = 10.0) -> dict:
        self.send(command)
        return self.read(timeout_s)

    def kill(self) -> None:
        """SIGKILL this process (by its pid) and reap it."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        self.popen.wait()

    def end(self, grace_s: float = 1.0) -> None:
        """Close its stdin, SIGTERM, wait `grace_s`, then SIGKILL."""
        for stream in (self.popen.stdin, self.popen.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(grace_s)
        self.kill()


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process, all its threads (from /proc/PID/stat)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU used by each child between `start` and `stop`, as a share of one core: it says
    which process was the bottleneck (a server at 100% is saturated; the load process at
    100% means the numbers measure the load, not the cluster)."""

    def __init__(self, children: Sequence[Child]) -> None:
        self.children = list(children)
        self._start: dict[str, tuple[float, float | None]] = {}
        self.shares: dict[str, float] = {}

    def start(self) -> None:
        now = time.monotonic()
        self._start = {c.name: (now, _cpu_seconds(c.pid)) for c in self.children}

    def stop(self) -> dict[str, float]:
        now = time.monotonic()
        for child in self.children:
            began, cpu = self._start.get(child.name, (now, None))
            end_cpu = _cpu_seconds(child.pid)
            if cpu is not None and end_cpu is not None and now > began:
                self.shares[child.name] = (end_cpu - cpu) / (now - began)
        return self.shares

    def total_seconds(self, seconds: float) -> float:
        """CPU seconds of all the children over a window of `seconds`."""
        return sum(self.shares.values()) * seconds

    def text(self) -> str:
        return ", ".join(f"{name} {100 * share:.0f}%" for name, share in self.shares.items())


class Children:
    """Every process the bench starts; leaving the `with` ends them all, one by one."""

    def __init__(self) -> None:
        self._children: list[Child] = []

    def __enter__(self) -> Children:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.end_all()

    def __iter__(self) -> Iterator[Child]:
        return iter(list(self._children))

    def start(self, name: str, argv: Sequence[str], log_path: Path, *,
              talks: bool = False, env: dict[str, str] | None = None) -> Child:
        """Start `argv` with stdout (unless `talks`) and stderr into `log_path`."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            popen = subprocess.Popen(
                list(argv),
                stdin=subprocess.PIPE if talks else subprocess.DEVNULL,
                stdout=subprocess.PIPE if talks else log,
                stderr=log,
                start_new_session=True,
                env={**os.environ, **(env or {})},
            )
        child = Child(name, popen, log_path)
        self._children.append(child)
        return child

    def end_all(self) -> None:
        """End every child still running, SIGTERM first so profiles and logs get written."""
        children, self._children = self._children, []
        for child in children:
            if child.alive():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 2.0
        for child in children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.popen.wait(max(0.0, deadline - time.monotonic()))
            child.end(grace_s=0)


@contextlib.contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    """Inside: SIGTERM to the bench raises SystemExit, so `Children` still ends its
    children (as Ctrl-C's KeyboardInterrupt does)."""

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: leave SIGTERM alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
