"""The config JSON Schema, reshaped for the django-jsonform editor.

The editor draws a form from a schema but understands only part of JSON Schema: no
``if``/``then``, no ``propertyNames``, no value without a type. This module turns a part of the
configuration schema into what the editor draws, without losing what the consultant may write:

- ``$ref`` is inlined;
- ``allOf`` branches of ``if``/``then`` are merged: those whose ``if`` holds for the item being
  edited (a text field gets the text options), or all of them for a new, nested item;
- an object keyed by an ``enum`` of names (labels: ``en``, ``zh-Hans``) gets one input per name;
- a value of any type (a default value, a filter tree) is edited as JSON text (``x-json``);
- what only the validator needs (patterns, lengths, ``const``) is left out: the full schema and
  the meaning checks run on every save and their problems are shown at the element they name.

:func:`to_editor` and :func:`from_editor` convert data to and from what the editor holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from django_jsonform.utils import join_coords

KEPT = {
    "type",
    "enum",
    "choices",
    "required",
    "title",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "default",
    "widget",
    "readonly",
    "placeholder",
}
MAX_DEPTH = 12


def _resolve(node: dict, root: dict) -> dict:
    while "$ref" in node:
        pointer = node["$ref"].removeprefix("#/").split("/")
        target = root
        for part in pointer:
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _merged(node: dict, root: dict, item: Any) -> dict:
    """``node`` with the ``then`` of each ``allOf`` branch that applies to ``item`` merged in."""
    node = dict(node)
    properties = dict(node.get("properties", {}))
    required = list(node.get("required", []))
    for branch in node.pop("allOf", []):
        branch = _resolve(branch, root)
        if "if" in branch:
            applies = item is None or (
                isinstance(item, dict)
                and jsonschema.Draft202012Validator(branch["if"]).is_valid(item)
            )
            if not applies:
                continue
            branch = _resolve(branch.get("then", {}), root)
            if item is None:  # merged from several branches: nothing of theirs is required
                branch = {k: v for k, v in branch.items() if k != "required"}
        for key, value in branch.get("properties", {}).items():
            properties.setdefault(key, value)
        required += [k for k in branch.get("required", []) if k not in required]
    node["properties"] = properties
    node["required"] = required
    return node


def editor_schema(node: dict, root: dict, item: Any = None, depth: int = 0) -> dict:
    """The editor's schema for ``node`` (a part of ``root``), fitted to ``item``'s data."""
    node = _resolve(node, root)
    description = node.get("description")
    if depth > MAX_DEPTH:
        return _json_text(description)
    if "allOf" in node:
        node = _merged(node, root, item)
    shaped: dict[str, Any] = {k: v for k, v in node.items() if k in KEPT}
    if description:
        shaped["help_text"] = description
    if "const" in node:
        return {"type": _type_of(node["const"]), "enum": [node["const"]], "readonly": True}
    if "oneOf" in node or "anyOf" in node:
        options = node.get("oneOf") or node.get("anyOf")
        shaped["oneOf"] = [
            {"title": _option_title(o, root), **editor_schema(o, root, None, depth + 1)}
            for o in options
        ]
        return shaped
    kind = node.get("type")
    if kind is None and "enum" in node:
        shaped["type"] = _type_of(node["enum"][0]) if node["enum"] else "string"
        return shaped
    if kind == "object" or "properties" in node:
        shaped["type"] = "object"
        names = (node.get("propertyNames") or {}).get("enum")
        properties = dict(node.get("properties", {}))
        extra = node.get("additionalProperties")
        if names and isinstance(extra, dict):
            for name in names:
                properties.setdefault(name, extra)
            extra = None
        shaped["properties"] = {
            key: {
                "title": key,
                **editor_schema(
                    value, root, item.get(key) if isinstance(item, dict) else None, depth + 1
                ),
            }
            for key, value in properties.items()
        }
        if isinstance(extra, dict):
            shaped["additionalProperties"] = editor_schema(extra, root, None, depth + 1)
        elif not properties and extra is not False:
            return _json_text(description)
        shaped["required"] = [k for k in node.get("required", []) if k in properties]
        return shaped
    if kind == "array" or "items" in node:
        shaped["type"] = "array"
        shaped["items"] = editor_schema(node.get("items", {}), root, None, depth + 1)
        return shaped
    if kind is None:
        return _json_text(description)
    if isinstance(kind, list):
        shaped["type"] = next((k for k in kind if k != "null"), "string")
    if node.get("maxLength", 0) > 200 or "expression" in (description or "").lower():
        shaped["widget"] = "textarea"
    return shaped


def _json_text(description: str | None) -> dict:
    return {
        "type": "string",
        "widget": "textarea",
        "x-json": True,
        "help_text": ((description + " ") if description else "") + "(JSON)",
    }


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def _option_title(option: dict, root: dict) -> str:
    option = _resolve(option, root)
    if option.get("title"):
        return option["title"]
    if option.get("type") == "object":
        return "object"
    return "name" if option.get("type") == "string" else str(option.get("type", "value"))


# -- data ---------------------------------------------------------------------------------


def to_editor(value: Any, schema: dict) -> Any:
    """``value`` as the editor holds it: JSON text where the schema says ``x-json``."""
    if schema.get("x-json"):
        return "" if value is None else json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict) and "properties" in schema:
        extra = schema.get("additionalProperties")
        return {
            k: to_editor(v, schema["properties"].get(k) or extra)
            for k, v in value.items()
            if k in schema["properties"] or extra
        }
    if isinstance(value, list) and "items" in schema:
        return [to_editor(v, schema["items"]) for v in value]
    return value


@dataclass
class EditorProblems:
    """Problems found turning the editor's data back into configuration, by path."""

    items: list[tuple[tuple, str]] = field(default_factory=list)

    def add(self, path: tuple, message: str) -> None:
        self.items.append((path, message))


