"""Bulk create, update and upsert: many rows through the same checks as one.

The rule is **all or nothing**: every row is checked and every failing row is reported with its
index; if any row fails, nothing at all is written (the operation runs in a savepoint of its
own, so a caller that catches the error keeps its transaction). Rows are processed in batches,
so memory and statement sizes stay bounded, inside the one transaction. Creates take a fast
path: references are checked with one query per target entity, and records, unique values,
references and audit entries are inserted in bulk.
"""

from __future__ import annotations

import contextvars
import dataclasses
import json
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from records import related_values, unique_groups
from records.errors import FieldError, RecordError, RecordErrorCode
from records.models import UniqueValue
from records.sharing import matching_sharing_rules
from records.values import normalize_input
from tenants.context import tenant_context

DEFAULT_BATCH = 1000


@dataclass
class RowError:
    index: int
    errors: list[FieldError]

    def as_dict(self) -> dict:
        return {"index": self.index, "errors": [e.as_dict() for e in self.errors]}


@dataclass
class BulkResult:
    created: list[int] = dataclasses.field(default_factory=list)
    updated: list[int] = dataclasses.field(default_factory=list)


class BulkError(RecordError):
    def __init__(self, rows: list[RowError]):
        super().__init__(
            RecordErrorCode.INVALID, f"{len(rows)} row(s) failed; nothing was written."
        )
        self.rows = rows


def insert_rows(
    table: str,
    columns: dict[str, str],
    rows: list[tuple],
    *,
    returning: str | None = None,
    expressions: dict[str, str] | None = None,
    constants: dict[str, str] | None = None,
) -> list:
    """A multi-row INSERT with one array parameter per column (``columns``: name -> SQL type)
    unnested in order: no model instances, and no per-row SQL text to build in Python.
    ``expressions`` turns a column's unnested value (``v.<name>``) into what is stored;
    ``constants`` are more columns, each an SQL expression (no array: the same in every row,
    or computed from the unnested ones)."""
    if not rows:
        return []
    names = ", ".join(f'"{name}"' for name in columns)  # quoted: "values" is a keyword
    selected = ", ".join(
        [(expressions or {}).get(name, f'v."{name}"') for name in columns]
        + list((constants or {}).values())
    )
    targets = ", ".join(f'"{name}"' for name in [*columns, *(constants or {})])
    arrays = ", ".join(f"%s::{sql_type}[]" for sql_type in columns.values())
    statement = (
        f"INSERT INTO {table} ({targets}) SELECT {selected} FROM unnest({arrays}) WITH "
        f"ORDINALITY AS v({names}, position) ORDER BY position"
    )
    if returning:
        statement += f" RETURNING {returning}"
    with connection.cursor() as cursor:
        cursor.execute(statement, [list(column) for column in zip(*rows, strict=True)])
        result = cursor.fetchall() if returning else []
    # RETURNING follows the order rows are inserted in, which the ORDER BY fixes.
    return [row[0] for row in result]


@dataclass(slots=True)
class NewRecord:
    """What a bulk create knows of a record before and after its INSERT (a model instance
    costs more to build than the record's validation)."""

    tenant_id: int
    entity: str
    owner_id: int | None
    created_by_id: int | None
    updated_by_id: int | None
    created_at: Any
    updated_at: Any
    data: dict = dataclasses.field(default_factory=dict)
    shared_by_rules: list[str] = dataclasses.field(default_factory=list)
    pk: int | None = None
    version: int = 1


def refresh_parents(config, entity, records: list[NewRecord]) -> None:
    """Add the new records to their parents' rollups, once per parent for the whole batch."""
    from records.rollups import add_new_children

    add_new_children(config, entity, [record.data for record in records])


def _batches(items: list, size: int):
    for start in range(0, len(items), size):
        yield start, items[start : start + size]


