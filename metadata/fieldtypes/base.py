"""The field-type registry: one small class per type, the only place that branches on types.

A field type owns, for fields of its kind: the JSON Schema of its options (merged into
``config.schema.json``), the meaning checks of those options, value validation and
normalization to the stored JSON form, its CEL type and sample values (used to type-check
expressions at publish), its filter operators, sortability, form widget and GraphQL type.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from metadata.registry import Registry

if TYPE_CHECKING:
    from metadata.semantics import CheckContext


class FieldValueError(ValueError):
    """A value a field cannot hold; ``code`` is stable, ``message`` says why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Problem:
    """Something wrong in a configuration document, at a path such as ``entities[0].fields[2]``."""

    path: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


# Filter operator groups (the query compiler implements them in the records issue).
EQUALITY = ("eq", "ne", "in", "not_in", "is_null")
ORDERED = (*EQUALITY, "lt", "lte", "gt", "gte", "between")
TEXTUAL = (*EQUALITY, "contains", "starts_with")
RELATIVE_DATES = (
    "today",
    "yesterday",
    "tomorrow",
    "this_week",
    "last_week",
    "this_month",
    "last_month",
    "this_quarter",
    "this_year",
    "last_n_days",
    "next_n_days",
    "over_n_days_ago",
)
# The relative-date operators that take a number of days (the others take none).
DAY_COUNTS = ("last_n_days", "next_n_days", "over_n_days_ago")

# CEL types, as the checker names them.
CEL_STRING, CEL_INT, CEL_DOUBLE, CEL_BOOL = "string", "int", "double", "bool"
CEL_TIMESTAMP, CEL_LIST, CEL_MAP = "timestamp", "list", "map"


class FieldType:
    key: ClassVar[str]
    description: ClassVar[str]
    option_schema: ClassVar[dict[str, Any]] = {}
    required_options: ClassVar[tuple[str, ...]] = ()
    cel_type: ClassVar[str] = CEL_STRING
    filter_operators: ClassVar[tuple[str, ...]] = EQUALITY
    sortable: ClassVar[bool] = True
    widget: ClassVar[str] = "text"
    graphql_type: ClassVar[str] = "String"
    # Computed types (autonumber, formula, rollup) are never written by users.
    computed: ClassVar[bool] = False
    can_be_unique: ClassVar[bool] = False
    can_be_indexed: ClassVar[bool] = True
    # Few distinct values that reports group by: the planner gets statistics on them
    # (records/indexes.py), so it can tell a grouping into six stages from a million groups.
    grouping_statistics: ClassVar[bool] = False

    def check_options(self, field: dict, path: str, ctx: CheckContext) -> Iterator[Problem]:
        """Meaning checks beyond the JSON Schema (references, ranges); none by default."""
        return iter(())

    def normalize(self, value: Any, field: dict) -> Any:
        """The stored JSON form of ``value``, or FieldValueError. ``None`` is handled by callers."""
        raise NotImplementedError

    def to_storage(self, value: Any, field: dict) -> Any:
        """The JSON value kept in the record's ``data`` for a normalized value."""
        return value

    def from_storage(self, stored: Any, field: dict) -> Any:
        """The normalized value back from its JSON form."""
        return stored

    def reader(self, field: dict) -> Callable[[Any], Any] | None:
        """``from_storage`` for one field, resolved once (pages read every value of every
        row); None when the stored value is the value."""
        if type(self).from_storage is FieldType.from_storage:
            return None
        return partial(self.from_storage, field=field)

    def from_cel(self, value: Any, field: dict) -> Any:
        """The stored value for a CEL result (a default or a formula), through normalize."""
        return self.to_storage(self.normalize(value, field), field)

    def unique_key(self, stored: Any, field: dict) -> str:
        """The text two values share exactly when they count as duplicates."""
        return stored if isinstance(stored, str) else json.dumps(stored, sort_keys=True)

    def to_cel(self, stored: Any, field: dict) -> Any:
        """The stored value as CEL sees it."""
        return stored

    def cel_result_type(self, field: dict) -> str:
        return self.cel_type

    def graphql_type_for(self, field: dict) -> str:
        """The GraphQL type of this field's values (computed types depend on their options)."""
        return self.graphql_type

    def operators_for(self, field: dict) -> tuple[str, ...]:
        return self.filter_operators

    def graphql_json_sql(self, stored: str, field: dict) -> str | None:
        """SQL giving the value GraphQL returns for this field as JSON, from ``stored``, the
        SQL of the stored jsonb value: the compiled GraphQL path builds whole responses in
        PostgreSQL (api/schema/compiled). None when only Python can. By default the stored
        JSON is what GraphQL returns."""
        return stored

    def cel_sample(self, field: dict, variant: int) -> Any:
        """A CEL value of this type; variants 0 and 1 differ so both branches get evaluated."""
        raise NotImplementedError

    def references(self, field: dict) -> set[str]:
        """Keys of fields of the same entity this field is computed from."""
        return set()


class FieldTypeRegistry(Registry):
    def __init__(self) -> None:
        super().__init__("field type")


field_types = FieldTypeRegistry()
register = field_types.register
