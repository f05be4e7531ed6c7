"""Structural differences between two configuration documents, as JSON and as text."""

from __future__ import annotations

import json
from typing import Any

SECTIONS = ("roles", "sharing_rules", "layouts", "workflows", "reports", "dashboards")
ENTITY_PARTS = ("fields", "validations")


def _by_key(items: list[dict]) -> dict[str, dict]:
    return {
        item["key"]: item
        for item in items or []
        if isinstance(item, dict) and isinstance(item.get("key"), str)
    }


def _option_changes(old: dict, new: dict, ignore: tuple[str, ...]) -> dict:
    changes = {}
    for name in sorted(set(old) | set(new)):
        if name in ignore:
            continue
        if old.get(name) != new.get(name):
            changes[name] = {"from": old.get(name), "to": new.get(name)}
    return changes


def _match(old: dict[str, dict], new: dict[str, dict]) -> tuple[list, list, list, list]:
    """Added, removed, renamed ({from, to}) and kept keys; a rename is declared by the new item."""
    renamed = [
        {"from": item["renamed_from"], "to": key}
        for key, item in new.items()
        if item.get("renamed_from") in old and item["renamed_from"] not in new and key not in old
    ]
    renamed_to = {r["to"] for r in renamed}
    renamed_from = {r["from"] for r in renamed}
    added = sorted(k for k in new if k not in old and k not in renamed_to)
    removed = sorted(k for k in old if k not in new and k not in renamed_from)
    kept = [(k, k) for k in new if k in old] + [(r["from"], r["to"]) for r in renamed]
    return added, removed, renamed, kept


def _keyed_diff(old_items, new_items, ignore=("key", "renamed_from")) -> dict:
    old, new = _by_key(old_items), _by_key(new_items)
    added, removed, renamed, kept = _match(old, new)
    changed = {}
    for old_key, new_key in kept:
        options = _option_changes(old[old_key], new[new_key], ignore)
        if options:
            changed[new_key] = options
    return {"added": added, "removed": removed, "renamed": renamed, "changed": changed}


def _is_empty(diff: Any) -> bool:
    if isinstance(diff, dict):
        return all(_is_empty(value) for value in diff.values())
    return not diff


def diff_documents(old: dict | None, new: dict) -> dict:
    old = old or {}
    result: dict[str, Any] = {}
    if old.get("locales") != new.get("locales"):
        result["locales"] = {"from": old.get("locales"), "to": new.get("locales")}
    old_entities, new_entities = _by_key(old.get("entities")), _by_key(new.get("entities"))
    added, removed, renamed, kept = _match(old_entities, new_entities)
    changed = {}
    for old_key, new_key in kept:
        before, after = old_entities[old_key], new_entities[new_key]
        entry = {"options": _option_changes(before, after, ("key", "renamed_from", *ENTITY_PARTS))}
        for part in ENTITY_PARTS:
            entry[part] = _keyed_diff(before.get(part), after.get(part))
        if not _is_empty(entry):
            changed[new_key] = entry
    result["entities"] = {
        "added": added,
        "removed": removed,
        "renamed": renamed,
        "changed": changed,
    }
    for section in SECTIONS:
        result[section] = _keyed_diff(old.get(section), new.get(section), ignore=("key",))
    return result


def is_empty(diff: dict) -> bool:
    return _is_empty(diff)


def _value(value: Any) -> str:
    if value is None:
        return "—"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def diff_text(diff: dict) -> str:
    """Readable lines: ``+`` added, ``-`` removed, ``>`` renamed, ``~`` changed."""
    lines: list[str] = []
    if "locales" in diff:
        lines.append(f"~ locales: {diff['locales']['from']} → {diff['locales']['to']}")
    entities = diff["entities"]
    lines += [f"+ entity {key}" for key in entities["added"]]
    lines += [f"- entity {key}" for key in entities["removed"]]
    lines += [f"> entity {r['from']} → {r['to']}" for r in entities["renamed"]]
    for key, entry in entities["changed"].items():
        for option, change in entry["options"].items():
            lines.append(
                f"~ entity {key}: {option} {_value(change['from'])} → {_value(change['to'])}"
            )
        for part, noun in (("fields", "field"), ("validations", "validation")):
            part_diff = entry[part]
            lines += [f"+ {noun} {key}.{k}" for k in part_diff["added"]]
            lines += [f"- {noun} {key}.{k}" for k in part_diff["removed"]]
            lines += [f"> {noun} {key}.{r['from']} → {key}.{r['to']}" for r in part_diff["renamed"]]
            for item, options in part_diff["changed"].items():
                for option, change in options.items():
                    lines.append(
                        f"~ {noun} {key}.{item}: {option} {_value(change['from'])} → "
                        f"{_value(change['to'])}"
                    )
    for section in SECTIONS:
        noun = section[:-1]
        part = diff[section]
        lines += [f"+ {noun} {k}" for k in part["added"]]
        lines += [f"- {noun} {k}" for k in part["removed"]]
        lines += [f"> {noun} {r['from']} → {r['to']}" for r in part["renamed"]]
        lines += [f"~ {noun} {k}: {', '.join(options)}" for k, options in part["changed"].items()]
    return "\n".join(lines) if lines else "no differences"
