"""GraphQL types shared by every tenant's schema, and the conversions of stored values.

The field-type registry names each field's GraphQL type (``graphql_type_for``); this module maps
those names to graphene types, for output and for input.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from decimal import Decimal

import graphene
from graphene.types.generic import GenericScalar

NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


class Money(graphene.ObjectType):
    amount = graphene.Decimal(required=True)
    currency = graphene.String(required=True)


class MoneyInput(graphene.InputObjectType):
    amount = graphene.Decimal(required=True)
    currency = graphene.String(required=True)


class Member(graphene.ObjectType):
    """A user of the tenant, as records name them (owner, created by, user fields)."""

    id = graphene.ID(required=True)


class PageInfo(graphene.ObjectType):
    has_next_page = graphene.Boolean(required=True)
    end_cursor = graphene.String()


class FieldError(graphene.ObjectType):
    field = graphene.String()
    code = graphene.String(required=True)
    message = graphene.String(required=True)


class Bucket(graphene.Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class MetricFunction(graphene.Enum):
    COUNT = "count"
    SUM = "sum"
    AVG = "avg"
    MIN = "min"
    MAX = "max"


class AggregateRow(graphene.ObjectType):
    """One group: its key values (``{"stage": "won", "close_date:month": "2025-03-01"}``) and
    its metrics (``{"count": 3, "sum_amount": "1200.00"}``; decimals as exact strings)."""

    group = GenericScalar(required=True)
    metrics = GenericScalar(required=True)


class RowError(graphene.ObjectType):
    """A failing row of a bulk mutation: its index in ``inputs`` and one of its problems."""

    row = graphene.Int(required=True)
    field = graphene.String()
    code = graphene.String(required=True)
    message = graphene.String(required=True)


class Direction(graphene.Enum):
    ASC = "asc"
    DESC = "desc"


class Nulls(graphene.Enum):
    FIRST = "first"
    LAST = "last"


SCALARS = {
    "String": graphene.String,
    "Int": graphene.Int,
    "Decimal": graphene.Decimal,
    "Boolean": graphene.Boolean,
    "Date": graphene.Date,
    "DateTime": graphene.DateTime,
    "Address": GenericScalar,
}


def output_value(graphql_type: str, value):
    """A service value (RecordView.values) in the form graphene serializes."""
    if value is None:
        return None
    if graphql_type == "Date" and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if graphql_type == "DateTime" and isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if graphql_type == "Money" and isinstance(value, dict):
        return Money(amount=Decimal(str(value["amount"])), currency=value["currency"])
    if graphql_type == "User":
        return Member(id=value)
    return value


def input_value(value):
    """A GraphQL input value as the records service takes it (JSON-like)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [input_value(item) for item in value]
    if isinstance(value, dict):
        return {key: input_value(item) for key, item in value.items()}
    return value


def camel(key: str) -> str:
    """graphene's own conversion of snake_case names."""
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def type_name(key: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in key.split("_"))


class ReverseConnection:
    """The shape of a connection for a parent's children already loaded (no cursors: the page
    is the first ``first`` children by id)."""

    def __init__(self, rows, first: int):
        self.total_count = len(rows)
        shown = rows[:first]
        self.edges = [{"node": row, "cursor": str(row.id)} for row in shown]
        self.page_info = {
            "has_next_page": len(rows) > first,
            "end_cursor": str(shown[-1].id) if shown else None,
        }
