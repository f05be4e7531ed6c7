"""Values the platform computes: autonumbers, formulas and rollups."""

import re
from decimal import Decimal
from typing import Any

from metadata.cel_check import ExpressionError, referenced_fields
from metadata.fieldtypes.base import (
    CEL_BOOL,
    CEL_DOUBLE,
    CEL_INT,
    CEL_MAP,
    CEL_STRING,
    CEL_TIMESTAMP,
    ORDERED,
    TEXTUAL,
    FieldType,
    FieldValueError,
    Problem,
    register,
)

AUTONUMBER_TOKEN = re.compile(r"\{(YYYY|YY|MM|DD|0+)\}")
FORMULA_RESULT_TYPES = {
    "text": CEL_STRING,
    "integer": CEL_INT,
    "decimal": CEL_DOUBLE,
    "boolean": CEL_BOOL,
    "date": CEL_TIMESTAMP,
    "datetime": CEL_TIMESTAMP,
    "currency": CEL_MAP,  # {"amount": double, "currency": "CNY"}
}
ROLLUP_FUNCTIONS = ("count", "sum", "min", "max", "avg")
DATED_ROLLUPS = ("date", "datetime")


class Computed(FieldType):
    computed = True
    widget = "readonly"

    def normalize(self, value: Any, field: dict) -> Any:
        raise FieldValueError("read_only", "this value is computed and cannot be written")


@register
class Autonumber(Computed):
    key = "autonumber"
    description = "A number issued once per record from a pattern such as Q-{YYYY}-{0000}."
    option_schema = {
        "pattern": {"type": "string", "minLength": 1, "maxLength": 64},
        "start": {"type": "integer", "minimum": 0},
    }
    required_options = ("pattern",)
    filter_operators = TEXTUAL
    can_be_unique = True

    def check_options(self, field, path, ctx):
        counters = [t for t in AUTONUMBER_TOKEN.findall(field["pattern"]) if t.startswith("0")]
        if len(counters) != 1:
            yield Problem(
                f"{path}.pattern",
                "invalid_pattern",
                "the pattern needs exactly one counter such as {0000}",
            )
        leftover = AUTONUMBER_TOKEN.sub("", field["pattern"])
        if "{" in leftover or "}" in leftover:
            yield Problem(
                f"{path}.pattern",
                "invalid_pattern",
                "unknown token in the pattern; use {YYYY} {YY} {MM} {DD} {0000}",
            )

    def cel_sample(self, field, variant):
        return ["Q-2025-0001", "Q-2030-0420"][variant]


@register
class Formula(Computed):
    key = "formula"
    description = "A value computed by a CEL expression over the record's other fields."
    option_schema = {
        "expression": {"type": "string", "minLength": 1},
        "result_type": {"enum": list(FORMULA_RESULT_TYPES)},
        "scale": {"type": "integer", "minimum": 0, "maximum": 12},
    }
    required_options = ("expression", "result_type")
    filter_operators = ORDERED

    def cel_result_type(self, field):
        return FORMULA_RESULT_TYPES[field["result_type"]]

    def _result_type(self, field):
        from metadata.fieldtypes.base import field_types

        # Result types are named after the field types whose values they hold.
        return field_types.get(field["result_type"])

    def _result_options(self, field):
        return {"scale": field["scale"]} if "scale" in field else {}

    def graphql_type_for(self, field):
        return self._result_type(field).graphql_type

    def from_cel(self, value, field):
        return self._result_type(field).from_cel(value, self._result_options(field))

    def from_storage(self, stored, field):
        return self._result_type(field).from_storage(stored, self._result_options(field))

    def reader(self, field):
        return self._result_type(field).reader(self._result_options(field))

    def to_cel(self, stored, field):
        return self._result_type(field).to_cel(stored, self._result_options(field))

    def graphql_json_sql(self, stored, field):
        return self._result_type(field).graphql_json_sql(stored, self._result_options(field))

    def operators_for(self, field):
        return self._result_type(field).filter_operators

    def check_options(self, field, path, ctx):
        try:
            ctx.check_cel(field["expression"], expect=self.cel_result_type(field), related=True)
        except ExpressionError as error:
            yield Problem(f"{path}.expression", "invalid_expression", str(error))

    def references(self, field):
        return referenced_fields(field["expression"])

    def cel_sample(self, field, variant):
        return self._result_type(field).cel_sample({}, variant)


