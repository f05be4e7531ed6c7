"""Schema evolution: the data side of renames, type changes and purges, in resumable batches.

Publishing a version that renames an entity or a field, or changes a field's type, schedules a
:class:`~records.models.SchemaJob` in the publish transaction and, once it commits, a Celery task
that works through the entity's records in batches of ``BATCH_SIZE``. Each batch is one
transaction that also records ``last_id`` and the progress, so a crash loses at most the batch
in flight and the next run resumes after it. Values a conversion cannot convert are removed
from the record and kept, with the reason, in ``SchemaJobFailure``.

Until a job is done, records it has not reached yet still hold the old key or type; they read
as empty for the renamed or converted field.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q

from metadata.fieldtypes import FieldValueError, field_types
from records.models import (
    AuditEntry,
    Counter,
    Record,
    Reference,
    SchemaJob,
    SchemaJobFailure,
    UniqueValue,
)
from tenants.context import tenant_context

BATCH_SIZE = 1000
Kind = SchemaJob.Kind


def schedule_schema_jobs(tenant, old: dict | None, new: dict, diff: dict, version) -> None:
    """Publish hook: one job per entity rename, field rename and type change; then the worker
    brings the field indexes in line (even when there is no job)."""
    tenant_id = tenant.pk
    transaction.on_commit(lambda: enqueue(tenant_id))
    if old is None:
        return
    jobs = []
    entities = diff["entities"]
    for rename in entities["renamed"]:
        jobs.append(
            SchemaJob(
                tenant=tenant,
                kind=Kind.RENAME_ENTITY,
                entity=rename["from"],
                params={"to": rename["to"]},
            )
        )
    old_fields = {e["key"]: {f["key"]: f for f in e["fields"]} for e in old["entities"]}
    new_fields = {e["key"]: {f["key"]: f for f in e["fields"]} for e in new["entities"]}
    for entity_key, entry in entities["changed"].items():
        fields = entry["fields"]
        for rename in fields["renamed"]:
            jobs.append(
                SchemaJob(
                    tenant=tenant,
                    kind=Kind.RENAME_FIELD,
                    entity=entity_key,
                    params={"from": rename["from"], "to": rename["to"]},
                )
            )
        renamed_to = {r["to"]: r["from"] for r in fields["renamed"]}
        for key, options in fields["changed"].items():
            if "type" not in options:
                continue
            stored_entity = entity_key
            old_key = renamed_to.get(key, key)
            for rename in entities["renamed"]:
                if rename["to"] == entity_key:
                    stored_entity = rename["from"]
            jobs.append(
                SchemaJob(
                    tenant=tenant,
                    kind=Kind.CONVERT_FIELD,
                    entity=entity_key,
                    params={
                        "field": key,
                        "from": old_fields[stored_entity][old_key],
                        "to": new_fields[entity_key][key],
                    },
                )
            )
    jobs += reshare_jobs(tenant, old, new, diff)
    for job in jobs:
        job.config_version = version.number
    SchemaJob.objects.bulk_create(jobs)


def reshare_jobs(tenant, old: dict, new: dict, diff: dict) -> list[SchemaJob]:
    """Re-evaluate sharing rules when they changed, or when an entity they cover changed (a
    renamed or converted field changes what a condition reads); after the data jobs above."""
    rules_changed = any((diff.get("sharing_rules") or {}).values())
    covered = {rule["entity"] for rule in old.get("sharing_rules", [])}
    covered |= {rule["entity"] for rule in new.get("sharing_rules", [])}
    entities = diff["entities"]
    touched = set(entities["changed"]) | {r["to"] for r in entities["renamed"]}
    current = {entity["key"] for entity in new["entities"]}
    return [
        SchemaJob(tenant=tenant, kind=Kind.RESHARE, entity=key, params={})
        for key in sorted(covered & current)
        if rules_changed or key in touched
    ]


def enqueue(tenant_id: int) -> None:
    from records.tasks import run_schema_jobs

    run_schema_jobs.delay(tenant_id)


def schedule_purge(tenant, entity: str, field: str, config) -> SchemaJob:
    """Remove a field's values that the active configuration no longer has, for good."""
    from records.errors import RecordError, RecordErrorCode

    compiled = config.entities.get(entity)
    if compiled is None:
        raise RecordError(RecordErrorCode.UNKNOWN_ENTITY, f"There is no entity {entity!r}.")
    if field in compiled.fields:
        raise RecordError(
            RecordErrorCode.INVALID,
            f"{entity}.{field} is still a field: remove it and publish first.",
        )
    with tenant_context(tenant):
        job = SchemaJob.objects.create(
            tenant=tenant, kind=Kind.PURGE_FIELD, entity=entity, params={"field": field}
        )
        transaction.on_commit(lambda: enqueue(tenant.pk))
    return job


def run_pending(tenant_id: int, batch_size: int = BATCH_SIZE) -> int:
    """Work through every unfinished job of the tenant in order; the number of jobs finished."""
    finished = 0
    while True:
        with tenant_context(tenant_id):
            job = (
                SchemaJob.objects.exclude(status=SchemaJob.Status.DONE)
                .order_by("id")
                .values_list("id", flat=True)
                .first()
            )
        if job is None:
            return finished
        while not run_batch(tenant_id, job, batch_size):
            pass
        finished += 1


