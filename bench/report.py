"""Output: progress lines, the results table, ``results/latest.json`` and ``latest.png``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
_STARTED = time.perf_counter()


def say(message: str) -> None:
    sys.stdout.write(f"[{time.perf_counter() - _STARTED:7.1f} s] {message}\n")
    sys.stdout.flush()


def table(results: list[dict]) -> str:
    header = (
        "| scenario | platform p50 ms | platform p95 ms | baseline p50 ms | baseline p95 ms "
        "| ratio | notes |"
    )
    lines = [header, "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['scenario']} | | | | | | failed: {r['error']} |")
            continue
        notes = []
        if "records_per_s" in r:
            notes.append(
                f"{r['rows']:,} rows, {r['records_per_s']:,} records/s "
                f"(baseline {r['baseline_records_per_s']:,}/s)"
            )
            if not r.get("complete", True):
                notes.append(f"stopped by the time budget ({r['rows_wanted']:,} wanted)")
        if "target" in r:
            notes.append(f"target {r['target']}: {'met' if r['target_met'] else 'NOT met'}")
        if not r.get("results_match", True):
            notes.append("results differ")
        lines.append(
            f"| {r['scenario']} | {r['platform_p50_ms']:.1f} | {r['platform_p95_ms']:.1f} "
            f"| {r['baseline_p50_ms']:.1f} | {r['baseline_p95_ms']:.1f} | {r['ratio']:.2f} "
            f"| {'; '.join(notes)} |"
        )
    return "\n".join(lines)


def write_json(results: list[dict], mode: str) -> Path:
    RESULTS.mkdir(exist_ok=True)
    text = json.dumps(results, indent=2, default=str) + "\n"
    path = RESULTS / "latest.json"
    path.write_text(text)
    (RESULTS / f"{mode}.json").write_text(text)
    return path


def plot(results: list[dict], title: str) -> Path | None:
    try:
        import matplotlib
    except ImportError:
        say(
            "matplotlib is not installed, so no plot was drawn: "
            "run `.venv/bin/pip install matplotlib` and run the benchmark again"
        )
        return None
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    measured = [r for r in results if "error" not in r]
    reads = [r for r in measured if "records_per_s" not in r]
    bulk = [r for r in measured if "records_per_s" in r]
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(12, 5), gridspec_kw={"width_ratios": [3, 1]}
    )
    positions = range(len(reads))
    width = 0.38
    left.bar(
        [p - width / 2 for p in positions],
        [r["platform_p50_ms"] for r in reads],
        width,
        label="platform p50",
        color="#4c6ef5",
    )
    left.bar(
        [p + width / 2 for p in positions],
        [r["baseline_p50_ms"] for r in reads],
        width,
        label="baseline p50",
        color="#adb5bd",
    )
    for p, r in zip(positions, reads, strict=True):
        top = max(r["platform_p50_ms"], r["baseline_p50_ms"])
        ratio = f"×{r['ratio']:.2f}" if r["ratio"] < 10 else f"×{r['ratio']:,.0f}"
        left.annotate(ratio, (p, top), ha="center", va="bottom", fontsize=9)
    left.set_xticks(list(positions), [r["scenario"] for r in reads], rotation=20, ha="right")
    left.set_yscale("log")
    left.set_ylabel("milliseconds (log scale)")
    left.set_title("reads: p50 latency")
    left.legend()
    if bulk:
        r = bulk[0]
        values = [r["records_per_s"], r["baseline_records_per_s"]]
        bars = right.bar(["platform", "baseline"], values, color=["#4c6ef5", "#adb5bd"])
        right.bar_label(bars, labels=[f"{v:,}/s" for v in values], fontsize=9)
        right.axhline(5000, color="#e03131", linestyle="--", label="target 5,000/s")
        right.set_yscale("log")
        right.set_ylabel("records per second (log scale)")
        right.set_title(f"bulk insert ({r['rows']:,} rows)")
        right.legend(loc="upper left")
    figure.suptitle(title)
    figure.tight_layout()
    path = RESULTS / "latest.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
