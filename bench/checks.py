"""Checks that the generated data is what the platform itself would store.

A sample of generated records is written again through ``RecordService.create`` (which
normalizes, applies defaults, computes the formula and checks rules and references) inside a
transaction that is rolled back; the stored ``data`` must equal the generated one.
"""

from __future__ import annotations

import json

from django.db import connection

from records.models import Record
from records.service import RecordService
from tenants.context import tenant_context

INPUT_FIELDS = {
    "account": ("name", "classification", "industry", "region", "website", "credit_limit"),
    "opportunity": (
        "name",
        "account",
        "stage",
        "amount",
        "probability",
        "close_date",
        "forecast_category",
    ),
}
# Values the platform maintains itself and the generator sets as the platform would later.
MAINTAINED = {"account": {"open_opportunities"}, "opportunity": set()}


class _Rollback(Exception):
    pass


def sample(entity: str, size: int) -> list[tuple[int, dict]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, data FROM records_record WHERE entity = %s AND deleted_at IS NULL "
            "AND id %% 7 = 0 ORDER BY id LIMIT %s",
            [entity, size],
        )
        return list(cursor.fetchall())


def check_stored_form(tenant, user, per_entity: int = 20) -> list[str]:
    """Differences between generated and service-stored data; empty when they agree."""
    problems: list[str] = []
    service = RecordService(tenant, user)
    try:
        with tenant_context(tenant, user=user):
            for entity, fields in INPUT_FIELDS.items():
                for record_id, raw in sample(entity, per_entity):
                    generated = raw if isinstance(raw, dict) else json.loads(raw)
                    values = {key: generated[key] for key in fields if key in generated}
                    if entity == "account":  # its name is taken (unique) by the original
                        generated = {**generated, "name": generated["name"] + " copy"}
                        values["name"] = generated["name"]
                    if entity == "account" and "blacklisted" in generated:
                        values["blacklisted"] = generated["blacklisted"]
                    view = service.create(entity, values)
                    stored = Record.objects.get(pk=view.id).data
                    skip = MAINTAINED[entity]
                    left = {k: v for k, v in generated.items() if k not in skip}
                    right = {k: v for k, v in stored.items() if k not in skip}
                    if left != right:
                        problems.append(f"{entity} {record_id}: generated {left} stored {right}")
            raise _Rollback
    except _Rollback:
        pass
    return problems
