"""From input values to stored values: the field-type registry decides, nothing else does."""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import lru_cache
from typing import Any

import cel

from metadata.compiled import CompiledEntity
from metadata.fieldtypes import FieldValueError
from records.errors import FieldError

UTC = dt.UTC


def normalize_input(entity: CompiledEntity, values: dict) -> tuple[dict, list[FieldError]]:
    """Stored values for the fields written in ``values``; ``None`` clears a field."""
    data, errors = {}, []
    if not isinstance(values, dict):
        return {}, [FieldError(None, "invalid_type", "values must be an object")]
    for key, value in values.items():
        field = entity.fields.get(key)
        if field is None:
            errors.append(FieldError(key, "unknown_field", f"{entity.key} has no field {key!r}"))
            continue
        if field.type.computed or field.options.get("read_only"):
            errors.append(FieldError(key, "read_only", f"{key} cannot be written"))
            continue
        if value is None or value == "" or value == []:
            data[key] = None
            continue
        try:
            normalized = field.type.normalize(value, field.options)
        except FieldValueError as error:
            errors.append(FieldError(key, error.code, error.message))
            continue
        data[key] = field.type.to_storage(normalized, field.options)
    return data, errors


def system_values(record) -> dict:
    """The system fields a record shows CEL (``record.owner``, ``record.id``…), from a Record
    or a bulk create's NewRecord; 0 stands for an id not known yet."""
    return {
        "id": record.pk or 0,
        "version": record.version,
        "owner": record.owner_id or 0,
        "created_by": getattr(record, "created_by_id", None) or 0,
        "updated_by": getattr(record, "updated_by_id", None) or 0,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


SYSTEM_MOMENTS = ("created_at", "updated_at")


def stored_values(entity, values: dict) -> dict:
    """A RecordView's values back to their stored form (what CEL reads); empty ones left out."""
    return {
        key: entity.fields[key].type.to_storage(value, entity.fields[key].options)
        for key, value in values.items()
        if key in entity.fields and value is not None
    }


def view_record(entity, view) -> dict:
    """A RecordView as CEL sees it: its values and its system fields."""
    system = {
        "id": view.id,
        "version": view.version,
        "owner": view.owner_id or 0,
        "created_by": view.created_by_id or 0,
        "created_at": view.created_at,
        "updated_at": view.updated_at,
    }
    return cel_record(entity, stored_values(entity, view.values), system)


# The columns of a record's system fields and data, in the order system_row reads them.
ROW_COLUMNS = "id, version, owner_id, created_by_id, created_at, updated_at, data"


def system_row(row) -> tuple[dict, dict]:
    """(data, system fields) of a row selected as ROW_COLUMNS."""
    pk, version, owner, created_by, created_at, updated_at, data = row
    system = {
        "id": pk,
        "version": version,
        "owner": owner or 0,
        "created_by": created_by or 0,
        "created_at": created_at,
        "updated_at": updated_at,
    }
    return (json.loads(data) if isinstance(data, str) else data), system


def api_value(value):
    """A service value as the API and filters take it: dates and decimals as text."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value.__class__.__name__ == "Decimal":
        return str(value)
    if isinstance(value, dict):
        return {k: api_value(v) for k, v in value.items()}
    return value


def cel_record(
    entity: CompiledEntity, data: dict, system: dict, keys: frozenset[str] | None = None
) -> dict:
    """The record as CEL sees it: every field present, ``null`` when empty; only ``keys``
    when given (what the programs to run read, see ``reads_of``)."""
    record = dict(system)
    for key in SYSTEM_MOMENTS:  # an event's system fields come back from JSON as text
        if isinstance(record.get(key), str):
            record[key] = dt.datetime.fromisoformat(record[key])
    for key, field in entity.fields.items():
        if keys is not None and key not in keys:
            continue
        stored = data.get(key)
        record[key] = None if stored is None else field.type.to_cel(stored, field.options)
    return record


@lru_cache(maxsize=1024)
def reads_of(sources: tuple[str, ...]) -> frozenset[str] | None:
    """The record keys a group of programs reads; None when one uses the whole record."""
    keys: set[str] = set()
    for source in sources:
        read, _ = _reads(source)
        if read is None:
            return None
        keys |= read
    return frozenset(keys)


def cel_context(record: dict) -> dict:
    return {"record": record, "now": dt.datetime.now(UTC)}


WHOLE_RECORD = re.compile(r"\brecord\b(?!\s*[.\[])")


@lru_cache(maxsize=4096)
def _reads(source: str) -> tuple[frozenset[str] | None, bool]:
    """The record keys an expression reads (None when it uses the record as a whole, as in
    ``size(record)``) and whether it reads ``now``."""
    from metadata.cel_check import STRING_LITERAL, referenced_fields

    program = cel.compile(source)
    uses_now = "now" in program.variables()
    if WHOLE_RECORD.search(STRING_LITERAL.sub('""', source)):
        return None, uses_now
    return frozenset(referenced_fields(source)), uses_now


def evaluate(program: cel.Program, record: dict, variables: dict | None = None) -> Any:
    """Run a program over a record (and ``variables``: a workflow's ``created``). Only the
    fields it reads are handed to CEL: converting a whole record costs five times the
    evaluation itself (bulk writes run several programs per record)."""
    keys, uses_now = _reads(program.source)
    if keys is not None:
        record = {key: record[key] for key in keys if key in record}
    context = {"record": record, **(variables or {})}
    if uses_now:
        context["now"] = dt.datetime.now(UTC)
    return program.execute(context)


def from_cel(field, value: Any) -> Any:
    """A CEL result (a default or a formula) as a stored value of the field."""
    return None if value is None else field.type.from_cel(value, field.options)


def condition_holds(program: cel.Program | None, record: dict) -> bool:
    """Whether a condition (a workflow's, a layout's) gives true over ``record``; no program
    holds, and one that cannot be evaluated (an empty field) does not."""
    if program is None:
        return True
    try:
        return evaluate(program, record) is True
    except Exception:  # noqa: BLE001
        return False


def all_hold(programs, record: dict) -> bool:
    return all(condition_holds(program, record) for program in programs)
