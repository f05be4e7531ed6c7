"""Textual field types."""

import re
from typing import Any

import nh3
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator

from metadata.fieldtypes.base import TEXTUAL, FieldType, FieldValueError, Problem, register

LENGTH_OPTIONS = {
    "max_length": {"type": "integer", "minimum": 1, "maximum": 100000},
    "min_length": {"type": "integer", "minimum": 0, "maximum": 100000},
}


class TextLike(FieldType):
    filter_operators = TEXTUAL
    default_max_length = 255

    def check_options(self, field, path, ctx):
        if field.get("min_length", 0) > field.get("max_length", self.default_max_length):
            yield Problem(
                f"{path}.min_length", "bounds_inverted", "min_length is greater than max_length"
            )

    def normalize(self, value: Any, field: dict) -> str:
        if not isinstance(value, str):
            raise FieldValueError("invalid_type", f"expected text, got {type(value).__name__}")
        if "\x00" in value:
            raise FieldValueError("invalid_character", "text cannot hold a NUL character")
        text = self.clean(value.strip(), field)
        limit = field.get("max_length", self.default_max_length)
        if len(text) > limit:
            raise FieldValueError("too_long", f"at most {limit} characters, got {len(text)}")
        if len(text) < field.get("min_length", 0):
            raise FieldValueError("too_short", f"at least {field['min_length']} characters")
        return text

    def clean(self, text: str, field: dict) -> str:
        return text

    def cel_sample(self, field: dict, variant: int) -> str:
        return ["sample", "another sample"][variant]


@register
class Text(TextLike):
    key = "text"
    description = "One line of text."
    option_schema = LENGTH_OPTIONS
    can_be_unique = True


@register
class LongText(TextLike):
    key = "long_text"
    description = "Several lines of plain text."
    option_schema = LENGTH_OPTIONS
    widget = "textarea"
    sortable = False
    can_be_indexed = False
    default_max_length = 100000


@register
class RichText(TextLike):
    key = "rich_text"
    description = "Formatted text; HTML is sanitized (scripts, handlers and styles removed)."
    option_schema = {"max_length": LENGTH_OPTIONS["max_length"]}
    widget = "richtext"
    sortable = False
    can_be_indexed = False
    default_max_length = 100000

    def clean(self, text: str, field: dict) -> str:
        return nh3.clean(text)


@register
class Email(TextLike):
    key = "email"
    description = "An e-mail address, stored with its domain in lower case."
    widget = "email"
    can_be_unique = True
    _validator = EmailValidator()

    def clean(self, text: str, field: dict) -> str:
        try:
            self._validator(text)
        except ValidationError as error:
            raise FieldValueError("invalid_email", f"{text!r} is not an e-mail address") from error
        local, _, domain = text.rpartition("@")
        return f"{local}@{domain.lower()}"

    def cel_sample(self, field: dict, variant: int) -> str:
        return ["a@example.com", "b@example.org"][variant]


PHONE = re.compile(
    r"^(?P<number>\+?[0-9 ()./-]{5,30}?)(\s*(x|ext\.?)\s*[0-9]{1,6})?$", re.IGNORECASE
)


@register
class Phone(TextLike):
    key = "phone"
    description = "A telephone number: digits, spaces, + ( ) . - and an optional extension."
    widget = "tel"
    can_be_unique = True

    def clean(self, text: str, field: dict) -> str:
        match = PHONE.match(text)
        if not match or sum(ch.isdigit() for ch in match.group("number")) < 5:
            raise FieldValueError("invalid_phone", f"{text!r} is not a telephone number")
        return re.sub(r"\s+", " ", text)

    def cel_sample(self, field: dict, variant: int) -> str:
        return ["+86 10 1234 5678", "+1 212 555 0100"][variant]


@register
class Url(TextLike):
    key = "url"
    description = "An http or https address."
    widget = "url"
    default_max_length = 2000
    _validator = URLValidator(schemes=["http", "https"])

    def clean(self, text: str, field: dict) -> str:
        try:
            self._validator(text)
        except ValidationError as error:
            raise FieldValueError("invalid_url", f"{text!r} is not an http(s) address") from error
        return text

    def cel_sample(self, field: dict, variant: int) -> str:
        return ["https://example.com", "https://example.org/a"][variant]
