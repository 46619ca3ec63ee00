"""Identifiers: replica and client numbers, node addresses, and the ordered Ballot."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal, NewType

from paxlab.core._fast_init import fast_init
from paxlab.core.errors import RemoteError

__all__ = [
    "Ballot",
    "ClientId",
    "NodeId",
    "ReplicaId",
    "Slot",
    "client_node",
    "node_kind",
    "node_number",
    "node_parts",
    "server_node",
]

ReplicaId = NewType("ReplicaId", int)
ClientId = NewType("ClientId", int)
Slot = NewType("Slot", int)
# A node address on the wire: "s<replica>" for servers, "c<client>" for clients. One flat
# namespace lets a router or simulator deliver any envelope without knowing its role.
NodeId = NewType("NodeId", str)


def server_node(replica: int) -> NodeId:
    """Address of server `replica`."""
    return NodeId(f"s{replica}")


def client_node(client: int) -> NodeId:
    """Address of client `client`."""
    return NodeId(f"c{client}")


_NONZERO_DIGITS = tuple("123456789")


def _parse_node(node: str) -> tuple[Literal["server", "client"], int]:
    """(kind, number) of an address; RemoteError if it is neither a server nor a client."""
    digits = node[1:]
    # ASCII, canonical and short only: "s²" passes isdigit() but not int(), "s01" would
    # name replica 1 under an address that is not server_node(1), and int() refuses
    # strings of over 4300 digits.
    canonical = digits == "0" or digits[:1] in _NONZERO_DIGITS
    if digits.isascii() and digits.isdigit() and canonical and len(digits) <= 18:
        if node[0] == "s":
            return "server", int(digits)
        if node[0] == "c":
            return "client", int(digits)
    raise RemoteError(f"not a node address: {node!r} (expected s<N> or c<N>)")


# Every message a replica steps parses its sender's address, and a run has a handful of
# them: remembering the answers takes that off the hot path. Bounded, so a peer sending
# made-up addresses cannot grow it; errors are never remembered.
_parse_node_cached = functools.lru_cache(maxsize=1024)(_parse_node)


def node_parts(node: str) -> tuple[Literal["server", "client"], int]:
    """(kind, number) of an address in one parse; RemoteError if it is neither.
    The replica's hot path wants both, so it asks once."""
    # Only exact strs go through the cache: anything else (unhashable, or a str subclass
    # with its own equality) gets the plain check and fails or passes exactly as it did.
    return _parse_node_cached(node) if type(node) is str else _parse_node(node)


def node_kind(node: str) -> Literal["server", "client"]:
    """Whether an address names a server or a client; RemoteError if it is neither."""
    return node_parts(node)[0]


def node_number(node: str) -> int:
    """The replica or client number inside an address."""
    return node_parts(node)[1]


@fast_init
@dataclass(frozen=True, slots=True, eq=True)
class Ballot:
    """A proposal number: compared by round first, then by replica id to break ties.

    Each replica only ever uses ballots carrying its own id, so two replicas can never
    lead with the same ballot (Lamport, Paxos Made Simple: "different proposers choose
    their numbers from disjoint sets").
    """

    round: int
    replica: int

    def __post_init__(self) -> None:
        if self.round < 0 or self.replica < 0:
            raise RemoteError(f"ballot parts must be >= 0, got {self.round}.{self.replica}")

    def __str__(self) -> str:
        return f"{self.round}.{self.replica}"

    # Ordered by (round, replica), as `order=True` would, but written out: every Accept,
    # Accepted and Heartbeat compares ballots, and these skip building two tuples per
    # comparison. Two ballots are often the very same object (a leader's ballot rides in
    # each of its messages), which `is` settles at once.

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if other.__class__ is not Ballot:
            return NotImplemented
        return self.round == other.round and self.replica == other.replica  # type: ignore[attr-defined]

    def __lt__(self, other: Ballot) -> bool:
        if self is other:
            return False
        if other.__class__ is not Ballot:
            return NotImplemented
        return self.round < other.round or (
            self.round == other.round and self.replica < other.replica)

    def __le__(self, other: Ballot) -> bool:
        if self is other:
            return True
        if other.__class__ is not Ballot:
            return NotImplemented
        return self.round < other.round or (
            self.round == other.round and self.replica <= other.replica)

    def __gt__(self, other: Ballot) -> bool:
        if self is other:
            return False
        if other.__class__ is not Ballot:
            return NotImplemented
        return self.round > other.round or (
            self.round == other.round and self.replica > other.replica)

    def __ge__(self, other: Ballot) -> bool:
        if self is other:
            return True
        if other.__class__ is not Ballot:
            return NotImplemented
        return self.round > other.round or (
            self.round == other.round and self.replica >= other.replica)
