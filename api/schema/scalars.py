"""The custom scalars of every tenant's schema, as graphql-core types."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from graphql import (
    BooleanValueNode,
    FloatValueNode,
    GraphQLError,
    GraphQLScalarType,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    StringValueNode,
)


def _decimal(value) -> Decimal:
    if isinstance(value, bool):
        raise GraphQLError(f"Decimal cannot represent {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation as error:
        raise GraphQLError(f"Decimal cannot represent {value!r}") from error
    if not number.is_finite():
        raise GraphQLError(f"Decimal cannot represent {value!r}")
    return number


def _decimal_literal(node, _variables=None) -> Decimal:
    if isinstance(node, (StringValueNode, IntValueNode, FloatValueNode)):
        return _decimal(node.value)
    raise GraphQLError("Decimal takes a number or a string of one")


def _date(value) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as error:
        raise GraphQLError(f"Date cannot represent {value!r}: use YYYY-MM-DD") from error


def _datetime(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as error:
        raise GraphQLError(f"DateTime cannot represent {value!r}: use ISO 8601") from error


def _string_literal(parse):
    def literal(node, _variables=None):
        if isinstance(node, StringValueNode):
            return parse(node.value)
        raise GraphQLError("expected a string")

    return literal


def _generic_literal(node, _variables=None):
    if isinstance(node, (StringValueNode, BooleanValueNode)):
        return node.value
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, FloatValueNode):
        return float(node.value)
    if isinstance(node, ListValueNode):
        return [_generic_literal(item) for item in node.values]
    if isinstance(node, ObjectValueNode):
        return {field.name.value: _generic_literal(field.value) for field in node.fields}
    return None


Decimal_ = GraphQLScalarType(
    "Decimal",
    description='An exact decimal number, written as a string ("1234.50").',
    serialize=lambda value: str(value),
    parse_value=_decimal,
    parse_literal=_decimal_literal,
)
Date = GraphQLScalarType(
    "Date",
    description="A calendar date, YYYY-MM-DD.",
    serialize=lambda value: _date(value).isoformat(),
    parse_value=_date,
    parse_literal=_string_literal(_date),
)
DateTime = GraphQLScalarType(
    "DateTime",
    description="An instant, ISO 8601 with its offset.",
    serialize=lambda value: _datetime(value).isoformat(),
    parse_value=_datetime,
    parse_literal=_string_literal(_datetime),
)
GenericScalar = GraphQLScalarType(
    "GenericScalar",
    description="Any JSON value.",
    serialize=lambda value: value,
    parse_value=lambda value: value,
    parse_literal=_generic_literal,
)
