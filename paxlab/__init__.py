"""paxlab: a Multi-Paxos replicated key-value store whose log is a hash-chained blockchain.

The protocol lives in `paxlab.core` (pure, no I/O); `paxlab.lab` drives it through
processes and a fault-injecting router; `paxlab.check` proves each run correct.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
