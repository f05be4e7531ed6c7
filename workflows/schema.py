"""The JSON Schema of the configuration's ``workflows`` section (merged into
``metadata/schema/config.schema.json`` by metadata/schema_builder.py)."""

from __future__ import annotations

from workflows.actions import actions

WORKFLOW_TYPES = ("automation", "state_machine")
TRIGGERS = ("create", "update", "create_or_update", "delete", "field_change", "date")
# ISO 8601 durations, a minus sign meaning before: "-P3D" is three days before.
DURATION = (
    r"^-?P(?!$)([0-9]+Y)?([0-9]+M)?([0-9]+W)?([0-9]+D)?(T(?=[0-9])([0-9]+H)?([0-9]+M)?([0-9]+S)?)?$"
)


def action_schema() -> dict:
    branches = []
    for key, action in actions.items():
        then: dict = {"properties": dict(action.params_schema)}
        if action.required_params:
            then["required"] = list(action.required_params)
        branches.append(
            {"if": {"properties": {"type": {"const": key}}, "required": ["type"]}, "then": then}
        )
    return {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"enum": actions.keys(), "description": "The action type."},
            "label": {"$ref": "#/$defs/label"},
        },
        "allOf": branches,
        "unevaluatedProperties": False,
    }


def workflow_schema() -> dict:
    states = {
        "oneOf": [
            {"type": "string", "minLength": 1},
            {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        ]
    }
    action_list = {"type": "array", "items": {"$ref": "#/$defs/action"}}
    automation = {
        "required": ["trigger", "actions"],
        "properties": {
            "trigger": {
                "type": "object",
                "required": ["on"],
                "properties": {
                    "on": {"enum": list(TRIGGERS)},
                    "fields": {
                        "type": "array",
                        "items": {"$ref": "#/$defs/key"},
                        "minItems": 1,
                        "description": "field_change: any of these fields changed",
                    },
                    "field": {"$ref": "#/$defs/key", "description": "date: the date field"},
                    "offset": {
                        "type": "string",
                        "pattern": DURATION,
                        "description": 'date: ISO 8601 duration from the date, "-P3D" before',
                    },
                },
                "additionalProperties": False,
            },
            "condition": {"type": "string", "minLength": 1},
            "actions": {**action_list, "minItems": 1},
        },
    }
    state_machine = {
        "required": ["field", "transitions"],
        "properties": {
            "field": {"$ref": "#/$defs/key"},
            "initial": {**states, "description": "the states a new record may start in"},
            "transitions": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["from", "to"],
                    "properties": {
                        "key": {"$ref": "#/$defs/key"},
                        "label": {"$ref": "#/$defs/label"},
                        "from": {**states, "description": 'a state, a list, or "*" for any'},
                        "to": {"type": "string", "minLength": 1},
                        "roles": {"type": "array", "items": {"$ref": "#/$defs/key"}},
                        "condition": {"type": "string", "minLength": 1},
                        "required_fields": {"type": "array", "items": {"$ref": "#/$defs/key"}},
                        "actions": action_list,
                    },
                    "additionalProperties": False,
                },
            },
        },
    }
    branches = [
        {"if": {"properties": {"type": {"const": kind}}, "required": ["type"]}, "then": then}
        for kind, then in (("automation", automation), ("state_machine", state_machine))
    ]
    return {
        "type": "object",
        "required": ["key", "type", "entity"],
        "properties": {
            "key": {"$ref": "#/$defs/key"},
            "type": {"enum": list(WORKFLOW_TYPES)},
            "label": {"$ref": "#/$defs/label"},
            "entity": {"$ref": "#/$defs/key"},
            "active": {"type": "boolean", "description": "false: kept but not run"},
        },
        "allOf": branches,
        "unevaluatedProperties": False,
    }
