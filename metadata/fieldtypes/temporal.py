"""Dates and date-times, stored as ISO 8601 strings (date-times in UTC) so they sort as text."""

import datetime as dt
import re
from typing import Any

from metadata.fieldtypes.base import (
    CEL_BOOL,
    CEL_TIMESTAMP,
    EQUALITY,
    ORDERED,
    RELATIVE_DATES,
    FieldType,
    FieldValueError,
    register,
)

UTC = dt.UTC
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@register
class Date(FieldType):
    key = "date"
    description = "A calendar date (YYYY-MM-DD); CEL sees midnight UTC of that day."
    cel_type = CEL_TIMESTAMP
    filter_operators = (*ORDERED, *RELATIVE_DATES)
    widget = "date"
    graphql_type = "Date"

    def normalize(self, value: Any, field: dict) -> str:
        if isinstance(value, dt.datetime):
            raise FieldValueError("invalid_type", "expected a date, got a date-time")
        if isinstance(value, dt.date):
            return value.isoformat()
        if not isinstance(value, str):
            raise FieldValueError("invalid_type", f"expected a date, got {type(value).__name__}")
        if not ISO_DATE.match(value.strip()):
            raise FieldValueError("invalid_date", f"{value!r} is not a date (YYYY-MM-DD)")
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError as error:
            raise FieldValueError(
                "invalid_date", f"{value!r} is not a date (YYYY-MM-DD)"
            ) from error

    def to_cel(self, stored, field):
        return dt.datetime.combine(dt.date.fromisoformat(stored), dt.time(), tzinfo=UTC)

    def from_cel(self, value, field):
        # CEL has no date type: a timestamp result names the day it falls on in UTC.
        if isinstance(value, dt.datetime):
            value = value.astimezone(UTC).date()
        return super().from_cel(value, field)

    def cel_sample(self, field, variant):
        return [dt.datetime(2025, 1, 31, tzinfo=UTC), dt.datetime(2030, 12, 1, tzinfo=UTC)][variant]


@register
class DateTime(FieldType):
    key = "datetime"
    description = "An instant with a time zone, stored in UTC."
    cel_type = CEL_TIMESTAMP
    filter_operators = (*ORDERED, *RELATIVE_DATES)
    widget = "datetime"
    graphql_type = "DateTime"

    def normalize(self, value: Any, field: dict) -> str:
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.strip())
            except ValueError as error:
                raise FieldValueError(
                    "invalid_datetime", f"{value!r} is not an ISO 8601 date-time"
                ) from error
        if not isinstance(value, dt.datetime):
            raise FieldValueError(
                "invalid_type", f"expected a date-time, got {type(value).__name__}"
            )
        if value.tzinfo is None:
            raise FieldValueError("naive_datetime", "the date-time needs a time zone offset")
        try:
            utc = value.astimezone(UTC)
        except OverflowError as error:
            raise FieldValueError(
                "out_of_range", "the date-time is outside years 1-9999 in UTC"
            ) from error
        # Fixed width (always microseconds) so that stored values sort as text in time order.
        return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"

    def graphql_json_sql(self, stored, field):
        # GraphQL writes Python's isoformat: +00:00, and no fraction when it is zero.
        text = f"({stored} #>> '{{}}')"
        return (
            f"to_jsonb(substr({text}, 1, 19) || CASE WHEN substr({text}, 20, 7) = '.000000' "
            f"THEN '' ELSE substr({text}, 20, 7) END || '+00:00')"
        )

    def to_cel(self, stored, field):
        return dt.datetime.fromisoformat(stored.replace("Z", "+00:00"))

    def cel_sample(self, field, variant):
        return [
            dt.datetime(2025, 1, 31, 9, 30, tzinfo=UTC),
            dt.datetime(2030, 12, 1, 18, 0, tzinfo=UTC),
        ][variant]


@register
class Boolean(FieldType):
    key = "boolean"
    description = "Yes or no."
    cel_type = CEL_BOOL
    filter_operators = EQUALITY
    widget = "checkbox"
    graphql_type = "Boolean"

    def normalize(self, value: Any, field: dict) -> bool:
        if not isinstance(value, bool):
            raise FieldValueError("invalid_type", f"expected true or false, got {value!r}")
        return value

    def cel_sample(self, field, variant):
        return [True, False][variant]