@register
class Rollup(Computed):
    key = "rollup"
    description = (
        "count, sum, min, max or avg of a field of the records that point here "
        "through a lookup, with an optional CEL filter; min and max of a date or date-time "
        "field (the last order's date) name it in result_type."
    )
    option_schema = {
        "source": {"$ref": "#/$defs/key"},
        "via": {"$ref": "#/$defs/key"},
        "function": {"enum": list(ROLLUP_FUNCTIONS)},
        "field": {"$ref": "#/$defs/key"},
        "filter": {"type": "string", "minLength": 1},
        "result_type": {
            "enum": list(DATED_ROLLUPS),
            "description": "date or datetime: min or max of a field of that type",
        },
    }
    required_options = ("source", "via", "function")
    filter_operators = ORDERED

    @staticmethod
    def dated(field: dict):
        """The date or date-time type a min or max of dates gives; None for numbers."""
        from metadata.fieldtypes.base import field_types

        result = field.get("result_type")
        return field_types.get(result) if result in DATED_ROLLUPS else None

    def cel_result_type(self, field):
        if dated := self.dated(field):
            return dated.cel_type
        return CEL_INT if field["function"] == "count" else CEL_DOUBLE

    def graphql_type_for(self, field):
        if dated := self.dated(field):
            return dated.graphql_type
        return "Int" if field["function"] == "count" else "Decimal"

    def from_storage(self, stored, field):
        # Counts are integers; other rollups are exact decimals kept as strings.
        if dated := self.dated(field):
            return dated.from_storage(stored, {})
        return stored if field["function"] == "count" else Decimal(stored)

    def reader(self, field):
        if dated := self.dated(field):
            return dated.reader({})
        return None if field["function"] == "count" else Decimal

    def to_cel(self, stored, field):
        if dated := self.dated(field):
            return dated.to_cel(stored, {})
        return stored if field["function"] == "count" else float(stored)

    def graphql_json_sql(self, stored, field):
        if dated := self.dated(field):
            return dated.graphql_json_sql(stored, {})
        return stored

    def operators_for(self, field):
        if dated := self.dated(field):
            return dated.filter_operators
        return self.filter_operators

    def check_options(self, field, path, ctx):
        source = ctx.entities.get(field["source"])
        if source is None:
            yield Problem(
                f"{path}.source",
                "unknown_entity",
                f"the source entity {field['source']!r} does not exist",
            )
            return
        source_fields = {f["key"]: f for f in source.get("fields", [])}
        via = source_fields.get(field["via"])
        if via is None or via["type"] != "lookup" or via.get("target") != ctx.entity["key"]:
            yield Problem(
                f"{path}.via",
                "invalid_rollup_path",
                f"{field['source']}.{field['via']} is not a lookup to {ctx.entity['key']}",
            )
        if field["function"] != "count":
            aggregated = source_fields.get(field.get("field", ""))
            if aggregated is None:
                yield Problem(
                    f"{path}.field",
                    "unknown_field",
                    f"{field['function']} needs a field of {field['source']}",
                )
            elif aggregated["type"] in DATED_ROLLUPS or field.get("result_type"):
                yield from self._check_dated(field, path, aggregated)
            elif aggregated["type"] not in (
                "integer",
                "decimal",
                "percent",
                "currency",
                "rollup",
            ) and not (
                aggregated["type"] == "formula"
                and aggregated.get("result_type") in ("integer", "decimal")
            ):
                yield Problem(
                    f"{path}.field",
                    "not_numeric",
                    f"{field['source']}.{aggregated['key']} is not numeric",
                )
        if field.get("filter"):
            try:
                ctx.check_cel(field["filter"], expect=CEL_BOOL, entity=source)
            except ExpressionError as error:
                yield Problem(f"{path}.filter", "invalid_expression", str(error))

    def _check_dated(self, field, path, aggregated):
        kind = aggregated["type"]
        if kind not in DATED_ROLLUPS:
            yield Problem(
                f"{path}.result_type",
                "result_type_mismatch",
                f"{field['source']}.{aggregated['key']} is a {kind}: result_type is for the "
                "min or max of a date or date-time",
            )
        elif field["function"] not in ("min", "max"):
            yield Problem(
                f"{path}.function",
                "not_numeric",
                f"{field['function']} needs numbers; {field['source']}.{aggregated['key']} "
                f"is a {kind} (min and max take dates)",
            )
        elif field.get("result_type") != kind:
            yield Problem(
                f"{path}.result_type",
                "result_type_mismatch",
                f"the {field['function']} of {field['source']}.{aggregated['key']} is a "
                f"{kind}: give result_type {kind!r}",
            )

    def cel_sample(self, field, variant):
        if dated := self.dated(field):
            return dated.cel_sample({}, variant)
        return [3, 12][variant] if field["function"] == "count" else [3.5, 1200.0][variant]