def run_batch(tenant_id: int, job_id: int, batch_size: int = BATCH_SIZE) -> bool:
    """Process one batch of a job in one transaction; True when the job is done."""
    with tenant_context(tenant_id):
        job = SchemaJob.objects.select_for_update().get(pk=job_id)
        if job.status == SchemaJob.Status.DONE:
            return True
        records = Record.objects.filter(entity=job.entity)
        if job.status != SchemaJob.Status.RUNNING:
            job.status = SchemaJob.Status.RUNNING
            job.total = records.filter(id__gt=job.last_id).count() + job.processed
            job.error = ""
            if job.kind == Kind.CONVERT_FIELD:
                UniqueValue.objects.filter(entity=job.entity, field=job.params["field"]).delete()
        batch = list(
            records.filter(id__gt=job.last_id).order_by("id").select_for_update()[:batch_size]
        )
        apply = {
            Kind.RENAME_FIELD: _rename_field,
            Kind.CONVERT_FIELD: _convert,
            Kind.PURGE_FIELD: _purge,
            Kind.RENAME_ENTITY: _rename_entity,
            Kind.RESHARE: _resharer(tenant_id, job),
        }[job.kind]
        for record in batch:
            apply(job, record)
        if batch:
            job.last_id = batch[-1].pk
            job.processed += len(batch)
        if len(batch) < batch_size:
            _finish(job)
            job.status = SchemaJob.Status.DONE
        job.save()
        return job.status == SchemaJob.Status.DONE


def _resharer(tenant_id: int, job):
    """The reshare step, bound to the active configuration (what the rules are now)."""
    if job.kind != Kind.RESHARE:
        return None
    from metadata.compiled import active_config
    from records.sharing import matching_sharing_rules

    config = active_config(tenant_id)
    entity = config.entities.get(job.entity)

    def reshare(job, record) -> None:
        matched = matching_sharing_rules(config, entity, record) if entity else []
        if sorted(record.shared_by_rules or []) != matched:
            Record.objects.filter(pk=record.pk).update(shared_by_rules=matched)

    return reshare


def _rename_field(job, record) -> None:
    old, new = job.params["from"], job.params["to"]
    if old in record.data and new not in record.data:
        record.data[new] = record.data.pop(old)
        Record.objects.filter(pk=record.pk).update(data=record.data)


def _purge(job, record) -> None:
    if job.params["field"] in record.data:
        record.data.pop(job.params["field"])
        Record.objects.filter(pk=record.pk).update(data=record.data)


def _rename_entity(job, record) -> None:
    Record.objects.filter(pk=record.pk).update(entity=job.params["to"])


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict) and "amount" in value:  # currency to a plain number
        return str(value["amount"])
    return value


def _convert(job, record) -> None:
    key, before, after = job.params["field"], job.params["from"], job.params["to"]
    if key not in record.data:
        return
    stored = record.data[key]
    old_type, new_type = field_types.get(before["type"]), field_types.get(after["type"])
    try:
        value = _plain(old_type.from_storage(stored, before))
        converted = new_type.to_storage(new_type.normalize(value, after), after)
    except (FieldValueError, ArithmeticError, TypeError, ValueError) as error:
        reason = getattr(error, "message", str(error))
        SchemaJobFailure.objects.create(
            tenant_id=record.tenant_id, job=job, record_id=record.pk, value=stored, reason=reason
        )
        job.failed += 1
        record.data.pop(key)
    else:
        record.data[key] = converted
        if after.get("unique"):
            try:
                with transaction.atomic():
                    UniqueValue.objects.create(
                        tenant_id=record.tenant_id,
                        entity=job.entity,
                        field=key,
                        value=new_type.unique_key(converted, after),
                        record=record,
                    )
            except IntegrityError:
                SchemaJobFailure.objects.create(
                    tenant_id=record.tenant_id,
                    job=job,
                    record_id=record.pk,
                    value=stored,
                    reason="duplicate value after conversion",
                )
                job.failed += 1
                record.data.pop(key)
    Record.objects.filter(pk=record.pk).update(data=record.data)


def _finish(job) -> None:
    """What the side tables need once every record has moved."""
    if job.kind == Kind.RENAME_FIELD:
        old, new = job.params["from"], job.params["to"]
        for model in (UniqueValue, Counter):
            model.objects.filter(entity=job.entity, field=old).update(field=new)
        Reference.objects.filter(Q(source__entity=job.entity), field=old).update(field=new)
    elif job.kind == Kind.RENAME_ENTITY:
        for model in (UniqueValue, Counter, AuditEntry):
            model.objects.filter(entity=job.entity).update(entity=job.params["to"])
        # Jobs queued behind this one were scheduled under the new key already.
    elif job.kind == Kind.PURGE_FIELD:
        UniqueValue.objects.filter(entity=job.entity, field=job.params["field"]).delete()
