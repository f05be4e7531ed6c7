"""Sharing: single records shared with a user or a team, and the configuration's sharing rules.

A sharing rule's condition is CEL, which SQL cannot evaluate; so the records service evaluates
the rules of the entity on every write and keeps the keys of those a record meets in
``records_record.shared_by_rules``. The permission scopes (records/permissions.py) then compare
that array with the rules reaching the user. A publish that changes the rules re-evaluates the
stored records (the ``reshare`` schema job, records/schema_jobs.py).
"""

from __future__ import annotations

from django.utils import timezone

from records.models import RecordShare
from records.values import cel_record, evaluate, reads_of, system_values


def matching_sharing_rules(config, entity, record) -> list[str]:
    """The keys of the entity's sharing rules whose condition the record (a Record or a bulk
    create's NewRecord, its ``data`` complete) meets; conditions see its system fields too."""
    rules = config.sharing_rules.get(entity.key, ())
    if not rules:
        return []
    keys = reads_of(tuple(rule.program.source for rule in rules))
    seen = cel_record(entity, record.data, system_values(record), keys)
    matched = []
    for rule in rules:
        try:
            if evaluate(rule.program, seen) is True:
                matched.append(rule.key)
        except Exception:  # noqa: BLE001, S112  (a condition over empty values shares nothing)
            continue
    return sorted(matched)


def share(record_id: int, *, user_id: int | None, team_id: int | None, access: str, by) -> bool:
    """Share (or re-share with another access) one record; whether anything changed."""
    match = {"record_id": record_id, "user_id": user_id, "team_id": team_id}
    existing = RecordShare.objects.filter(**match).first()
    if existing is not None:
        if existing.access == access:
            return False
        existing.access = access
        existing.save(update_fields=["access"])
        return True
    RecordShare.objects.create(**match, access=access, created_by=by, created_at=timezone.now())
    return True


def unshare(record_id: int, *, user_id: int | None, team_id: int | None) -> bool:
    deleted, _ = RecordShare.objects.filter(
        record_id=record_id, user_id=user_id, team_id=team_id
    ).delete()
    return bool(deleted)
