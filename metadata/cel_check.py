"""CEL expressions in the configuration: compiled once, checked against the field types.

The ``common-expression-language`` package compiles and evaluates but has no type checker, so an
expression is checked in two steps: every ``record.<field>`` it names must exist (found in the
source with string literals removed), and it is evaluated against typed sample records whose
booleans, numbers and dates take two sets of values, so that both sides of ``&&``, ``||`` and
``?:`` run at least once. A type mismatch (a date compared with a string, text plus a number)
fails in that evaluation with CEL's "no such overload" error, and the result must have the
expected type.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cel

UTC = dt.UTC
STRING_LITERAL = re.compile(r"""("([^"\\]|\\.)*"|'([^'\\]|\\.)*')""")
RECORD_REFERENCE = re.compile(r"\brecord\.([A-Za-z_][A-Za-z0-9_]*)")
RECORD_INDEX = re.compile(r"""\brecord\[\s*(?:"([^"]*)"|'([^']*)')\s*\]""")
CREATED_REFERENCE = re.compile(r"\bcreated\.([A-Za-z_][A-Za-z0-9_]*)")
ITEM_REFERENCE = re.compile(r"\bitem\.([A-Za-z_][A-Za-z0-9_]*)")
RELATED_REFERENCE = re.compile(
    r"\brelated\.([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?"
)
# Fields every record has, whatever the configuration.
SYSTEM_FIELD_SAMPLES: dict[str, Callable[[int], Any]] = {
    "id": lambda v: [1, 2][v],
    "version": lambda v: [1, 7][v],
    "owner": lambda v: [1, 2][v],
    "created_by": lambda v: [1, 2][v],
    "updated_by": lambda v: [1, 2][v],
    "created_at": lambda v: [
        dt.datetime(2025, 1, 1, tzinfo=UTC),
        dt.datetime(2031, 5, 5, tzinfo=UTC),
    ][v],
    "updated_at": lambda v: [
        dt.datetime(2025, 1, 2, tzinfo=UTC),
        dt.datetime(2031, 5, 6, tzinfo=UTC),
    ][v],
}
SYSTEM_FIELDS = frozenset(SYSTEM_FIELD_SAMPLES)


class ExpressionError(ValueError):
    pass


@dataclass(frozen=True)
class CelType:
    name: str

    def accepts(self, value: Any) -> bool:
        return CEL_TYPE_OF[self.name](value)


CEL_TYPE_OF: dict[str, Callable[[Any], bool]] = {
    "bool": lambda v: isinstance(v, bool),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    # A decimal result may come out of integer arithmetic too.
    "double": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "timestamp": lambda v: isinstance(v, dt.datetime),
    "list": lambda v: isinstance(v, list),
    "map": lambda v: isinstance(v, dict),
}


def type_name(value: Any) -> str:
    for name in ("bool", "int", "double", "string", "timestamp", "list", "map"):
        if CEL_TYPE_OF[name](value):
            return name
    return "null" if value is None else type(value).__name__


def compile_expression(source: str) -> cel.Program:
    try:
        return cel.compile(source)
    except (ValueError, RuntimeError) as error:
        detail = str(error).splitlines()[0].replace(f"Failed to parse expression '{source}': ", "")
        raise ExpressionError(f"does not compile: {detail}") from error


def referenced_fields(source: str) -> set[str]:
    """Field keys named as ``record.key`` or ``record["key"]`` (not inside other strings)."""
    indexed = {double or single for double, single in RECORD_INDEX.findall(source)}
    plain = RECORD_REFERENCE.findall(STRING_LITERAL.sub('""', RECORD_INDEX.sub("", source)))
    return indexed | set(plain)


def article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


PYTHON_TO_CEL_NAMES = (
    ("float", "double"),
    ("str", "string"),
    ("datetime", "timestamp"),
    ("dict", "map"),
    ("NoneType", "null"),
)


