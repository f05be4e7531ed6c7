"""The JSON Schema of the configuration's ``workflows`` section (merged into
``metadata/schema/config.schema.json`` by metadata/schema_builder.py)."""

from __future__ import annotations

from metadata.registry import type_branches
from workflows.actions import actions
from workflows.approvers import approver_kinds

WORKFLOW_TYPES = ("automation", "state_machine", "approval")
APPROVAL_PHASES = ("submitted", "step_approved", "approved", "rejected", "recalled", "escalated")
TRIGGERS = ("create", "update", "create_or_update", "delete", "field_change", "date")
# ISO 8601 durations, a minus sign meaning before: "-P3D" is three days before.
DURATION = (
    r"^-?P(?!$)([0-9]+Y)?([0-9]+M)?([0-9]+W)?([0-9]+D)?(T(?=[0-9])([0-9]+H)?([0-9]+M)?([0-9]+S)?)?$"
)


def action_schema() -> dict:
    branches = type_branches(actions, "params_schema", "required_params")
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


def approver_schema() -> dict:
    branches = type_branches(approver_kinds, "params_schema", "required_params")
    return {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": approver_kinds.keys()}},
        "allOf": branches,
        "unevaluatedProperties": False,
    }


def approval_schema() -> dict:
    approvers = {"type": "array", "items": {"$ref": "#/$defs/approver"}, "minItems": 1}
    return {
        "required": ["steps"],
        "properties": {
            "entry": {"type": "string", "minLength": 1, "description": "CEL: who may enter"},
            "submitters": {
                "type": "object",
                "properties": {
                    "roles": {"type": "array", "items": {"$ref": "#/$defs/key"}},
                    "owner": {"type": "boolean"},
                },
                "additionalProperties": False,
                "description": "who may submit (default: anyone who may change the record)",
            },
            "allow_self_approval": {"type": "boolean"},
            "lock": {"type": "boolean", "description": "records locked while pending (default)"},
            "steps": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["key", "approvers"],
                    "properties": {
                        "key": {"$ref": "#/$defs/key"},
                        "label": {"$ref": "#/$defs/label"},
                        "criteria": {"type": "string", "minLength": 1},
                        "approvers": approvers,
                        "mode": {"enum": ["any", "all"]},
                        "on_reject": {
                            "$ref": "#/$defs/key",
                            "description": "end (default), previous, or an earlier step's key",
                        },
                        "escalation": {
                            "type": "object",
                            "required": ["after"],
                            "properties": {
                                "after": {"type": "string", "pattern": DURATION},
                                "to": approvers,
                                "decide": {"enum": ["approve", "reject"]},
                            },
                            "additionalProperties": False,
                        },
                    },
                    "additionalProperties": False,
                },
            },
            "actions": {
                "type": "object",
                "propertyNames": {"enum": list(APPROVAL_PHASES)},
                "additionalProperties": {"type": "array", "items": {"$ref": "#/$defs/action"}},
            },
        },
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
        for kind, then in (
            ("automation", automation),
            ("state_machine", state_machine),
            ("approval", approval_schema()),
        )
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
