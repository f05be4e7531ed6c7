"""Choices from an ordered list of options."""

from typing import Any

from metadata.fieldtypes.base import (
    CEL_LIST,
    EQUALITY,
    FieldType,
    FieldValueError,
    Problem,
    register,
)

OPTION_VALUE = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,62}$"}
OPTIONS_SCHEMA = {
    "options": {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "required": ["value"],
            "properties": {
                "value": OPTION_VALUE,
                "label": {"$ref": "#/$defs/label"},
                "color": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
                "inactive": {"type": "boolean"},
                "probability": {"type": "number", "minimum": 0, "maximum": 100},
            },
            "additionalProperties": False,
        },
    },
}


def check_option_values(field: dict, path: str):
    seen = set()
    for index, option in enumerate(field.get("options", [])):
        if option["value"] in seen:
            yield Problem(
                f"{path}.options[{index}].value",
                "duplicate_option",
                f"the option {option['value']!r} appears twice",
            )
        seen.add(option["value"])


def option_values(field: dict, *, active_only: bool) -> list[str]:
    return [o["value"] for o in field.get("options", []) if not (active_only and o.get("inactive"))]


@register
class Choice(FieldType):
    key = "choice"
    grouping_statistics = True
    description = "One value from an ordered list of options (with labels, colour, inactive flag)."
    option_schema = OPTIONS_SCHEMA
    required_options = ("options",)
    filter_operators = EQUALITY
    widget = "select"
    graphql_type = "Enum"

    def check_options(self, field, path, ctx):
        yield from check_option_values(field, path)

    def normalize(self, value: Any, field: dict) -> str:
        if not isinstance(value, str):
            raise FieldValueError("invalid_type", f"expected an option value, got {value!r}")
        if value not in option_values(field, active_only=True):
            known = ", ".join(option_values(field, active_only=True))
            raise FieldValueError("unknown_option", f"{value!r} is not one of: {known}")
        return value

    def cel_sample(self, field, variant):
        values = option_values(field, active_only=False) or ["x"]
        return values[variant % len(values)]


@register
class MultiChoice(FieldType):
    key = "multi_choice"
    description = "Several values from an ordered list of options."
    option_schema = OPTIONS_SCHEMA
    required_options = ("options",)
    cel_type = CEL_LIST
    filter_operators = ("contains", "is_null")
    sortable = False
    widget = "multiselect"
    graphql_type = "[Enum]"

    def check_options(self, field, path, ctx):
        yield from check_option_values(field, path)

    def normalize(self, value: Any, field: dict) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise FieldValueError("invalid_type", "expected a list of option values")
        allowed = option_values(field, active_only=True)
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise FieldValueError(
                "unknown_option", f"{unknown[0]!r} is not one of: " + ", ".join(allowed)
            )
        return [v for v in allowed if v in set(value)]  # option order, no duplicates

    def cel_sample(self, field, variant):
        return option_values(field, active_only=False)[: variant + 1]
