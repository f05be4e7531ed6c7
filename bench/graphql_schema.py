"""``python -m bench graphql-schema``: how long building a tenant's GraphQL schema takes and
how much memory a cached schema holds, for the starter pack and a large configuration (50
entities of 40 fields). Targets (issue 6): 400 ms and 5 MB per schema. Writes
``bench/results/graphql_schema.json``; no database needed."""

from __future__ import annotations

import datetime as dt
import gc
import json
import statistics
import time
import tracemalloc
from pathlib import Path

from api.schema.builder import build_schema
from metadata.compiled import compile_document
from metadata.packs import load_pack
from metadata.semantics import validate_document

RESULTS = Path(__file__).parent / "results" / "graphql_schema.json"
TYPES = ["text", "integer", "decimal", "date", "boolean", "choice", "email", "currency"]
TARGET_MS, TARGET_MB = 400, 5


def large_document(entities: int = 50, fields: int = 40) -> dict:
    """A wide configuration: every field type in turn, five options per choice, a lookup to
    the previous entity."""
    documents = []
    for e in range(entities):
        specs = []
        for f in range(fields):
            kind = TYPES[f % len(TYPES)]
            spec = {"key": f"f{f}", "type": kind, "label": {"en": f"Field {f}"}}
            if kind == "choice":
                spec["options"] = [{"value": f"o{i}", "label": {"en": f"O{i}"}} for i in range(5)]
            if kind == "currency":
                spec["currencies"] = ["EUR"]
            specs.append(spec)
        if e:
            specs.append(
                {
                    "key": "parent",
                    "type": "lookup",
                    "target": f"e{e - 1}",
                    "label": {"en": "Parent"},
                    "on_delete": "set_null",
                }
            )
        documents.append(
            {"key": f"e{e}", "plural_key": f"e{e}s", "label": {"en": f"E{e}"}, "fields": specs}
        )
    return {"format": 1, "locales": ["en"], "entities": documents}


def measure(name: str, document: dict, runs: int = 5) -> dict:
    problems = validate_document(document)
    assert not problems, problems[:3]
    config = compile_document(1, document)
    build_schema(config)  # warm imports and caches
    times = []
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        build_schema(config)
        times.append((time.perf_counter() - started) * 1000)
    gc.collect()
    tracemalloc.start()
    schema = build_schema(config)
    gc.collect()
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    p50 = statistics.median(times)
    return {
        "scenario": f"graphql_schema_{name}",
        "entities": len(document["entities"]),
        "fields": sum(len(e["fields"]) for e in document["entities"]),
        "build_p50_ms": round(p50, 1),
        "memory_mb": round(held / 1e6, 2),
        "sdl_chars": len(str(schema)),
        "target": f"build <= {TARGET_MS} ms, memory <= {TARGET_MB} MB",
        "target_met": p50 <= TARGET_MS and held / 1e6 <= TARGET_MB,
    }


def run(say) -> list[dict]:
    results = [measure("starter", load_pack("starter")), measure("large", large_document())]
    for entry in results:
        say(
            f"{entry['scenario']}: {entry['build_p50_ms']} ms, {entry['memory_mb']} MB "
            f"({entry['entities']} entities, {entry['fields']} fields); target "
            f"{'met' if entry['target_met'] else 'NOT met'}"
        )
    measured = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    RESULTS.write_text(
        json.dumps([{**e, "measured_at": measured} for e in results], indent=2) + "\n"
    )
    say(f"wrote {RESULTS}")
    return results
