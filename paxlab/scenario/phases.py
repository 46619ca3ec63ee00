"""A run's phases, whatever the driver: workload -> recover -> quiesce -> give up.

The workload runs with its faults until every client is done. Then every server is
brought back (paused ones resumed, crashed ones restarted) and the network calmed, and
the driver polls the servers' statuses until the cluster is quiescent or the quiesce
timeout passes. Last, clients give up what is still pending. Each driver waits in its
own way (real time, virtual time); what the phases decide is written once, here, as
pure functions, so the lab and the simulator cannot disagree on when a run is settled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from paxlab.core import Replica

__all__ = [
    "QUIET_POLLS",
    "Recovery",
    "RunPhases",
    "ServerStatus",
    "fault_not_applied",
    "is_busy",
    "is_workload_done",
    "plan_recovery",
    "quiet_polls",
    "run_phases",
    "server_status",
]

QUIET_POLLS = 2  # settled polls in a row that make a run quiescent


@dataclass(frozen=True, slots=True)
class ServerStatus:
    """What a quiesce poll learns from one server."""

    commit: int  # blocks committed
    tip: str  # hash of the last committed block
    busy: bool  # a leader with proposals in flight or requests queued


def is_busy(replica: Replica) -> bool:
    """A leader still has work: proposals not yet chosen, or client requests queued.
    Its chain may match everyone's and still grow, so the run is not settled yet."""
    leader = replica.leader
    return bool(leader is not None and (leader.proposals or replica.queue))


def server_status(replica: Replica) -> ServerStatus:
    return ServerStatus(commit=replica.commit_index, tip=replica.learner.tip_hash,
                        busy=is_busy(replica))


def quiet_polls(before: int, statuses: Sequence[ServerStatus]) -> int:
    """Settled polls in a row after this one: every server holds one chain (the same
    commit index and tip) and none is busy, else the count starts again from zero.
    Quiescent once it reaches QUIET_POLLS: one agreeing poll could catch a leader
    between two proposals."""
    tips = {(s.commit, s.tip) for s in statuses}
    settled = len(tips) == 1 and not any(s.busy for s in statuses)
    return before + 1 if settled else 0


def is_workload_done(clients: Iterable[str], finished: Callable[[str], bool],
                     down: Callable[[str], bool], faults_pending: int) -> bool:
    """The workload phase ends when its ops or its duration are spent: every client has
    finished its ops, or is down with no fault left that could bring it back. While a
    fault is still scheduled, a crashed client may yet be restarted (crash_client at
    700 ms, restart_client at 1200 ms), so the phase goes on until the schedule is done;
    no client happening to be alive is not the end of a workload."""
    return not faults_pending and all(finished(c) or down(c) for c in clients)


def fault_not_applied(at_ms: int, why: str) -> str:
    """The error for a scheduled fault the run never applied: it fails the run, since a
    schedule that did not happen tested nothing it promised."""
    return f"fault at {at_ms} ms not applied: {why}"


@dataclass(frozen=True, slots=True)
class Recovery:
    """What the recover phase does, in this order: resume, then restart."""

    resume: tuple[str, ...]
    restart: tuple[str, ...]


def plan_recovery(servers: Sequence[str], paused: Callable[[str], bool],
                  crashed: Callable[[str], bool]) -> Recovery:
    """Every server must be running before the chains are compared, so that a server a
    fault left behind can catch up: resume the paused, restart the crashed, in server
    order."""
    return Recovery(resume=tuple(s for s in servers if paused(s)),
                    restart=tuple(s for s in servers if crashed(s)))


class RunPhases(Protocol):
    """What a driver offers `run_phases`: each phase, carried out its own way."""

    def run_workload(self) -> None: ...
    def recover_everything(self) -> None: ...
    def quiesce(self) -> bool: ...
    def give_up(self) -> None: ...


def run_phases(driver: RunPhases) -> bool:
    """Run the phases in order; True if the cluster became quiescent."""
    driver.run_workload()
    driver.recover_everything()
    quiescent = driver.quiesce()
    driver.give_up()
    return quiescent
