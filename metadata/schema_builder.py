"""Builds the configuration JSON Schema from the field-type registry.

``metadata/schema/config.schema.json`` is this function's output, committed so that editors,
docs and integrators can read it; a test fails when the file and the registry disagree
(``python manage.py config schema --write`` refreshes it).
"""

from __future__ import annotations

import json
from pathlib import Path

from metadata.fieldtypes import field_types
from metadata.registry import type_branches
from records.reports import report_schema
from ui_builder.schema import dashboard_schema, layout_schema
from workflows.actions import actions
from workflows.approvers import approver_kinds
from workflows.schema import action_schema, approver_schema, workflow_schema

SCHEMA_PATH = Path(__file__).parent / "schema" / "config.schema.json"
LOCALES = ["en", "zh-Hans"]
KEY_PATTERN = "^[a-z][a-z0-9_]{0,62}$"
SCOPES = ("none", "own", "team", "subordinates", "all")
FIELD_ACCESS = ("hidden", "read", "edit")
SPECIAL_PERMISSIONS = (
    "export",
    "import",
    "mass_update",
    "configure",
    "view_audit",
    "edit_locked",  # change records waiting for an approval
)

COMMON_FIELD_OPTIONS = {
    "key": {"$ref": "#/$defs/key", "description": "API name, snake_case, stable once published."},
    "type": {"enum": None, "description": "The field type."},
    "label": {"$ref": "#/$defs/label"},
    "help": {"$ref": "#/$defs/label"},
    "required": {"type": "boolean"},
    "unique": {"type": "boolean"},
    "indexed": {"type": "boolean"},
    "searchable": {"type": "boolean"},
    "read_only": {"type": "boolean"},
    "default": {
        "description": 'A literal value, or {"cel": "expression"} computed at creation.',
    },
    "renamed_from": {
        "$ref": "#/$defs/key",
        "description": "The key this field had in the active version: a rename, not a removal.",
    },
}


def field_schema() -> dict:
    branches = type_branches(field_types, "option_schema", "required_options")
    common = dict(COMMON_FIELD_OPTIONS)
    common["type"] = {**common["type"], "enum": field_types.keys()}
    return {
        "type": "object",
        "required": ["key", "type"],
        "properties": common,
        "allOf": branches,
        "unevaluatedProperties": False,
    }


def schema_sources() -> tuple:
    """What :func:`build_schema` reads that can change at run time: the registered types (the
    instances themselves, so a type registered anew is seen even under an old key)."""
    return tuple(tuple(registry.items()) for registry in (field_types, actions, approver_kinds))


