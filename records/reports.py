"""Reports in the configuration (``reports``): grouped metrics over an entity, run through the
records service so every user sees the numbers of the records they may read.

A report is one or more datasets merged on their group values (the first is the report's own
entity, filter, groups and metrics; ``join`` adds others, as sales targets beside won
opportunities per rep), then ``computed`` values over each row (CEL over ``row``: a win rate, an
ROI, an average order value), a ``having`` condition, a sort and a limit::

    {"key": "win_rate", "entity": "opportunity", "group_by": [{"field": "owner"}],
     "metrics": [{"key": "closed", "fn": "count",
                  "filter": {"field": "stage", "op": "in", "value": ["won", "lost"]}},
                 {"key": "won", "fn": "count", "filter": {"field": "stage", "op": "eq",
                                                           "value": "won"}}],
     "computed": [{"key": "rate", "expression":
                   "row.closed > 0.0 ? row.won / row.closed : 0.0", "format": "percent"}],
     "sort": [{"key": "rate", "direction": "desc"}], "chart": {"kind": "bar"}}

Metric values reach CEL as doubles (an empty value as 0.0, a date as days since 1970-01-01,
beside ``today`` in the same unit); a computed value is a number or a text (an RFM segment's
name, say).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from metadata.cel_check import ExpressionError, compile_expression
from metadata.fieldtypes.base import Problem
from records.aggregates import BUCKETS, FUNCTIONS

CHART_KINDS = ("table", "bar", "line", "pie", "funnel", "number")
FORMATS = ("number", "integer", "currency", "percent", "text")
MAX_DATASETS = 3
MAX_ROWS = 500


def report_schema() -> dict:
    metric = {
        "type": "object",
        "required": ["key", "fn"],
        "properties": {
            "key": {"$ref": "#/$defs/key", "description": "the column's name in the rows"},
            "fn": {"enum": list(FUNCTIONS)},
            "field": {"$ref": "#/$defs/key", "description": "not for count"},
            "filter": {
                "type": "object",
                "description": "only the records matching it count (a filter tree)",
            },
            "label": {"$ref": "#/$defs/label"},
            "format": {"enum": list(FORMATS)},
        },
        "additionalProperties": False,
    }
    group = {
        "type": "object",
        "required": ["field"],
        "properties": {
            "field": {"$ref": "#/$defs/key"},
            "bucket": {"enum": list(BUCKETS), "description": "for dates: the period"},
        },
        "additionalProperties": False,
    }
    dataset = {
        "entity": {"$ref": "#/$defs/key"},
        "filter": {"type": "object", "description": "a filter tree (docs/records.md)"},
        "group_by": {"type": "array", "items": group, "maxItems": 2},
        "metrics": {"type": "array", "items": metric, "minItems": 1, "maxItems": 10},
    }
    return {
        "type": "object",
        "required": ["key", "entity", "metrics"],
        "properties": {
            "key": {"$ref": "#/$defs/key"},
            "label": {"$ref": "#/$defs/label"},
            "description": {"$ref": "#/$defs/label"},
            **dataset,
            "join": {
                "type": "array",
                "maxItems": MAX_DATASETS - 1,
                "description": "further datasets, merged on the group values",
                "items": {
                    "type": "object",
                    "required": ["entity", "metrics"],
                    "properties": dataset,
                    "additionalProperties": False,
                },
            },
            "computed": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key", "expression"],
                    "properties": {
                        "key": {"$ref": "#/$defs/key"},
                        "expression": {
                            "type": "string",
                            "minLength": 1,
                            "description": "CEL over row (the metrics as doubles, dates as "
                            "days since 1970) and today (in days)",
                        },
                        "label": {"$ref": "#/$defs/label"},
                        "format": {"enum": list(FORMATS)},
                    },
                    "additionalProperties": False,
                },
            },
            "having": {"type": "string", "minLength": 1, "description": "CEL bool over row"},
            "sort": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key"],
                    "properties": {
                        "key": {"type": "string", "minLength": 1},
                        "direction": {"enum": ["asc", "desc"]},
                    },
                    "additionalProperties": False,
                },
            },
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_ROWS},
            "chart": {
                "type": "object",
                "properties": {
                    "kind": {"enum": list(CHART_KINDS)},
                    "values": {
                        "type": "array",
                        "items": {"type": "string", "minLength": 1},
                        "description": "the metrics drawn (default: all)",
                    },
                },
                "additionalProperties": False,
            },
            "roles": {"type": "array", "items": {"$ref": "#/$defs/key"}},
        },
        "additionalProperties": False,
    }


def datasets(spec: dict) -> list[dict]:
    return [spec, *spec.get("join", [])]


def aggregate_metrics(dataset: dict) -> list[dict]:
    """The dataset's metrics as the records service's aggregate takes them."""
    return [
        {
            "fn": m["fn"],
            "as": m["key"],
            **({"field": m["field"]} if "field" in m else {}),
            **({"filter": m["filter"]} if "filter" in m else {}),
        }
        for m in dataset["metrics"]
    ]


def value_keys(spec: dict) -> list[str]:
    return [m["key"] for d in datasets(spec) for m in d["metrics"]] + [
        c["key"] for c in spec.get("computed", [])
    ]


def group_names(dataset: dict) -> list[str]:
    return [
        f"{g['field']}:{g['bucket']}" if "bucket" in g else g["field"]
        for g in dataset.get("group_by", [])
    ]


# -- checks at publish --------------------------------------------------------------------


def check_reports(ctx) -> Iterator[Problem]:
    from metadata.compiled import compile_document
    from records.aggregates import group_columns, metric_columns
    from records.query import QueryCompiler, QueryError

    reports = ctx.document.get("reports", [])
    seen: set[str] = set()
    try:
        config = compile_document(0, ctx.document)
    except Exception:  # noqa: BLE001  (the document's other problems are reported elsewhere)
        config = None
    for index, spec in enumerate(reports):
        path = f"reports[{index}]"
        if spec["key"] in seen:
            yield Problem(
                f"{path}.key", "duplicate_key", f"the report {spec['key']!r} is defined twice"
            )
        seen.add(spec["key"])
        yield from ctx.unknown_roles(spec.get("roles"), f"{path}.roles")
        sets = datasets(spec)
        widths = {len(d.get("group_by", [])) for d in sets}
        if len(widths) > 1:
            yield Problem(
                f"{path}.join", "group_mismatch", "every dataset groups by as many fields"
            )
        keys = [m["key"] for d in sets for m in d["metrics"]]
        for key in {k for k in keys if keys.count(k) > 1}:
            yield Problem(f"{path}.metrics", "duplicate_key", f"the value {key!r} is named twice")
        for set_index, dataset in enumerate(sets):
            where = path if set_index == 0 else f"{path}.join[{set_index - 1}]"
            if dataset["entity"] not in ctx.entity_keys:
                yield Problem(
                    f"{where}.entity", "unknown_entity", f"there is no entity {dataset['entity']!r}"
                )
                continue
            if config is None:
                continue
            compiler = QueryCompiler(config, config.entities[dataset["entity"]])
            try:
                group_columns(compiler, dataset.get("group_by", []))
                metric_columns(compiler, aggregate_metrics(dataset))
                if dataset.get("filter") is not None:
                    compiler.compile_filter(dataset["filter"])
            except QueryError as error:
                detail = error.message.removeprefix(f"{error.path}: ")
                yield Problem(f"{where}.{error.path}", "invalid_report", detail)
        names = set(keys)
        for computed_index, computed in enumerate(spec.get("computed", [])):
            where = f"{path}.computed[{computed_index}].expression"
            try:
                result = evaluate(compile_expression(computed["expression"]), sample_row(names))
            except ExpressionError as error:
                yield Problem(where, "invalid_expression", str(error))
                continue
            except Exception as error:  # noqa: BLE001  (CEL's runtime errors)
                yield Problem(where, "invalid_expression", f"does not evaluate: {error}")
                continue
            if isinstance(result, bool) or not isinstance(result, int | float | str):
                yield Problem(where, "invalid_expression", "must give a number or a text")
            names.add(computed["key"])
        if spec.get("having"):
            try:
                result = evaluate(compile_expression(spec["having"]), sample_row(names))
            except Exception as error:  # noqa: BLE001
                yield Problem(f"{path}.having", "invalid_expression", str(error))
            else:
                if not isinstance(result, bool):
                    yield Problem(f"{path}.having", "invalid_expression", "must give a bool")
        columns = set(names) | {g for d in sets for g in group_names(d)}
        for sort_index, item in enumerate(spec.get("sort", [])):
            if item["key"] not in columns:
                yield Problem(
                    f"{path}.sort[{sort_index}].key", "unknown_value", f"no column {item['key']!r}"
                )
        for value_index, key in enumerate(spec.get("chart", {}).get("values", [])):
            if key not in names:
                yield Problem(
                    f"{path}.chart.values[{value_index}]", "unknown_value", f"no value {key!r}"
                )


def sample_row(names) -> dict:
    return dict.fromkeys(names, 2.0)


def evaluate(program, row: dict, today: float | None = None) -> Any:
    return program.execute({"row": row, "today": today_days() if today is None else today})


# -- running ------------------------------------------------------------------------------


@dataclass
class ReportResult:
    spec: dict
    groups: list[str]  # the primary dataset's group names
    values: list[str]  # metric and computed keys, in order
    rows: list[dict] = field(default_factory=list)  # {"group": [...], key: value, ...}


def run_report(service, spec: dict) -> ReportResult:
    """Every dataset through ``service.aggregate`` (the user's scope), merged, computed,
    filtered, sorted and cut."""
    sets = datasets(spec)
    merged: dict[tuple, dict] = {}
    for dataset in sets:
        names = group_names(dataset)
        found = service.aggregate(
            dataset["entity"],
            filter_tree=dataset.get("filter"),
            group_by=dataset.get("group_by", []),
            metrics=aggregate_metrics(dataset),
        )
        for item in found:
            key = tuple(item["group"].get(name) for name in names)
            row = merged.setdefault(key, {"group": list(key)})
            row.update({m["key"]: item.get(m["key"]) for m in dataset["metrics"]})
    rows = list(merged.values())
    programs = [(c["key"], compile_expression(c["expression"])) for c in spec.get("computed", [])]
    having = compile_expression(spec["having"]) if spec.get("having") else None
    keys = [m["key"] for d in sets for m in d["metrics"]]
    today = today_days()
    kept = []
    for row in rows:
        for key in keys:
            row.setdefault(key, None)
        numbers = {key: as_double(row.get(key)) for key in keys}
        for key, program in programs:
            try:
                value = evaluate(program, numbers, today)
            except Exception:  # noqa: BLE001  (an integer division by zero, say)
                value = None
            if isinstance(value, float) and not math.isfinite(value):
                value = None
            row[key] = value
            numbers[key] = value if isinstance(value, str) else as_double(value)
        if having is None or evaluate(having, numbers, today) is True:
            kept.append(row)
    primary = group_names(spec)
    if not spec.get("sort") and primary:
        kept.sort(key=option_order(service.configuration(), spec, primary[0]))
    for item in reversed(spec.get("sort", [])):
        reverse = item.get("direction") == "desc"
        kept.sort(key=lambda row, k=item["key"]: sort_key(row, k, primary), reverse=reverse)
    if spec.get("limit"):
        kept = kept[: spec["limit"]]
    return ReportResult(spec, primary, [*keys, *(k for k, _ in programs)], kept)


EPOCH = dt.date(1970, 1, 1)


def option_order(config, spec: dict, name: str):
    """Rows by the first group as a choice field lists its options (a funnel's stages in
    their order), else as they came."""
    field_ = config.entities[spec["entity"]].fields.get(name)
    if field_ is None or field_.options["type"] != "choice":
        return lambda row: 0
    order = {o["value"]: i for i, o in enumerate(field_.options.get("options", []))}
    return lambda row: order.get(row["group"][0], len(order))


def as_double(value: Any) -> float:
    """A value as CEL reads it in ``row``: numbers as doubles, dates (a min or max of a date
    field) as days since 1970-01-01, so ``today - row.last_order`` counts days."""
    if value is None:
        return 0.0
    if isinstance(value, Decimal | int | float):
        return float(value)
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        try:
            return float((dt.date.fromisoformat(value[:10]) - EPOCH).days)
        except ValueError:
            return 0.0
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def today_days() -> float:
    return float((dt.datetime.now(dt.UTC).date() - EPOCH).days)


def sort_key(row: dict, key: str, groups: list[str]):
    value = row["group"][groups.index(key)] if key in groups else row.get(key)
    return (value is None, value if value is not None else 0)
