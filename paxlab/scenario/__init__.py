"""A run, whatever the driver: the workload, the fault schedule and how faults pick their
targets. The lab, the simulator and the TCP cluster share these pieces so that a config
means the same thing in each."""
