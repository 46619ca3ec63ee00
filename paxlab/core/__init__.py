"""The pure Multi-Paxos core: messages and time go in, messages, timers and effects come out.

Vocabulary, used the same way everywhere in paxlab:

- **ballot**: `Ballot(round, replica)`, totally ordered; a leader owns one ballot.
- **slot**: a position in the replicated log. A block's **height** is its slot.
- **accepted**: an acceptor voted for a block in a slot at a ballot.
- **chosen**: a majority accepted the same block in the same slot at the same ballot.
- **commit**: a replica learns a block was chosen; `commit_index` is the number of
  contiguous chosen blocks it holds (its chain length).
- **apply**: run a committed block's transactions against the key-value store.

Nothing in this package reads a clock, touches the network or disk, or uses the global
random generator: drivers pass `now_ms` and a seeded `random.Random` in.
"""

from paxlab.core.chain import Block, Txn, seal_block, verify_block
from paxlab.core.client import ClientParams, ClientSession, Operation
from paxlab.core.errors import RemoteError, UsageError
from paxlab.core.ids import Ballot, client_node, node_kind, node_number, server_node
from paxlab.core.output import Completion, Output, TimerCommand
from paxlab.core.recovery import RecoveredState, recover_state
from paxlab.core.replica import Replica, ReplicaParams, Role

__all__ = [
    "Ballot",
    "Block",
    "ClientParams",
    "ClientSession",
    "Completion",
    "Operation",
    "Output",
    "RecoveredState",
    "RemoteError",
    "Replica",
    "ReplicaParams",
    "Role",
    "TimerCommand",
    "Txn",
    "UsageError",
    "client_node",
    "node_kind",
    "node_number",
    "recover_state",
    "seal_block",
    "server_node",
    "verify_block",
]
