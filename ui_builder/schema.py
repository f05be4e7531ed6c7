"""The JSON Schema of the configuration's ``layouts`` section (merged into
``metadata/schema/config.schema.json`` by metadata/schema_builder.py): forms, lists, kanban
boards and calendars, each assigned to roles or the entity's default."""

from __future__ import annotations

LAYOUT_TYPES = ("form", "list", "kanban", "calendar")
CONDITIONS = ("visible_if", "required_if", "read_only_if")


def layout_schema() -> dict:
    cel = {"type": "string", "minLength": 1}
    conditions = dict.fromkeys(CONDITIONS, cel)
    field_element = {
        "oneOf": [
            {"$ref": "#/$defs/key", "title": "field"},
            {
                "title": "field with conditions",
                "type": "object",
                "required": ["field"],
                "properties": {"field": {"$ref": "#/$defs/key"}, **conditions},
                "additionalProperties": False,
            },
        ]
    }
    related = {
        "type": "object",
        "required": ["entity", "via"],
        "properties": {
            "entity": {"$ref": "#/$defs/key", "description": "the child entity"},
            "via": {"$ref": "#/$defs/key", "description": "its lookup to this entity"},
            "label": {"$ref": "#/$defs/label"},
            "columns": {"type": "array", "items": {"$ref": "#/$defs/key"}},
            "editable": {"type": "boolean", "description": "edited inline (line items)"},
        },
        "additionalProperties": False,
    }
    section = {
        "type": "object",
        "properties": {
            "key": {"$ref": "#/$defs/key"},
            "label": {"$ref": "#/$defs/label"},
            "columns": {"type": "integer", "minimum": 1, "maximum": 4},
            "fields": {"type": "array", "items": field_element},
            "related": related,
            "visible_if": cel,
            "read_only_if": cel,
        },
        "additionalProperties": False,
    }
    tab = {
        "type": "object",
        "required": ["sections"],
        "properties": {
            "key": {"$ref": "#/$defs/key"},
            "label": {"$ref": "#/$defs/label"},
            "visible_if": cel,
            "sections": {"type": "array", "items": section, "minItems": 1},
        },
        "additionalProperties": False,
    }
    sort = {
        "type": "object",
        "required": ["field"],
        "properties": {
            "field": {"$ref": "#/$defs/key"},
            "direction": {"enum": ["asc", "desc"]},
        },
        "additionalProperties": False,
    }
    kinds = {
        "form": {
            "required": ["tabs"],
            "properties": {"tabs": {"type": "array", "items": tab, "minItems": 1}},
        },
        "list": {
            "required": ["columns"],
            "properties": {
                "columns": {"type": "array", "items": {"$ref": "#/$defs/key"}, "minItems": 1},
                "filter": {"type": "object", "description": "a filter tree (docs/records.md)"},
                "sort": {"type": "array", "items": sort},
                "page_size": {"type": "integer", "minimum": 1, "maximum": 500},
            },
        },
        "kanban": {
            "required": ["field"],
            "properties": {
                "field": {"$ref": "#/$defs/key", "description": "a choice field: the columns"},
                "card_fields": {"type": "array", "items": {"$ref": "#/$defs/key"}},
            },
        },
        "calendar": {
            "required": ["start_field"],
            "properties": {
                "start_field": {"$ref": "#/$defs/key"},
                "end_field": {"$ref": "#/$defs/key"},
                "title_field": {"$ref": "#/$defs/key"},
            },
        },
    }
    branches = [
        {"if": {"properties": {"type": {"const": kind}}, "required": ["type"]}, "then": then}
        for kind, then in kinds.items()
    ]
    return {
        "type": "object",
        "required": ["key", "type", "entity"],
        "properties": {
            "key": {"$ref": "#/$defs/key"},
            "type": {"enum": list(LAYOUT_TYPES)},
            "entity": {"$ref": "#/$defs/key"},
            "label": {"$ref": "#/$defs/label"},
            "roles": {
                "type": "array",
                "items": {"$ref": "#/$defs/key"},
                "description": "the roles it is for (a user with several takes the first found)",
            },
            "default": {"type": "boolean", "description": "for the roles no other layout names"},
        },
        "allOf": branches,
        "unevaluatedProperties": False,
    }


def dashboard_schema() -> dict:
    """A dashboard: reports in a grid of four columns, for roles (or every role's default)."""
    return {
        "type": "object",
        "required": ["key", "label", "widgets"],
        "properties": {
            "key": {"$ref": "#/$defs/key"},
            "label": {"$ref": "#/$defs/label"},
            "roles": {"type": "array", "items": {"$ref": "#/$defs/key"}},
            "default": {"type": "boolean", "description": "for the roles no dashboard names"},
            "widgets": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["report"],
                    "properties": {
                        "report": {"$ref": "#/$defs/key"},
                        "width": {"type": "integer", "minimum": 1, "maximum": 4},
                    },
                    "additionalProperties": False,
                },
            },
        },
        "additionalProperties": False,
    }
