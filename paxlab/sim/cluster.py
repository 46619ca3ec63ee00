"""The simulated cluster: servers, clients, network and faults on one virtual clock.

`run()` goes through the same phases as the lab's launcher (paxlab.scenario.phases): the
workload with its faults until every client has finished (or crashed), then recovery
(resume, restart crashed servers), a calm network, and a status poll every 50 ms until
the quiesce rule holds, bounded by `checks.quiesce_timeout_ms` of virtual time. Then
clients give up.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from heapq import heappop
from typing import Any

from paxlab.config.params import client_params, replica_params
from paxlab.config.types import Config, Fault, Restart
from paxlab.core.ids import client_node, server_node
from paxlab.core.messages import Envelope
from paxlab.network.model import NetworkModel
from paxlab.network.recorder import MessageRecorder
from paxlab.scenario.faults import FaultRunner
from paxlab.scenario.nemesis import expand_faults
from paxlab.scenario.phases import (
    QUIET_POLLS,
    fault_not_applied,
    is_workload_done,
    plan_recovery,
    quiet_polls,
    run_phases,
)
from paxlab.sim.clock import EventHeap
from paxlab.sim.mutants import Mutant
from paxlab.sim.network import Arrival, SimNetwork
from paxlab.sim.nodes import SimClient, SimServer, Wake, WriteBack

__all__ = ["SimCluster"]

QUIESCE_POLL_MS = 50
GC_YOUNG_THRESHOLD = 20_000  # allocations between young collections during a run (see run)
RESTART_AFTER_MS = 300  # a server armed without a restart delay (tests arm its disk alone)


@dataclass(frozen=True, slots=True)
class ApplyFault:
    fault: Fault


@dataclass(frozen=True, slots=True)
class Poll:
    pass


def _server_parts(config: Config, mutant: Mutant | None) -> dict[str, Any]:
    """A server's replica class and disk discipline: the correct ones, or a mutant's.
    `cluster.fsync: never` gets the no-fsync disk too, as it would on a real machine."""
    sync = config.cluster.fsync != "never"
    if mutant is None:
        return {"sync_before_send": sync}
    return {"replica_cls": mutant.replica_cls,
            "sync_before_send": sync and mutant.sync_before_send}


class SimCluster:
    def __init__(self, config: Config, seed: int, mutant: Mutant | None = None,
                 recorder: MessageRecorder | None = None) -> None:
        """`recorder`: record every message (messages.jsonl); the run stays the same."""
        self.config = config
        self.seed = seed
        self.heap = EventHeap()
        self.network = SimNetwork(config.network, seed, self.heap,
                                  config.cluster.servers, recorder)
        self.history: list[dict] = []
        self.notes: list[str] = []
        self.errors: list[str] = []
        params = replica_params(config)
        self.servers = [server_node(i) for i in range(config.cluster.servers)]
        self.clients = [client_node(i) for i in range(config.clients.count)]
        self.server_nodes = {
            server_node(i): SimServer(i, params, seed, self.heap, self.network.send,
                                      on_compaction_crash=self._crashed_in_compaction,
                                      **_server_parts(config, mutant))
            for i in range(config.cluster.servers)
        }
        cparams = client_params(config)
        self.client_nodes = {
            client_node(i): SimClient(i, cparams, config.workload, seed, self.heap,
                                      self.network.send, self.history)
            for i in range(config.clients.count)
        }
        self.faults = FaultRunner(self, seed, self.note)
        self.applied_faults = self.faults.applied
        self.workload_ms = 0.0
        self.faults_pending = 0  # scheduled, not yet due
        self.quiescent = False
        # When the run last became fault free (every server up, the network as the config
        # set it): the start of the liveness bound. None while a fault is in force.
        self.healed_ms: float | None = 0.0
        # crash_in_compaction: server -> how long after its crash it restarts, while armed
        self._restart_after_ms: dict[str, int] = {}

    @property
    def model(self) -> NetworkModel:
        return self.network.model

    def note(self, text: str) -> None:
        self.notes.append(f"{self.heap.now_ms:>9.3f} ms  {text}")

    # --- the cluster as the fault runner sees it ---------------------------------------

    def _node(self, node: str) -> SimServer | SimClient:
        return self.server_nodes.get(node) or self.client_nodes[node]

    def status(self, node: str) -> str:
        sim = self._node(node)
        if not sim.up:
            return "down"
        return "paused" if isinstance(sim, SimServer) and sim.paused else "up"

    def is_up(self, node: str) -> bool:
        return self.status(node) == "up"

    def is_crashed(self, node: str) -> bool:
        return self.status(node) == "down"

    def is_paused(self, node: str) -> bool:
        return self.status(node) == "paused"

    def crash(self, node: str) -> None:
        self._node(node).crash()
        self.network.down(node)

    def restart(self, node: str) -> None:
        self._node(node).start()

    def pause(self, node: str) -> None:
        self.server_nodes[node].paused = True
        self.network.pause(node)

    def resume(self, node: str) -> None:
        self.server_nodes[node].resume()
        self.network.resume(node)

    def arm_compaction_crash(self, node: str, step: int, restart_after_ms: int) -> None:
        """crash_in_compaction: `node` crashes inside its next compaction, after `step`."""
        self.server_nodes[node].disk.crash_after_step = step
        self._restart_after_ms[node] = restart_after_ms

    def _crashed_in_compaction(self, server: SimServer, step: int) -> None:
        """The armed server stopped after `step` of a compaction, before sending: crash
        it as a power loss, record the crash as an applied fault, schedule its restart."""
        node = f"s{server.id}"
        now = self.heap.now_int
        self.crash(node)
        detail = f"{node} crashed in compaction after step {step}"
        self.faults.applied.append({"time_ms": now, "action": "crash_in_compaction",
                                    "detail": detail, "nodes": [node]})
        self.note(f"fault crash_in_compaction: {detail}")
        after_ms = self._restart_after_ms.pop(node, RESTART_AFTER_MS)
        restart = Restart(at_ms=now + after_ms, target=server.id)
        self.heap.push(restart.at_ms, ApplyFault(restart))
        self.faults_pending += 1
        self.healed_ms = None

    def disarm_compaction_crashes(self) -> None:
        """No crash in a compaction after the workload: the recover phase stops faults."""
        for node in self._restart_after_ms:
            self.server_nodes[node].disk.crash_after_step = None
        self._restart_after_ms.clear()

    def apply_network(self, command: dict[str, Any]) -> None:
        """A network fault, applied to the simulated link model."""
        self.model.apply_command(command)

    def leader(self) -> str | None:
        """The live (not crashed) server that is LEADER at the highest ballot."""
        best: tuple[Any, str] | None = None
        for name in self.servers:
            sim = self.server_nodes[name]
            ballot = sim.leader_ballot() if sim.up else None
            if ballot is not None and (best is None or ballot > best[0]):
                best = (ballot, name)
        return best[1] if best is not None else None

    # --- the run -----------------------------------------------------------------------

    def _dispatch(self, event: object) -> bool:
        """Carry out one event; True if it may have changed whether the workload is done
        (it reached a client, or was a fault), so `run` rechecks only then. `_run_workload`
        inlines the frequent cases; this is every case, for everything else."""
        kind = type(event)
        if kind is Envelope:  # a message's delivery (see SimNetwork)
            envelope: Envelope = event  # type: ignore[assignment]
            target = envelope.target
            server = self.server_nodes.get(target)
            if server is not None:
                # Up and running: step it now (the fast path); else the network decides.
                running = server.host is not None and not server.paused
                if running or self.network.arrive(envelope, self):
                    server.deliver(envelope)
                return False
            if self.network.arrive(envelope, self):
                self.client_nodes[target].deliver(envelope)
            return True
        if kind is Wake or kind is WriteBack:
            node = event.node  # type: ignore[attr-defined]
            server = self.server_nodes.get(node)
            if server is not None:
                server.wake(event)  # type: ignore[arg-type]
                return False
            self.client_nodes[node].wake(event)  # type: ignore[arg-type]
            return True
        if kind is ApplyFault:
            self._apply_fault(event)  # type: ignore[arg-type]
            return True
        if kind is Arrival:  # a recorded message's delivery: as an Envelope above
            envelope = event.envelope  # type: ignore[attr-defined]
            server = self.server_nodes.get(envelope.target)
            if self.network.arrive_recorded(event, self):  # type: ignore[arg-type]
                (server or self.client_nodes[envelope.target]).deliver(envelope)
            return server is None
        return False

    def _apply_fault(self, event: ApplyFault) -> None:
        self.faults_pending -= 1
        self.faults.apply_at(event.fault, self.heap.now_int)
        if self._fault_in_force():
            self.healed_ms = None
        elif self.healed_ms is None:
            self.healed_ms = self.heap.now_ms

    def _fault_in_force(self) -> bool:
        """Is any server down or paused, or the network not as the config set it?"""
        if any(not self.is_up(name) for name in self.servers):
            return True
        model = self.model
        return bool(model.failed_links or model.one_way_cuts or model.partition_cuts
                    or model.isolated or model.link_rules) or model.rules != self.config.network

    def _workload_done(self) -> bool:
        clients = self.client_nodes
        return is_workload_done(self.clients, lambda c: clients[c].finished,
                                lambda c: not clients[c].up, self.faults_pending)

    def run(self) -> None:
        # A run makes hundreds of thousands of short-lived objects (messages, outputs,
        # heap entries); collecting the young generation every 700 of them costs about
        # 1.5% of the run and frees little. The thresholds are the process's: restored.
        thresholds = gc.get_threshold()
        gc.set_threshold(GC_YOUNG_THRESHOLD, *thresholds[1:])
        try:
            self._run()
        finally:
            gc.set_threshold(*thresholds)

    def _run(self) -> None:
        for name in self.servers:
            self.server_nodes[name].start()
        for name in self.clients:
            self.client_nodes[name].start()
        for fault in expand_faults(self.config):
            self.heap.push(fault.at_ms, ApplyFault(fault))
            self.faults_pending += 1
        self.quiescent = run_phases(self)

    # --- the phases (paxlab.scenario.phases.RunPhases) ----------------------------------

    def run_workload(self) -> None:
        self._run_workload(self.config.checks.run_timeout_s * 1000)
        self.workload_ms = self.heap.now_ms
        # Faults still scheduled now never happen (run_timeout_s came first): the run fails.
        for fault in self._drop_faults():
            error = fault_not_applied(fault.at_ms, "run_timeout_s reached first")
            self.errors.append(error)
            self.note(error)

    def recover_everything(self) -> None:
        self.disarm_compaction_crashes()
        plan = plan_recovery(self.servers, self.is_paused, self.is_crashed)
        for name in plan.resume:
            self.resume(name)
        for name in plan.restart:
            self.restart(name)

    def give_up(self) -> None:
        for name in self.clients:
            self.client_nodes[name].give_up()

    def _run_workload(self, deadline_ms: float) -> None:
        """Carry out events until every client has finished (or crashed).

        Nearly every event of a run passes here, so this loop pops the heap itself and
        handles the two frequent kinds inline: a message for a running server or client,
        and a node's wake (see EventHeap for the rules it keeps). The rest go to
        `_dispatch`. An event for a client that is still working cannot finish the
        workload, so the check of all clients runs only when that client is done, or
        after a fault."""
        heap = self.heap
        queue = heap.queue
        servers = self.server_nodes
        clients = self.client_nodes
        popped = 0  # counted here, added to heap.processed once: a local is cheaper
        done = self._workload_done()
        while not done:
            if not queue or queue[0][0] >= deadline_ms:
                self.errors.append("run_timeout_s reached before the workload finished")
                self.note("run timed out; stopping the workload")
                break
            heap.now_ms, _, event = heappop(queue)
            popped += 1
            kind = type(event)
            if kind is Envelope:
                server = servers.get(event.target)
                if server is None:
                    client = clients[event.target]
                    if client.host is not None:
                        client.deliver(event)
                        if client.finished or client.host is None:
                            done = self._workload_done()
                        continue
                elif server.host is not None and not server.paused:
                    server.deliver(event)
                    continue
            elif kind is Wake:
                server = servers.get(event.node)
                if server is None:
                    client = clients[event.node]
                    client.wake(event)
                    if client.finished or client.host is None:
                        done = self._workload_done()
                else:
                    server.wake(event)
                continue
            if self._dispatch(event):
                done = self._workload_done()
        heap.processed += popped

    def quiesce(self) -> bool:
        """Calm the network and poll every 50 ms of virtual time until the quiesce rule
        holds or checks.quiesce_timeout_ms passes; events go on meanwhile."""
        self.model.calm()
        self.note("quiescing: network healed, drop and duplicate off")
        if self.healed_ms is None:
            self.healed_ms = self.heap.now_ms
        limit_ms = self.heap.now_ms + self.config.checks.quiesce_timeout_ms
        self.heap.push(self.heap.now_ms, Poll())
        quiet = 0
        while (at_ms := self.heap.next_time()) is not None and at_ms < limit_ms:
            event = self.heap.pop()
            if not isinstance(event, Poll):
                self._dispatch(event)
                continue
            statuses = [self.server_nodes[name].status() for name in self.servers]
            quiet = quiet_polls(quiet, statuses)
            if quiet >= QUIET_POLLS:
                self.note(f"quiescent at {statuses[0].commit} blocks")
                return True
            self.heap.push(self.heap.now_ms + QUIESCE_POLL_MS, Poll())
        self.heap.now_ms = max(self.heap.now_ms, limit_ms)
        self.note(f"not quiescent after {self.config.checks.quiesce_timeout_ms} ms")
        return False

    def _drop_faults(self) -> list[Fault]:
        """Take the unapplied faults out of the heap; every other event stays."""
        dropped = self.heap.remove(lambda event: isinstance(event, ApplyFault))
        return [event.fault for event in dropped]