def _first_sentence(error: Exception) -> str:
    text = str(error).strip().split(". ")[0].rstrip(".")
    if isinstance(error, KeyError):
        return f"no key {text} in the map"
    for python, cel_name in PYTHON_TO_CEL_NAMES:
        text = re.sub(rf"\b{python}\b", cel_name, text)
    return text


def check_expression(
    source: str,
    *,
    field_samples: dict[str, Callable[[int], Any]],
    expect: str | None,
    created: tuple[str, ...] | None = None,
    item: dict[str, Callable[[int], Any]] | None = None,
    related: dict[str, dict[str, Callable[[int], Any]]] | None = None,
) -> cel.Program:
    """Compile ``source`` and check it against the fields; ExpressionError says what is wrong.

    ``field_samples`` maps each field key of the record to a function giving a sample CEL value
    for variant 0 or 1. ``created`` names the records earlier actions of a workflow made
    (``created.account`` is the id of the one named ``account``); None where there are none.
    ``item`` gives the field samples of the related record an action repeats over (``for_each``).
    ``related`` gives, per lookup of the record, the field samples of the record it points at
    (``related.account.industry``), where the expression may read them (formulas, defaults and
    validation rules).
    """
    program = compile_expression(source)
    samples = {**SYSTEM_FIELD_SAMPLES, **field_samples}
    unknown = sorted(referenced_fields(source) - set(samples))
    if unknown:
        raise ExpressionError(f"unknown field {unknown[0]!r} in record.{unknown[0]}")
    variables = set(program.variables())
    text = STRING_LITERAL.sub('""', source)  # names inside string literals are no references
    uses_created, uses_item, uses_related = (
        name in variables for name in ("created", "item", "related")
    )
    if uses_created:
        if created is None:
            raise ExpressionError("created.<name> is only known to the actions of a workflow")
        unnamed = sorted(set(CREATED_REFERENCE.findall(text)) - set(created))
        if unnamed:
            raise ExpressionError(f"no earlier action of this list is named {unnamed[0]!r} (as)")
    if uses_item:
        if item is None:
            raise ExpressionError("item.<field> is only known to an action repeated for_each")
        item = {**SYSTEM_FIELD_SAMPLES, **item}
        unknown = sorted(set(ITEM_REFERENCE.findall(text)) - set(item))
        if unknown:
            raise ExpressionError(f"unknown field {unknown[0]!r} in item.{unknown[0]}")
    if uses_related:
        if related is None:
            raise ExpressionError(
                "related.<lookup>.<field> is only known to formulas, defaults and validation rules"
            )
        for lookup, key in RELATED_REFERENCE.findall(text):
            if lookup not in related:
                raise ExpressionError(
                    f"{lookup!r} is not a lookup of the record (related.{lookup})"
                )
            if not key:
                raise ExpressionError(f"name a field of the record: related.{lookup}.<field>")
            if key not in related[lookup] and key not in SYSTEM_FIELD_SAMPLES:
                raise ExpressionError(f"unknown field {key!r} in related.{lookup}.{key}")
    for variant in (0, 1):
        context = {
            "record": {key: sample(variant) for key, sample in samples.items()},
            "now": dt.datetime(2026, 6, 15, 12, 0, tzinfo=UTC),
        }
        if uses_created:
            context["created"] = {name: [1, 2][variant] for name in created}
        if uses_item:
            context["item"] = {key: sample(variant) for key, sample in item.items()}
        if uses_related:
            context["related"] = {
                lookup: {
                    key: sample(variant)
                    for key, sample in {**SYSTEM_FIELD_SAMPLES, **fields}.items()
                }
                for lookup, fields in related.items()
            }
        try:
            result = program.execute(context)
        except ZeroDivisionError:
            continue  # a runtime condition of the sample values, not a type error
        except (TypeError, ValueError, KeyError, RuntimeError) as error:
            raise ExpressionError(f"type error: {_first_sentence(error)}") from error
        if expect is not None and not CEL_TYPE_OF[expect](result):
            got = type_name(result)
            raise ExpressionError(
                f"must give {article(expect)} {expect}, but gives {article(got)} {got}"
            )
    return program
