"""Numeric field types. Exact decimals are stored as JSON numbers (``numeric`` in jsonb)."""

import re
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import Any

from metadata.fieldtypes.base import (
    CEL_DOUBLE,
    CEL_INT,
    CEL_MAP,
    ORDERED,
    FieldType,
    FieldValueError,
    Problem,
    register,
)

BOUNDS = {"min": {"type": "number"}, "max": {"type": "number"}}
DECIMAL_OPTIONS = {
    **BOUNDS,
    "precision": {"type": "integer", "minimum": 1, "maximum": 38},
    "scale": {"type": "integer", "minimum": 0, "maximum": 12},
}
ISO_CURRENCY = {"type": "string", "pattern": "^[A-Z]{3}$"}
ISO_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
# Wide enough for the largest precision an option allows (38) plus the scale.
EXACT = Context(prec=60)
# Beyond this magnitude no field's precision can hold a value: refuse before any arithmetic.
MAX_ADJUSTED_EXPONENT = 40


def check_bounds(field: dict, path: str):
    if "min" in field and "max" in field and field["min"] > field["max"]:
        yield Problem(
            f"{path}.min",
            "bounds_inverted",
            f"min ({field['min']}) is greater than max ({field['max']})",
        )


def check_scale(field: dict, path: str):
    scale, precision = field.get("scale", 2), field.get("precision", 18)
    if scale >= precision:
        where = "scale" if "scale" in field else "precision"
        yield Problem(
            f"{path}.{where}",
            "scale_too_large",
            f"the scale ({scale}{'' if 'scale' in field else ' by default'}) must be "
            f"less than the precision ({precision})",
        )


def to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise FieldValueError("invalid_type", f"expected a number, got {type(value).__name__}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise FieldValueError("invalid_number", f"{value!r} is not a number") from error
    if not number.is_finite():
        raise FieldValueError("invalid_number", f"{value!r} is not a finite number")
    if number and abs(number.adjusted()) > MAX_ADJUSTED_EXPONENT:
        raise FieldValueError("out_of_range", f"{value!r} is out of range")
    return number + 0 if number == 0 else number  # no negative zero


def in_bounds(number, field: dict):
    if "min" in field and number < Decimal(str(field["min"])):
        raise FieldValueError("below_min", f"must be at least {field['min']}")
    if "max" in field and number > Decimal(str(field["max"])):
        raise FieldValueError("above_max", f"must be at most {field['max']}")
    return number


def quantize(number: Decimal, field: dict, default_scale: int) -> Decimal:
    """Round to the field's scale (banker's rounding), then check precision and bounds, so a
    value that rounds past a bound is refused."""
    scale = field.get("scale", default_scale)
    precision = field.get("precision", 18)
    try:
        quantized = number.quantize(
            Decimal(1).scaleb(-scale), rounding=ROUND_HALF_EVEN, context=EXACT
        )
    except InvalidOperation as error:
        raise FieldValueError("too_many_digits", f"at most {precision} digits in all") from error
    if len(quantized.as_tuple().digits) > precision and quantized != 0:
        raise FieldValueError("too_many_digits", f"at most {precision} digits in all")
    if quantized == 0:
        quantized = abs(quantized)
    return in_bounds(quantized, field)


@register
class Integer(FieldType):
    key = "integer"
    description = "A whole number."
    option_schema = BOUNDS
    cel_type = CEL_INT
    filter_operators = ORDERED
    widget = "number"
    graphql_type = "Int"
    can_be_unique = True

    def check_options(self, field, path, ctx):
        yield from check_bounds(field, path)

    def normalize(self, value: Any, field: dict) -> int:
        number = to_decimal(value)
        if number != number.to_integral_value():
            raise FieldValueError("not_integer", f"{value!r} is not a whole number")
        if abs(number) > 2**53:
            raise FieldValueError("out_of_range", "whole numbers are limited to ±2^53")
        return int(in_bounds(number, field))

    def cel_sample(self, field, variant):
        return [1, 1000][variant]


@register
class DecimalType(FieldType):
    key = "decimal"
    description = "An exact decimal number with a precision (digits in all) and a scale."
    option_schema = DECIMAL_OPTIONS
    cel_type = CEL_DOUBLE
    filter_operators = ORDERED
    widget = "number"
    graphql_type = "Decimal"

    def check_options(self, field, path, ctx):
        yield from check_bounds(field, path)
        yield from check_scale(field, path)

    def normalize(self, value: Any, field: dict) -> Decimal:
        return quantize(to_decimal(value), field, default_scale=2)

    # Exact decimals travel as JSON strings: a float would round them.
    def to_storage(self, value, field):
        return str(value)

    def from_storage(self, stored, field):
        return Decimal(stored)

    def to_cel(self, stored, field):
        return float(stored)

    def cel_sample(self, field, variant):
        return [1.5, 1000.25][variant]


@register
class Percent(DecimalType):
    key = "percent"
    description = "A percentage, 12.5 meaning 12.5 %."
    widget = "percent"
    graphql_type = "Decimal"


@register
class Currency(FieldType):
    key = "currency"
    description = "An amount of money with its ISO 4217 currency code."
    option_schema = {
        **DECIMAL_OPTIONS,
        "currencies": {"type": "array", "items": ISO_CURRENCY, "minItems": 1, "uniqueItems": True},
        "default_currency": ISO_CURRENCY,
    }
    cel_type = CEL_MAP
    filter_operators = ORDERED
    widget = "money"
    graphql_type = "Money"

    def check_options(self, field, path, ctx):
        yield from check_bounds(field, path)
        yield from check_scale(field, path)
        allowed = field.get("currencies")
        if allowed and field.get("default_currency") not in (None, *allowed):
            yield Problem(
                f"{path}.default_currency",
                "unknown_currency",
                f"{field['default_currency']!r} is not among the field's currencies",
            )

    def normalize(self, value: Any, field: dict) -> dict:
        if isinstance(value, dict):
            unknown = set(value) - {"amount", "currency"}
            if unknown:
                raise FieldValueError("invalid_shape", f"unknown keys {sorted(unknown)}")
            amount, code = value.get("amount"), value.get("currency")
        else:
            amount, code = value, None
        code = code or field.get("default_currency")
        if not isinstance(code, str) or not ISO_CURRENCY_CODE.match(code):
            raise FieldValueError("invalid_currency", "a three-letter ISO 4217 code is needed")
        if field.get("currencies") and code not in field["currencies"]:
            raise FieldValueError(
                "currency_not_allowed", f"{code} is not one of {', '.join(field['currencies'])}"
            )
        number = quantize(to_decimal(amount), field, default_scale=2)
        return {"amount": number, "currency": code}

    def to_storage(self, value, field):
        return {"amount": str(value["amount"]), "currency": value["currency"]}

    def from_storage(self, stored, field):
        return {"amount": Decimal(stored["amount"]), "currency": stored["currency"]}

    def to_cel(self, stored, field):
        return {"amount": float(stored["amount"]), "currency": stored["currency"]}

    def cel_sample(self, field, variant):
        return {"amount": [10.5, 99000.0][variant], "currency": ["CNY", "USD"][variant]}
