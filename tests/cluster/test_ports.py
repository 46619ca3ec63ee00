"""ports.port_holder names the process that listens on a port, even while that process
opens and closes other fds (a busy server does: connections come and go)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from paxlab.cluster import ports
from paxlab.cluster.address import Endpoint


def test_an_fd_closed_during_the_scan_does_not_hide_the_holder(
        monkeypatch: pytest.MonkeyPatch) -> None:
    listener = ports.bind_listener(Endpoint("127.0.0.1", 0))
    port = listener.getsockname()[1]
    real_readlink = os.readlink
    own = f"/proc/{os.getpid()}/fd/"
    vanished: list[str] = []

    def readlink(path: str | Path) -> str:
        # The first of our fds looked at is closed by another thread just before.
        if str(path).startswith(own) and not vanished:
            vanished.append(str(path))
            raise FileNotFoundError(2, "No such file or directory", str(path))
        return real_readlink(path)

    monkeypatch.setattr(ports.os, "readlink", readlink)
    try:
        holder = ports.port_holder(port)
    finally:
        listener.close()
    assert vanished, "the scan never reached this process"
    assert holder is not None and holder.startswith(f"pid {os.getpid()} ("), holder
    assert ports.port_holder(port) is None