EMPTY = ("", None, {}, [])


def from_editor(value: Any, schema: dict, problems: EditorProblems, path: tuple = ()) -> Any:
    """The configuration from the editor's data: JSON text parsed, empty optional values
    dropped (the editor sends every input, filled or not)."""
    if schema.get("x-json"):
        if not isinstance(value, str) or not value.strip():
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            problems.add(path, f"This is not valid JSON: {error.msg} (line {error.lineno}).")
            return None
    if isinstance(value, dict) and schema.get("type") == "object":
        extra = schema.get("additionalProperties") or {}
        result = {}
        for key, item in value.items():
            converted = from_editor(
                item, schema.get("properties", {}).get(key) or extra, problems, (*path, key)
            )
            if converted in EMPTY:  # a required one missing is named by the validator
                continue
            result[key] = converted
        return result
    if isinstance(value, list) and schema.get("type") == "array":
        converted = [
            from_editor(v, schema.get("items", {}), problems, (*path, i))
            for i, v in enumerate(value)
        ]
        return [v for v in converted if v not in ("", None)]
    return value


# -- problems at their element ------------------------------------------------------------


def parse_path(text: str) -> tuple:
    """``entities[2].fields[5].expression`` -> ("entities", 2, "fields", 5, "expression")."""
    parts: list = []
    for chunk in text.replace("[", ".[").split("."):
        if not chunk:
            continue
        if chunk.startswith("[") and chunk.endswith("]") and chunk[1:-1].isdigit():
            parts.append(int(chunk[1:-1]))
        else:
            parts.append(chunk)
    return tuple(parts)


def shown_at(path: tuple, schema: dict) -> tuple:
    """The deepest element on ``path`` the editor draws (JSON text shows its whole value)."""
    shown: list = []
    node = schema
    for part in path:
        if node.get("x-json"):
            break
        if isinstance(part, int) and "items" in node:
            node = node["items"]
        elif isinstance(part, str) and part in node.get("properties", {}):
            node = node["properties"][part]
        elif isinstance(part, str) and isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            break
        shown.append(part)
    return tuple(shown)


def error_map(problems: list[tuple[tuple, str]], schema: dict) -> dict[str, list[str]]:
    """django-jsonform's error map: messages by the editor coordinates of their element."""
    errors: dict[str, list[str]] = {}
    for path, message in problems:
        errors.setdefault(join_coords(*shown_at(path, schema)), []).append(message)
    return errors
