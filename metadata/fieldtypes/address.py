"""A postal address as one composite value."""

import re
from typing import Any

from metadata.fieldtypes.base import CEL_MAP, FieldType, FieldValueError, register

COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")
PARTS = ("street", "city", "state", "postal_code", "country")


@register
class Address(FieldType):
    key = "address"
    description = "A postal address: street, city, state, postal_code, country (ISO 3166 code)."
    cel_type = CEL_MAP
    filter_operators = ("contains", "is_null")
    sortable = False
    can_be_indexed = False
    widget = "address"
    graphql_type = "Address"

    def normalize(self, value: Any, field: dict) -> dict:
        if not isinstance(value, dict):
            raise FieldValueError("invalid_type", "expected an object with address parts")
        unknown = set(value) - set(PARTS)
        if unknown:
            raise FieldValueError("invalid_shape", f"unknown address parts {sorted(unknown)}")
        address = {}
        for part in PARTS:
            text = value.get(part)
            if text is None:
                continue
            if not isinstance(text, str) or len(text) > 200:
                raise FieldValueError("invalid_part", f"{part} must be text of 200 characters")
            if text.strip():
                address[part] = text.strip()
        country = address.get("country")
        if country is not None and not COUNTRY_CODE.match(country):
            raise FieldValueError("invalid_country", "country must be a two-letter ISO code")
        if country:
            address["country"] = country.upper()
        return address

    def to_cel(self, stored, field):
        return {part: stored.get(part, "") for part in PARTS}

    def cel_sample(self, field, variant):
        return {
            "street": "1 Main St",
            "city": ["Beijing", "Boston"][variant],
            "state": "",
            "postal_code": "100000",
            "country": ["CN", "US"][variant],
        }
