"""Bulk actions on the records chosen in a list: a registry of small classes, one per action.

Each record goes through the records service on its own (its own savepoint), so permissions,
validation rules, approval locks and workflows apply exactly as for one record; the records
refused are reported with the reason and the others are done. An action is offered only to
users whose roles could take it on some record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from django.utils.translation import gettext_lazy as _

from metadata.registry import Registry
from records.errors import RecordError
from tenants.models import Membership
from ui_builder.display import label_of

MAX_RECORDS = 1000  # "every record of the list" takes at most this many


@dataclass
class Outcome:
    done: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)


class BulkAction:
    key: ClassVar[str]
    label: ClassVar[object]

    def available(self, service, config, entity) -> bool:
        raise NotImplementedError

    def inputs(self, service, config, entity) -> dict:
        """What the action asks for besides the records (choices for the page)."""
        return {}

    def apply(self, service, entity, record_id: int, params) -> None:
        raise NotImplementedError

    def check(self, service, config, entity, params) -> str | None:
        """A problem with the parameters themselves (nothing is done then)."""
        return None


bulk_action_types = Registry("bulk action")


def _may(service, config, entity, action: str) -> bool:
    return bool(service.permissions.access(config, entity).scopes.get(action))


@bulk_action_types.register
class Delete(BulkAction):
    key = "delete"
    label = _("Delete")

    def available(self, service, config, entity) -> bool:
        return _may(service, config, entity, "delete")

    def apply(self, service, entity, record_id, params) -> None:
        service.delete(entity.key, record_id)


@bulk_action_types.register
class Assign(BulkAction):
    key = "assign"
    label = _("Change owner")

    def available(self, service, config, entity) -> bool:
        return _may(service, config, entity, "update")

    def inputs(self, service, config, entity) -> dict:
        members = (
            Membership.objects.filter(is_active=True).select_related("user").order_by("user__email")
        )
        return {"owners": [(m.user_id, m.user.email) for m in members]}

    def check(self, service, config, entity, params) -> str | None:
        if not params.get("owner", "").isdigit():
            return str(_("Choose the new owner."))
        return None

    def apply(self, service, entity, record_id, params) -> None:
        service.assign(entity.key, record_id, owner=int(params["owner"]))


@bulk_action_types.register
class SetField(BulkAction):
    """Mass update: one field set to one value, for roles with ``mass_update``."""

    key = "set_field"
    label = _("Set a field")

    def available(self, service, config, entity) -> bool:
        return service.permissions.has(config, "mass_update") and _may(
            service, config, entity, "update"
        )

    def editable(self, service, config, entity) -> list[tuple[str, str]]:
        access = service.permissions.access(config, entity)
        return [
            (key, label_of(f.options.get("label"), key))
            for key, f in entity.fields.items()
            if not f.type.computed
            and not f.options.get("read_only")
            and access.field_access(key) == "edit"
        ]

    def inputs(self, service, config, entity) -> dict:
        return {"fields": self.editable(service, config, entity)}

    def check(self, service, config, entity, params) -> str | None:
        if params.get("field") not in dict(self.editable(service, config, entity)):
            return str(_("Choose a field you may edit."))
        return None

    def apply(self, service, entity, record_id, params) -> None:
        from ui_builder.editing import values_from

        values = values_from(entity, {params["field"]: params.get("value", "")})
        service.update(entity.key, record_id, values)


def available(service, config, entity) -> list[BulkAction]:
    return [
        action
        for _, action in bulk_action_types.items()
        if action.available(service, config, entity)
    ]


def run(service, entity_key: str, action_key: str, ids: list[int], params) -> Outcome:
    """Apply the action to each record; RecordError if the action or its parameters are
    wrong (then nothing is done)."""
    from records.errors import RecordErrorCode

    config = service.configuration()
    entity = service.entity(entity_key, config)
    if action_key not in bulk_action_types:
        raise RecordError(RecordErrorCode.INVALID, f"There is no bulk action {action_key!r}.")
    action = bulk_action_types.get(action_key)
    if not action.available(service, config, entity):
        raise RecordError(RecordErrorCode.PERMISSION_DENIED, str(_("You may not do this.")))
    if not ids:
        raise RecordError(RecordErrorCode.INVALID, str(_("Choose the records first.")))
    problem = action.check(service, config, entity, params)
    if problem:
        raise RecordError(RecordErrorCode.INVALID, problem)
    outcome = Outcome()
    for record_id in ids:
        try:
            action.apply(service, entity, record_id, params)
        except RecordError as error:
            outcome.refused.append((record_id, error.message))
        else:
            outcome.done.append(record_id)
    return outcome
