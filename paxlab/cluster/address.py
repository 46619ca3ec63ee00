"""TCP addresses in the cluster file: `host:port` parsing, and which hosts are loopback or
wildcard, the two facts the cluster file's rules and `paxlab cluster up` turn on."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

__all__ = ["ADDRESS_HINT", "Endpoint", "is_loopback_host", "is_wildcard_host", "parse_endpoint"]

ADDRESS_HINT = "'host:port' in a string, e.g. '10.0.0.2:7000' (port 1 to 65535)"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A TCP address: `host:port` (`[::1]:7000` for an IPv6 host)."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


_HOST_RE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                      r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 and `localhost`: an address only this machine can dial."""
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_wildcard_host(host: str) -> bool:
    """0.0.0.0 and ::: fine to bind (listen), meaningless to dial (advertise)."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def parse_endpoint(text: object) -> Endpoint:
    """`host:port` or `[v6]:port` -> Endpoint; ValueError says what is allowed."""
    if not isinstance(text, str):
        raise ValueError("expected " + ADDRESS_HINT)
    host, sep, port_text = text.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        try:
            if not isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address):
                raise ValueError
        except ValueError:
            raise ValueError("expected an IPv6 address inside [...], e.g. '[::1]:7000'") from None
    elif ":" in host or not sep or not host:
        raise ValueError("expected " + ADDRESS_HINT + "; an IPv6 host goes in [...]")
    elif not _HOST_RE.fullmatch(host):
        raise ValueError("expected a host name or IP address before ':', e.g. '10.0.0.2:7000'")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError("expected a port from 1 to 65535 after ':'")
    return Endpoint(host, int(port_text))
