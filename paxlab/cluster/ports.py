"""Listening sockets and busy ports: bind a server's address, and name who holds a port.

`paxlab cluster up` checks every local port before starting anything, and a server that
cannot bind says which process has its port ("pid 1234 (python3)"), read from
/proc/net/tcp* and /proc/*/fd on Linux; elsewhere the holder is just unknown.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import socket
from pathlib import Path

from paxlab.cluster.clusterfile import Endpoint

__all__ = ["PortInUseError", "bind_listener", "free_port", "is_loopback", "port_holder"]

_LISTEN = "0A"  # TCP state LISTEN in /proc/net/tcp


class PortInUseError(OSError):
    """The port is taken; the message names the holder when /proc tells."""


def is_loopback(host: str) -> bool:
    """True for "localhost" and any 127.0.0.0/8 or ::1 address; False for names and others
    (a host name may resolve anywhere, so it never counts as loopback)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_listener(endpoint: Endpoint, backlog: int = 128) -> socket.socket:
    """A listening, non-blocking TCP socket on `endpoint`. PortInUseError names the holder."""
    family = socket.AF_INET6 if ":" in endpoint.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT after restart
        sock.bind((endpoint.host.strip("[]"), endpoint.port))
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            holder = port_holder(endpoint.port)
            who = f" by {holder}" if holder else ""
            message = f"cannot listen on {endpoint}: port {endpoint.port} is in use{who}"
            raise PortInUseError(errno.EADDRINUSE, message) from error
        raise OSError(error.errno, f"cannot listen on {endpoint}: {error.strerror}") from error
    return sock


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (for tests; another process may take it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) < 10:
                    continue
                local, state, inode = fields[1], fields[3], fields[9]
                if state == _LISTEN and int(local.rsplit(":", 1)[1], 16) == port:
                    inodes.add(inode)
    return inodes


def port_holder(port: int) -> str | None:
    """Who listens on `port`: "pid 1234 (python3)", "another user's process" when the
    socket exists but its owner's fds are not ours to read, or None when nobody listens
    (or this is not Linux)."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fds = list((proc / "fd").iterdir())
        except OSError:  # gone, or not ours to read
            continue
        for fd in fds:
            # One fd closed between the listing and here (a busy server opens and closes
            # connections all the time) must not hide the rest of that process's fds.
            with contextlib.suppress(OSError):
                if os.readlink(fd) in wanted:
                    name = (proc / "comm").read_text().strip()
                    return f"pid {proc.name} ({name})"
    return "another user's process"
