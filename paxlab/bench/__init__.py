"""Benchmarks: each prints throughput or CPU figures against a baseline measured in the
same run, since these machines are shared and noisy (lab, simulator, checker)."""
