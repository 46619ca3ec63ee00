"""The deterministic simulator: the pure core on a virtual clock, one seed per run.

Servers, clients, the network model and the fault schedule share one event heap; every
random draw comes from `random.Random(f"{seed}:{subsystem}")`, so a seed names a run.
"""

from paxlab.sim.run import SimRun, run_checks, simulate, write_results

__all__ = ["SimRun", "run_checks", "simulate", "write_results"]