def build_schema() -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://crm-platform.example/schemas/config.schema.json",
        "title": "Tenant configuration",
        "description": "One tenant's CRM: entities, fields, rules, roles, layouts, workflows.",
        "type": "object",
        "required": ["format", "locales", "entities"],
        "properties": {
            "format": {"const": 1},
            "locales": {
                "type": "array",
                "items": {"enum": LOCALES},
                "minItems": 1,
                "uniqueItems": True,
            },
            "entities": {"type": "array", "items": {"$ref": "#/$defs/entity"}},
            "roles": {
                "type": "array",
                "description": "Role permissions: what users holding each role may do.",
                "items": {"$ref": "#/$defs/role"},
            },
            "sharing_rules": {
                "type": "array",
                "description": "Records matching a condition, shared with roles or teams.",
                "items": {"$ref": "#/$defs/sharing_rule"},
            },
            "layouts": {
                "type": "array",
                "description": "Forms, lists, kanban boards and calendars (docs/layouts.md).",
                "items": {"$ref": "#/$defs/layout"},
            },
            "workflows": {
                "type": "array",
                "description": "Automations and state machines (docs/workflows.md).",
                "items": {"$ref": "#/$defs/workflow"},
            },
            "reports": {
                "type": "array",
                "description": "Grouped metrics over records, with charts (docs/reports.md).",
                "items": {"$ref": "#/$defs/report"},
            },
            "dashboards": {
                "type": "array",
                "description": "Reports arranged per role (docs/reports.md).",
                "items": {"$ref": "#/$defs/dashboard"},
            },
        },
        "additionalProperties": False,
        "$defs": {
            "workflow": workflow_schema(),
            "layout": layout_schema(),
            "report": report_schema(),
            "dashboard": dashboard_schema(),
            "action": action_schema(),
            "approver": approver_schema(),
            "key": {"type": "string", "pattern": KEY_PATTERN},
            "label": {
                "type": "object",
                "propertyNames": {"enum": LOCALES},
                "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 200},
                "minProperties": 1,
            },
            "entity": {
                "type": "object",
                "required": ["key", "plural_key", "label", "fields"],
                "properties": {
                    "key": {"$ref": "#/$defs/key"},
                    "plural_key": {"$ref": "#/$defs/key"},
                    "label": {"$ref": "#/$defs/label"},
                    "plural_label": {"$ref": "#/$defs/label"},
                    "title_field": {"$ref": "#/$defs/key"},
                    "icon": {"type": "string", "maxLength": 64},
                    "track_history": {"type": "boolean"},
                    "unique_together": {
                        "type": "array",
                        "items": {
                            "type": "array",
                            "items": {"$ref": "#/$defs/key"},
                            "minItems": 2,
                            "uniqueItems": True,
                        },
                        "description": "groups of fields no two records may share all the "
                        "values of (a price list holds a product once)",
                    },
                    "conflicts": {
                        "type": "array",
                        "description": "records whose time ranges overlap and that share the "
                        "same fields (a double-booked meeting): a warning, not a refusal",
                        "items": {
                            "type": "object",
                            "required": ["key", "start", "end", "same"],
                            "properties": {
                                "key": {"$ref": "#/$defs/key"},
                                "start": {"$ref": "#/$defs/key"},
                                "end": {"$ref": "#/$defs/key"},
                                "same": {
                                    "type": "array",
                                    "items": {"$ref": "#/$defs/key"},
                                    "uniqueItems": True,
                                    "description": "fields both share (owner: the owner)",
                                },
                                "filter": {"type": "string", "minLength": 1},
                                "message": {"$ref": "#/$defs/label"},
                            },
                            "additionalProperties": False,
                        },
                    },
                    "owner_fields": {
                        "type": "array",
                        "items": {"$ref": "#/$defs/key"},
                        "uniqueItems": True,
                        "description": "user fields whose user counts as an owner for the "
                        "roles' scopes (own, team, subordinates): the rep of a sales target",
                    },
                    "duplicate_check": {
                        "type": "array",
                        "items": {"$ref": "#/$defs/key"},
                        "uniqueItems": True,
                    },
                    "renamed_from": {"$ref": "#/$defs/key"},
                    "fields": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/field"}},
                    "validations": {"type": "array", "items": {"$ref": "#/$defs/validation"}},
                },
                "additionalProperties": False,
            },
            "field": field_schema(),
            "scope": {
                "enum": list(SCOPES),
                "description": "Which records: none, the user's own, the user's teams', the "
                "user's and their reports' (transitively), or all.",
            },
            "role": {
                "type": "object",
                "required": ["key", "label"],
                "properties": {
                    "key": {"$ref": "#/$defs/key"},
                    "label": {"$ref": "#/$defs/label"},
                    "description": {"$ref": "#/$defs/label"},
                    "permissions": {
                        "type": "array",
                        "items": {"enum": list(SPECIAL_PERMISSIONS)},
                        "uniqueItems": True,
                        "description": "Special permissions beyond records.",
                    },
                    "entities": {
                        "type": "object",
                        "description": 'Access per entity key; "*" applies to every entity '
                        "the role does not name.",
                        "propertyNames": {"anyOf": [{"$ref": "#/$defs/key"}, {"const": "*"}]},
                        "additionalProperties": {"$ref": "#/$defs/entity_access"},
                    },
                },
                "additionalProperties": False,
            },
            "entity_access": {
                "type": "object",
                "properties": {
                    "create": {"type": "boolean"},
                    "read": {"$ref": "#/$defs/scope"},
                    "update": {"$ref": "#/$defs/scope"},
                    "delete": {"$ref": "#/$defs/scope"},
                    "fields": {
                        "type": "object",
                        "description": "Field-level access; fields not named are editable.",
                        "propertyNames": {"$ref": "#/$defs/key"},
                        "additionalProperties": {"enum": list(FIELD_ACCESS)},
                    },
                },
                "additionalProperties": False,
            },
            "sharing_rule": {
                "type": "object",
                "required": ["key", "entity", "condition", "access"],
                "properties": {
                    "key": {"$ref": "#/$defs/key"},
                    "label": {"$ref": "#/$defs/label"},
                    "entity": {"$ref": "#/$defs/key"},
                    "condition": {
                        "type": "string",
                        "minLength": 1,
                        "description": "A CEL expression over `record`: the records shared.",
                    },
                    "access": {"enum": ["read", "edit"]},
                    "roles": {"type": "array", "items": {"$ref": "#/$defs/key"}},
                    "teams": {
                        "type": "array",
                        "items": {"$ref": "#/$defs/key"},
                        "description": "Team keys (teams are the tenant's data, not config).",
                    },
                },
                "additionalProperties": False,
            },
            "validation": {
                "type": "object",
                "required": ["key", "rule", "message"],
                "properties": {
                    "key": {"$ref": "#/$defs/key"},
                    "rule": {
                        "type": "string",
                        "minLength": 1,
                        "description": "A CEL expression over `record` that must hold.",
                    },
                    "message": {"$ref": "#/$defs/label"},
                    "fields": {"type": "array", "items": {"$ref": "#/$defs/key"}},
                },
                "additionalProperties": False,
            },
        },
    }


def schema_text() -> str:
    return json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"


def load_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())
