"""The data part of the publish impact report: what existing records a new document breaks.

Registered with :func:`metadata.impact.register_data_check` when the app loads. Each item counts
the live records concerned and names up to ``SAMPLES`` of their ids.
"""

from __future__ import annotations

import json

from django.db import connection

from metadata.compiled import compile_entity
from metadata.fieldtypes import FieldValueError, field_types
from metadata.impact import ImpactItem
from records.sql_fields import quote_literal_key
from records.values import cel_record

SAMPLES = 5
SCAN_LIMIT = 200_000


def _entities(document: dict | None) -> dict[str, dict]:
    return {e["key"]: e for e in (document or {}).get("entities", [])}


def _fields(entity: dict | None) -> dict[str, dict]:
    return {f["key"]: f for f in (entity or {}).get("fields", [])}


def _rows(entity_key: str, sql_where: str = "TRUE", params=()) -> list[tuple[int, dict]]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, data FROM records_record WHERE entity = %s AND deleted_at IS NULL "
            f"AND {sql_where} ORDER BY id LIMIT %s",
            [entity_key, *params, SCAN_LIMIT],
        )
        return [
            (pk, json.loads(data) if isinstance(data, str) else data)
            for pk, data in cursor.fetchall()
        ]


def _item(code, path, message, strategy, ids) -> ImpactItem:
    return ImpactItem(
        code, path, message.format(n=len(ids)), strategy, count=len(ids), sample_ids=ids[:SAMPLES]
    )


def records_impact(tenant, old: dict | None, new: dict, diff: dict) -> list[ImpactItem]:
    if old is None:
        return []
    items: list[ImpactItem] = []
    old_entities = _entities(old)
    renamed_entities = {r["to"]: r["from"] for r in diff["entities"]["renamed"]}
    for key, entity in _entities(new).items():
        stored_key = renamed_entities.get(key, key)
        if stored_key not in old_entities:
            continue
        before = _fields(old_entities[stored_key])
        renamed = {
            r["to"]: r["from"]
            for r in diff["entities"]["changed"].get(key, {}).get("fields", {}).get("renamed", [])
        }
        for field in entity["fields"]:
            old_key = renamed.get(field["key"], field["key"])
            previous = before.get(old_key)
            if previous is None:
                if field.get("required") and "default" not in field:
                    items += _required(stored_key, key, field, old_key)
                continue
            if field.get("required") and not previous.get("required"):
                items += _required(stored_key, key, field, old_key)
            if field.get("unique") and not previous.get("unique"):
                items += _unique(stored_key, key, field, old_key)
            if field["type"] != previous["type"]:
                items += _conversion(stored_key, key, field, previous, old_key)
        items += _unique_groups(stored_key, entity, old_entities[stored_key], renamed)
        items += _rules(stored_key, entity, old_entities[stored_key])
    return items


def _required(stored_entity, entity_key, field, stored_key):
    literal = quote_literal_key(stored_key)
    ids = [pk for pk, _ in _rows(stored_entity, f"data->>{literal} IS NULL")]
    if not ids:
        return []
    return [
        _item(
            "required_violations",
            f"{entity_key}.{field['key']}",
            f"{{n}} {entity_key} record(s) have no {field['key']}, which becomes required",
            "accept-violations",
            ids,
        )
    ]


def _unique(stored_entity, entity_key, field, stored_key):
    literal = quote_literal_key(stored_key)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT array_agg(id ORDER BY id) FROM records_record WHERE entity = %s "
            f"AND deleted_at IS NULL AND data->{literal} IS NOT NULL "
            f"GROUP BY data->{literal} HAVING count(*) > 1",
            [stored_entity],
        )
        ids = sorted(pk for (group,) in cursor.fetchall() for pk in group)
    if not ids:
        return []
    return [
        _item(
            "unique_violations",
            f"{entity_key}.{field['key']}",
            f"{{n}} {entity_key} record(s) share a {field['key']} with another, which "
            "becomes unique",
            "accept-violations",
            ids,
        )
    ]


def _unique_groups(stored_entity, entity, previous, renamed):
    """Records sharing the values of a group that becomes unique together."""
    before = [sorted(group) for group in previous.get("unique_together", [])]
    items = []
    for group in entity.get("unique_together", []):
        stored = [renamed.get(key, key) for key in group]
        if sorted(stored) in before:
            continue
        values = ", ".join(f"data->{quote_literal_key(key)}" for key in stored)
        some = " OR ".join(f"data->{quote_literal_key(key)} IS NOT NULL" for key in stored)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT array_agg(id ORDER BY id) FROM records_record WHERE entity = %s "
                f"AND deleted_at IS NULL AND ({some}) GROUP BY {values} HAVING count(*) > 1",
                [stored_entity],
            )
            ids = sorted(pk for (found,) in cursor.fetchall() for pk in found)
        if ids:
            items.append(
                _item(
                    "unique_violations",
                    f"{entity['key']}.{'+'.join(group)}",
                    f"{{n}} {entity['key']} record(s) share their {', '.join(group)} with "
                    "another, which become unique together",
                    "accept-violations",
                    ids,
                )
            )
    return items


def _conversion(stored_entity, entity_key, field, previous, stored_key):
    new_type = field_types.get(field["type"])
    old_type = field_types.get(previous["type"])
    failed = []
    for pk, data in _rows(stored_entity, f"data->>{quote_literal_key(stored_key)} IS NOT NULL"):
        value = old_type.from_storage(data[stored_key], previous)
        value = str(value) if not isinstance(value, (str, int, bool, list, dict)) else value
        try:
            new_type.normalize(value, field)
        except FieldValueError:
            failed.append(pk)
    if not failed:
        return []
    return [
        _item(
            "conversion_failures",
            f"{entity_key}.{field['key']}",
            f"{{n}} value(s) of {entity_key}.{field['key']} cannot become {field['type']}",
            "convert-types",
            failed,
        )
    ]


def _rules(stored_entity, entity, old_entity):
    old_rules = {r["key"]: r["rule"] for r in old_entity.get("validations", [])}
    changed = [r for r in entity.get("validations", []) if old_rules.get(r["key"]) != r["rule"]]
    if not changed:
        return []
    compiled = compile_entity(entity)
    rows = _rows(stored_entity)
    items = []
    for rule in compiled.rules:
        if rule.key not in {r["key"] for r in changed}:
            continue
        from records.service import RecordService

        failed = [
            pk
            for pk, data in rows
            if not RecordService._rule_holds(rule, cel_record(compiled, data, {}))
        ]
        if failed:
            items.append(
                _item(
                    "rule_violations",
                    f"{entity['key']}.{rule.key}",
                    f"{{n}} {entity['key']} record(s) break the rule {rule.key}",
                    "accept-violations",
                    failed,
                )
            )
    return items
