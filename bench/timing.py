"""Timing: warm-up, then interleaved iterations of the platform and the baseline."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable

MIN_ITERATIONS = 5


def timed(fn: Callable[[], object]) -> float:
    """Milliseconds one call takes."""
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def measure(
    platform: Callable[[], object],
    baseline: Callable[[], object],
    warmup: int,
    iterations: int,
    max_seconds: float = 30.0,
) -> tuple[list[float], list[float]]:
    """Run both ``warmup`` times untimed, then ``iterations`` times each, alternating which goes
    first so that drift (caches, a neighbour's load) hits both sides alike. A slow scenario
    runs fewer iterations (at least five) so that it stays within about ``max_seconds``."""
    for _ in range(warmup):
        started = time.perf_counter()
        platform()
        baseline()
        if time.perf_counter() - started > max_seconds / 10:
            break
    platform_ms, baseline_ms = [], []
    for index in range(iterations):
        if index % 2 == 0:
            platform_ms.append(timed(platform))
            baseline_ms.append(timed(baseline))
        else:
            baseline_ms.append(timed(baseline))
            platform_ms.append(timed(platform))
        spent = (sum(platform_ms) + sum(baseline_ms)) / 1000
        if index + 1 >= MIN_ITERATIONS and spent > max_seconds:
            break
    return platform_ms, baseline_ms


def p50(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def summary(scenario: str, platform_ms: list[float], baseline_ms: list[float]) -> dict:
    platform_p50, baseline_p50 = p50(platform_ms), p50(baseline_ms)
    return {
        "scenario": scenario,
        "platform_p50_ms": round(platform_p50, 2),
        "platform_p95_ms": round(p95(platform_ms), 2),
        "baseline_p50_ms": round(baseline_p50, 2),
        "baseline_p95_ms": round(p95(baseline_ms), 2),
        "ratio": round(platform_p50 / baseline_p50, 2) if baseline_p50 else None,
        "iterations": len(platform_ms),
    }
