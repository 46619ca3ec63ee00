"""The lab driver: every server and client in its own process, wired through one
fault-injecting router process, running a YAML workload and fault schedule."""

from paxlab.lab.launcher import LabOutcome, run_lab

__all__ = ["LabOutcome", "run_lab"]