# A created record's audit entry, every stored value a change from nothing, in key order (as
# the records service writes one), built from the rows just inserted: no JSON in Python.
CREATED_AUDIT_SQL = """
    INSERT INTO records_auditentry (tenant_id, record_id, entity, action, user_id, at, changes)
    SELECT r.tenant_id, r.id, r.entity, 'create', %(user_id)s, %(at)s,
        (SELECT COALESCE(
            jsonb_agg(jsonb_build_object('field', e.key, 'old', NULL, 'new', e.value)
                      ORDER BY e.key COLLATE "C"),
            '[]'::jsonb)
         FROM jsonb_each(r.data) AS e WHERE e.value <> 'null'::jsonb)
    FROM records_record r
    WHERE r.id = ANY(%(ids)s)
    ORDER BY r.id
"""


class BulkWriter:
    def __init__(self, service, batch_size: int = DEFAULT_BATCH):
        self.service = service
        self.batch_size = batch_size

    def create(self, entity_key: str, rows: list[dict]) -> BulkResult:
        """Create every row or none. Batches run as a pipeline: while the database writes
        one batch, a second thread validates the next (psycopg2 releases the GIL while it
        waits), so a bulk create costs about the larger of the two rather than their sum."""
        service = self.service
        if not isinstance(rows, list):
            raise RecordError(RecordErrorCode.INVALID, "rows must be a list of objects")
        result, failures = BulkResult(), []
        with tenant_context(service.tenant, user=service.user, savepoint=True):
            config = service._config()
            entity = service._entity(entity_key, config)
            service.permissions.check_create(config, entity)
            # Resolved here: the validating thread must not touch the database.
            service.permissions.access(config, entity)
            batches = list(_batches(rows, self.batch_size))
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-validate") as pool:

                def validate(index: int) -> Future:
                    start, batch = batches[index]
                    live = self._live_targets(config, entity, batch)  # the database: here
                    wanted = related_values.wanted(entity, batch)
                    related = related_values.fetch(config, entity, wanted)  # and here
                    context = contextvars.copy_context()
                    return pool.submit(
                        context.run, self._prepare, config, entity, batch, start, live, related
                    )

                pending = validate(0) if batches else None
                for index in range(len(batches)):
                    prepared, batch_failures = pending.result()
                    if index + 1 < len(batches):
                        pending = validate(index + 1)
                    # A batch with a failing row is not written; the others are, so that
                    # duplicates against them are found too (all is rolled back on failure).
                    batch_failures += self._locked_parents(config, entity, prepared)
                    batch_failures += self._claim_unique(entity, prepared)
                    batch_failures += [
                        RowError(index, [error])
                        for index, error in sorted(
                            unique_groups.rows_sharing(service.tenant.pk, entity, prepared).items()
                        )
                    ]
                    failures += batch_failures
                    if not batch_failures:
                        result.created += self._write(config, entity, prepared)
            if failures:
                raise BulkError(failures)
        return result

    def _prepare(
        self,
        config,
        entity,
        rows: list[Any],
        start: int,
        live: dict[str, set[int]],
        related: dict[int, dict],
    ):
        """Normalize and validate a batch without touching the database (it runs beside the
        previous batch's writes): (index, record) pairs and the failing rows."""
        service, now = self.service, timezone.now()
        user_id = getattr(service.user, "pk", None)
        prepared, failures = [], []
        for offset, values in enumerate(rows):
            errors: list[FieldError] = []
            try:
                values, refused = service._writable(config, entity, values)
                data, errors = normalize_input(entity, values)
                errors = refused + errors
                service._apply_defaults(
                    entity,
                    data,
                    values if isinstance(values, dict) else {},
                    related_values.related_of(entity, data, related),
                )
                record = NewRecord(
                    tenant_id=service.tenant.pk,
                    entity=entity.key,
                    owner_id=user_id,
                    created_by_id=user_id,
                    updated_by_id=user_id,
                    created_at=now,
                    updated_at=now,
                )
                record.data = service._complete(
                    config,
                    entity,
                    record,
                    data,
                    errors,
                    live,
                    given=set(values) if isinstance(values, dict) else set(),
                    related_records=related,
                )
                record.shared_by_rules = matching_sharing_rules(config, entity, record)
                prepared.append((start + offset, record))
            except RecordError as error:
                failures.append(
                    RowError(
                        start + offset,
                        error.errors or [FieldError(None, error.code, error.message)],
                    )
                )
        return prepared, failures

    def _write(self, config, entity, prepared: list[tuple[int, NewRecord]]) -> list[int]:
        service, now = self.service, prepared[0][1].created_at
        from records.service import issue_autonumbers

        issue_autonumbers(service.tenant, entity, [record.data for _, record in prepared], now)
        records = [record for _, record in prepared]
        ids = insert_rows(
            "records_record",
            {
                "tenant_id": "bigint",
                "entity": "text",
                "data": "jsonb",
                "version": "integer",
                "owner_id": "bigint",
                "created_by_id": "bigint",
                "updated_by_id": "bigint",
                "created_at": "timestamptz",
                "updated_at": "timestamptz",
                "shared_by_rules": "text",
            },
            [
                (
                    r.tenant_id,
                    r.entity,
                    json.dumps(r.data),
                    1,
                    r.owner_id,
                    r.created_by_id,
                    r.updated_by_id,
                    r.created_at,
                    r.updated_at,
                    ",".join(r.shared_by_rules),  # keys are snake_case: no commas
                )
                for r in records
            ],
            returning="id",
            expressions={
                "shared_by_rules": "COALESCE(string_to_array(NULLIF(v.shared_by_rules, ''), ','), "
                "'{}')::varchar[]"
            },
        )
        for record, pk in zip(records, ids, strict=True):
            record.pk = pk
        self._write_side_rows(entity, records, now)
        refresh_parents(config, entity, records)
        from workflows.outbox import records_created

        records_created(service.tenant, config, entity, records, service.user)
        return [record.pk for record in records]

    def _locked_parents(self, config, entity, prepared) -> list[RowError]:
        """Rows adding to a record that waits for an approval (a quote's lines)."""
        from workflows.approvals import locked_parent_errors

        found = locked_parent_errors(
            config, entity, [record.data for _, record in prepared], self.service.permissions
        )
        return [
            RowError(index, errors)
            for (index, _), errors in zip(prepared, found, strict=True)
            if errors
        ]

    def _live_targets(self, config, entity, rows: list[Any]) -> dict[str, set[int]]:
        """Per target entity, the referenced ids that are live and readable by the user."""
        from records.service import live_targets

        permissions = self.service.permissions
        wanted: dict[str, set[int]] = {}
        for key, field in entity.fields.items():
            if field.options["type"] not in ("lookup", "multi_lookup"):
                continue
            ids = wanted.setdefault(field.options["target"], set())
            for row in rows:
                value = row.get(key) if isinstance(row, dict) else None
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, int) and not isinstance(item, bool):
                        ids.add(item)
        return {
            target: live_targets(
                sorted(ids),
                target,
                permissions.scope_sql(config, config.entities[target], "read"),
            )
            for target, ids in wanted.items()
        }

    def _claim_unique(self, entity, prepared) -> list[RowError]:
        """Duplicates within the rows and against stored values, all reported."""
        failures = []
        for key, field in entity.fields.items():
            if not field.options.get("unique"):
                continue
            seen: dict[str, int] = {}
            for index, record in prepared:
                if record.data.get(key) is None:
                    continue
                value = field.type.unique_key(record.data[key], field.options)
                if value in seen:
                    failures.append(
                        RowError(
                            index,
                            [
                                FieldError(
                                    key, "not_unique", f"row {seen[value]} has the same {key}"
                                )
                            ],
                        )
                    )
                seen.setdefault(value, index)
            taken = set(
                UniqueValue.objects.filter(
                    entity=entity.key, field=key, value__in=list(seen)
                ).values_list("value", flat=True)
            )
            failures += [
                RowError(
                    index,
                    [FieldError(key, "not_unique", f"another {entity.key} already has this {key}")],
                )
                for value, index in seen.items()
                if value in taken
            ]
        return failures

    def _write_side_rows(self, entity, records: list[NewRecord], now) -> None:
        tenant_id = self.service.tenant.pk
        user_id = getattr(self.service.user, "pk", None)
        uniques, references = [], []
        # The fields that give side rows, in the entity's order (looked up once per batch).
        unique_fields = [(k, f) for k, f in entity.fields.items() if f.options.get("unique")]
        lookups = [
            key
            for key, field in entity.fields.items()
            if field.options["type"] in ("lookup", "multi_lookup")
        ]
        for record in records:
            for key, field in unique_fields:
                value = record.data.get(key)
                if value is not None:
                    uniques.append(
                        (
                            tenant_id,
                            entity.key,
                            key,
                            field.type.unique_key(value, field.options),
                            record.pk,
                        )
                    )
            for key in lookups:
                value = record.data.get(key)
                if value is not None:
                    references += [
                        (tenant_id, record.pk, key, target)
                        for target in (value if isinstance(value, list) else [value])
                    ]
        try:
            with transaction.atomic():
                insert_rows(
                    "records_uniquevalue",
                    {
                        "tenant_id": "bigint",
                        "entity": "text",
                        "field": "text",
                        "value": "text",
                        "record_id": "bigint",
                    },
                    uniques,
                )
        except IntegrityError as error:  # a concurrent writer took a value after our check
            raise RecordError(
                RecordErrorCode.INVALID, "A unique value was taken concurrently; retry."
            ) from error
        insert_rows(
            "records_reference",
            {"tenant_id": "bigint", "source_id": "bigint", "field": "text", "target_id": "bigint"},
            references,
        )
        if entity.options.get("track_history"):
            with connection.cursor() as cursor:
                cursor.execute(
                    CREATED_AUDIT_SQL,
                    {"user_id": user_id, "at": now, "ids": [record.pk for record in records]},
                )

    def update(self, entity_key: str, rows: list[dict]) -> BulkResult:
        """Rows of ``{"id": …, "version": … (optional), "values": {…}}``."""
        service = self.service
        result, failures = BulkResult(), []
        with tenant_context(service.tenant, user=service.user, savepoint=True):
            for index, row in enumerate(rows if isinstance(rows, list) else []):
                if not isinstance(row, dict) or "id" not in row or "values" not in row:
                    failures.append(
                        RowError(
                            index, [FieldError(None, "invalid_row", "a row needs id and values")]
                        )
                    )
                    continue
                try:
                    with transaction.atomic():
                        view = service.update(
                            entity_key, row["id"], row["values"], version=row.get("version")
                        )
                    result.updated.append(view.id)
                except RecordError as error:
                    failures.append(
                        RowError(
                            index, error.errors or [FieldError(None, error.code, error.message)]
                        )
                    )
            if failures:
                raise BulkError(failures)
        return result

    def upsert(self, entity_key: str, rows: list[dict], match_on: str) -> BulkResult:
        """Update the record whose unique ``match_on`` field equals the row's, else create."""
        service = self.service
        with tenant_context(service.tenant, user=service.user, savepoint=True):
            entity = service._entity(entity_key)
            field = entity.fields.get(match_on)
            if field is None or not field.options.get("unique"):
                raise RecordError(
                    RecordErrorCode.INVALID,
                    f"upserts match on a unique field; {match_on!r} is not one",
                )
            keys = {}
            for index, row in enumerate(rows):
                value = row.get(match_on) if isinstance(row, dict) else None
                if value is not None:
                    data, _ = normalize_input(entity, {match_on: value})
                    if data.get(match_on) is not None:
                        keys[index] = field.type.unique_key(data[match_on], field.options)
            existing = dict(
                UniqueValue.objects.filter(
                    entity=entity.key, field=match_on, value__in=list(keys.values())
                ).values_list("value", "record_id")
            )
            creates = [(i, r) for i, r in enumerate(rows) if existing.get(keys.get(i)) is None]
            updates = [
                (i, {"id": existing[keys[i]], "values": r})
                for i, r in enumerate(rows)
                if existing.get(keys.get(i)) is not None
            ]
            failures, result = [], BulkResult()
            for writer, items, attribute in (
                (self.create, creates, "created"),
                (self.update, updates, "updated"),
            ):
                if not items:
                    continue
                try:
                    with transaction.atomic():
                        done = writer(entity_key, [row for _, row in items])
                    setattr(result, attribute, getattr(done, attribute))
                except BulkError as error:
                    failures += [RowError(items[f.index][0], f.errors) for f in error.rows]
            if failures:
                raise BulkError(sorted(failures, key=lambda f: f.index))
        return result
