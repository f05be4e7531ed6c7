"""References to other records and to users."""

from typing import Any

from metadata.fieldtypes.base import (
    CEL_INT,
    CEL_LIST,
    EQUALITY,
    FieldType,
    FieldValueError,
    Problem,
    register,
)

TARGET = {"target": {"$ref": "#/$defs/key"}}


def record_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise FieldValueError("invalid_reference", f"expected a record id, got {value!r}")
    return value


def check_target(field: dict, path: str, ctx):
    if field["target"] not in ctx.entity_keys:
        yield Problem(
            f"{path}.target",
            "unknown_entity",
            f"the target entity {field['target']!r} does not exist",
        )


@register
class Lookup(FieldType):
    key = "lookup"
    description = "A reference to one record of the target entity."
    option_schema = {**TARGET, "on_delete": {"enum": ["restrict", "set_null", "cascade"]}}
    required_options = ("target",)
    cel_type = CEL_INT
    filter_operators = EQUALITY
    widget = "lookup"
    graphql_type = "Relation"

    def check_options(self, field, path, ctx):
        yield from check_target(field, path, ctx)
        if field.get("on_delete") == "set_null" and field.get("required"):
            yield Problem(
                f"{path}.on_delete",
                "set_null_required",
                "a required lookup cannot be set to null when its target is deleted",
            )

    def normalize(self, value: Any, field: dict) -> int:
        return record_id(value)

    def cel_sample(self, field, variant):
        return [1, 2][variant]


@register
class MultiLookup(FieldType):
    key = "multi_lookup"
    description = "References to several records of the target entity."
    option_schema = TARGET
    required_options = ("target",)
    cel_type = CEL_LIST
    filter_operators = ("contains", "is_null")
    sortable = False
    can_be_indexed = False
    widget = "multilookup"
    graphql_type = "[Relation]"

    def check_options(self, field, path, ctx):
        yield from check_target(field, path, ctx)

    def normalize(self, value: Any, field: dict) -> list[int]:
        if not isinstance(value, list):
            raise FieldValueError("invalid_type", "expected a list of record ids")
        return sorted({record_id(item) for item in value})

    def cel_sample(self, field, variant):
        return [[1], [1, 2]][variant]


@register
class UserRef(FieldType):
    key = "user"
    description = "A user of the tenant."
    cel_type = CEL_INT
    filter_operators = (*EQUALITY, "is_me")
    widget = "user"
    graphql_type = "User"

    def normalize(self, value: Any, field: dict) -> int:
        return record_id(value)

    def cel_sample(self, field, variant):
        return [1, 2][variant]
