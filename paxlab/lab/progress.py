"""The live progress line: ops done of planned, who leads, which faults are in force."""

from __future__ import annotations

from typing import TextIO

__all__ = ["Progress"]

LINE_INTERVAL_MS = 1000  # when output is not a terminal, print a line this often
REDRAW_INTERVAL_MS = 100  # on a terminal, redraw at most this often


class Progress:
    """Redraws one line on a terminal; prints a line a second into a file or pipe."""

    def __init__(self, out: TextIO, live: bool, planned: int | None) -> None:
        self.out = out
        self.live = live
        self.planned = planned
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self.last_line_ms = -LINE_INTERVAL_MS

    def _line(self, now_ms: int, done: int, leader: str | None, faults: list[str]) -> str:
        planned = f"/{self.planned}" if self.planned is not None else ""
        fault_text = ", ".join(faults) if faults else "none"
        return (f"{now_ms / 1000:6.1f}s  ops {done}{planned}  leader {leader or '?'}  "
                f"faults: {fault_text}")

    def update(self, now_ms: int, done: int, leader: str | None, faults: list[str]) -> None:
        if not self.live:
            return
        interval = REDRAW_INTERVAL_MS if self.tty else LINE_INTERVAL_MS
        if now_ms - self.last_line_ms < interval:
            return
        self.last_line_ms = now_ms
        line = self._line(now_ms, done, leader, faults)
        if self.tty:
            self.out.write("\r\x1b[K" + line)
            self.out.flush()
        else:
            self.out.write(line + "\n")

    def finish(self, now_ms: int, done: int, leader: str | None) -> None:
        if not self.live:
            return
        if self.tty:
            self.out.write("\n")
        self.out.write(f"workload done: {done} ops in {now_ms / 1000:.1f}s; "
                       f"leader {leader or '?'}; quiescing\n")
        self.out.flush()
