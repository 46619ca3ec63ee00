"""The lab's process table: start, crash, restart, pause, resume and stop its processes.

It is the lab's `FaultTarget` (paxlab.scenario.faults): faults act on it directly.

Every server and client talks to the router over its own Pipe. A restarted process gets
a fresh Pipe (a crash can leave half a frame in the old one), and the router receives
its end over the launcher's control socket (SCM_RIGHTS, `multiprocessing.reduction`).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import reduction
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from paxlab import results
from paxlab.config import Config
from paxlab.config.params import client_params, replica_params
from paxlab.core.ids import client_node, node_number, server_node
from paxlab.lab.client_proc import client_main
from paxlab.lab.control import send_control
from paxlab.lab.router import router_main
from paxlab.lab.server_proc import server_main
from paxlab.results.messages import messages_path
from paxlab.scenario.client_driver import info_for_outstanding

__all__ = ["ProcessTable"]

ROUTER = "router"


@dataclass
class ProcessTable:
    ctx: SpawnContext
    config: Config
    run_dir: Path
    note: Callable[[str], None]
    processes: dict[str, BaseProcess] = field(default_factory=dict)
    controls: dict[str, Connection] = field(default_factory=dict)
    crashed: set[str] = field(default_factory=set)
    paused: set[str] = field(default_factory=set)
    starts: dict[str, int] = field(default_factory=dict)  # node -> incarnations started
    joining: set[str] = field(default_factory=set)  # started, not yet "ready"
    # Who leads, as the launcher last heard from the router (for `target: leader`).
    leader_of: Callable[[], str | None] = lambda: None
    # The run clock's time, for the info completion of a client killed mid-op.
    now_ns: Callable[[], int] = lambda: 0

    @property
    def servers(self) -> list[str]:
        return [server_node(i) for i in range(self.config.cluster.servers)]

    @property
    def clients(self) -> list[str]:
        return [client_node(i) for i in range(self.config.clients.count)]

    def _spawn(self, node: str) -> Connection:
        """Start `node` with fresh pipes; return the router's end of its link."""
        router_end, node_end = self.ctx.Pipe(duplex=True)
        lab_end, proc_end = self.ctx.Pipe(duplex=True)
        number, run_dir, config = int(node[1:]), str(self.run_dir), self.config
        incarnation = self.starts.get(node, 0)
        self.starts[node] = incarnation + 1
        target: Callable[..., None]
        if node.startswith("s"):
            target = server_main
            args: tuple[Any, ...] = (number, replica_params(config), config.seed, node_end,
                                     proc_end, run_dir, config.cluster.fsync == "always",
                                     incarnation, config.cluster.storage == "process_buffer",
                                     config.cluster.chain_archive)
        else:
            target = client_main
            args = (number, client_params(config), config.workload, config.seed, node_end,
                    proc_end, run_dir, incarnation)
        process = self.ctx.Process(target=target, args=args, name=f"paxlab-{node}", daemon=True)
        process.start()
        node_end.close()  # the child holds its own copies now
        proc_end.close()
        self.processes[node] = process
        self.controls[node] = lab_end
        self.joining.add(node)
        self.note(f"started {node} (pid {process.pid})")
        return router_end

    def start_all(self) -> None:
        links = {node: self._spawn(node) for node in self.servers + self.clients}
        lab_end, proc_end = self.ctx.Pipe(duplex=True)
        router_args = (links, proc_end, self.config.network, self.config.seed,
                       str(results.log_path(self.run_dir, "router")),
                       str(messages_path(self.run_dir)))
        router = self.ctx.Process(target=router_main, args=router_args, name="paxlab-router",
                                  daemon=True)
        router.start()
        proc_end.close()
        for conn in links.values():
            conn.close()
        self.processes[ROUTER] = router
        self.controls[ROUTER] = lab_end
        self.note(f"started router (pid {router.pid})")

    def router_command(self, command: dict[str, Any]) -> None:
        send_control(self.controls[ROUTER], command)

    # --- faults on processes ------------------------------------------------------------

    def crash(self, node: str) -> None:
        """SIGKILL: the process dies at once; whatever it had not synced is gone."""
        process = self.processes[node]
        if node in self.paused:
            os.kill(process.pid, signal.SIGCONT)  # type: ignore[arg-type]
            self.paused.discard(node)
        process.kill()
        process.join(timeout=5)
        self.controls.pop(node).close()
        self.crashed.add(node)
        self.router_command({"cmd": "down", "node": node})
        self.note(f"crashed {node} (pid {process.pid}, exit {process.exitcode})")
        if node in self.clients:
            self.close_open_ops(node)

    def close_open_ops(self, node: str) -> None:
        """A dead client cannot complete its pending op, so the launcher, which knows when
        it died, writes the op's info completion into the client's history part: every
        invoke gets exactly one completion, and the restarted client starts clean."""
        client_id = node_number(node)
        past = results.recover_history_part(self.run_dir, client_id)
        for event in info_for_outstanding(past, self.now_ns()):
            results.write_history_part(self.run_dir, client_id, event)
            self.note(f"{node}: op #{event['seq']} ends as info (the client is gone)")

    def restart(self, node: str) -> None:
        router_end = self._spawn(node)
        self.router_command({"cmd": "relink", "node": node})
        router_pid = self.processes[ROUTER].pid
        reduction.send_handle(self.controls[ROUTER], router_end.fileno(), router_pid)
        router_end.close()
        self.crashed.discard(node)

    def pause(self, node: str) -> None:
        """SIGSTOP: frozen mid-step; messages to it wait in the router."""
        self.router_command({"cmd": "pause", "node": node})
        os.kill(self.processes[node].pid, signal.SIGSTOP)  # type: ignore[arg-type]
        self.paused.add(node)
        self.note(f"paused {node}")

    def resume(self, node: str) -> None:
        os.kill(self.processes[node].pid, signal.SIGCONT)  # type: ignore[arg-type]
        self.router_command({"cmd": "resume", "node": node})
        self.paused.discard(node)
        self.note(f"resumed {node}")

    def is_up(self, node: str) -> bool:
        return node not in self.crashed and node not in self.paused

    def is_crashed(self, node: str) -> bool:
        return node in self.crashed

    def is_paused(self, node: str) -> bool:
        return node in self.paused

    def leader(self) -> str | None:
        return self.leader_of()

    def apply_network(self, command: dict[str, Any]) -> None:
        """A network fault: the router applies it to its link model."""
        self.router_command(command)

    # --- the end ------------------------------------------------------------------------

    def resume_everything(self) -> None:
        for node in sorted(self.paused):
            self.resume(node)

    def end_all(self, graceful_s: float) -> None:
        """Join every process; terminate, then kill, any that does not end in time."""
        for name, process in self.processes.items():
            if name in self.paused:
                os.kill(process.pid, signal.SIGCONT)  # type: ignore[arg-type]
            process.join(timeout=graceful_s)
            if process.is_alive():
                self.note(f"{name} did not stop; terminating")
                process.terminate()
                process.join(timeout=2)
            if process.is_alive():
                process.kill()
                process.join()
        for conn in self.controls.values():
            conn.close()
