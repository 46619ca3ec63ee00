"""Shrinking a failing seed to a small YAML reproducer: pin the run (pin), search for what
can go (search, shrinker), write and replay the reproducer (reproducer, command)."""
