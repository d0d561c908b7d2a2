"""How fast this machine is at the moment, printed beside every benchmark's results.

A shared or virtual machine changes speed from minute to minute (on the two-core machine the
benchmarks were tuned on, the same loop took 0.47 s at one moment and 0.90 s at another):
timings from different moments compare only together with this reference."""

from __future__ import annotations

import time


def cpu_reference() -> float:
    """Seconds one core takes for a fixed pure-Python loop (lower is faster)."""
    started = time.perf_counter()
    sum(range(30_000_000))
    return time.perf_counter() - started


def describe() -> str:
    return f"CPU reference {cpu_reference():.2f} s (sum(range(30_000_000)); lower is faster)"
