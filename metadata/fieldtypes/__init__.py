"""Importing the package registers every field type."""

from metadata.fieldtypes import (
    address,
    choice,
    computed,
    files,
    numbers,
    relations,
    temporal,
    text,
)
from metadata.fieldtypes.base import FieldType, FieldValueError, Problem, field_types

__all__ = [
    "FieldType",
    "FieldValueError",
    "Problem",
    "field_types",
    "address",
    "choice",
    "computed",
    "files",
    "numbers",
    "relations",
    "temporal",
    "text",
]
