"""What a network does to messages and what it sees: the link model the lab's router and
the simulator share, and the invariant monitor that watches every message they carry."""
