"""Bulk actions on the records chosen in a list: a registry of small classes, one per action.

Each record goes through the records service on its own (its own savepoint), so permissions,
validation rules, approval locks and workflows apply exactly as for one record; the records
refused are reported with the reason and the others are done. An action is offered only to
users whose roles could take it on some record. An action may offer several entries on one
list (``entries``: *Add to Campaign*, *Add to Event*…), each with its own key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from metadata.registry import Registry
from records.errors import RecordError
from records.permissions import SystemPermissions
from tenants.models import Membership
from ui_builder.display import label_of
from ui_builder.junctions import Junction, junctions_from

MAX_RECORDS = 1000  # "every record of the list" takes at most this many


@dataclass
class Outcome:
    done: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # nothing to do, and why


class Skipped(Exception):
    """Raised by ``apply`` for a record that needs nothing done (it is already so)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class BulkAction:
    key: ClassVar[str]
    label: ClassVar[object]

    def available(self, service, config, entity) -> bool:
        raise NotImplementedError

    def entries(self, service, config, entity) -> list[BulkAction]:
        """What the list offers of this action: itself when available (an action with a choice
        made in the menu, such as where to add the records, offers one entry per choice)."""
        return [self] if self.available(service, config, entity) else []

    def inputs(self, service, config, entity) -> dict:
        """What the action asks for besides the records (choices for the page)."""
        return {}

    def apply(self, service, entity, record_id: int, params) -> None:
        raise NotImplementedError

    def check(self, service, config, entity, params) -> str | None:
        """A problem with the parameters themselves (nothing is done then)."""
        return None

    def prepare(self, service, config, entity, ids: list[int], params) -> None:
        """Read at once what ``apply`` needs to know about all the records (the queries do not
        grow with their number)."""


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
            and f.type.widget not in ("file", "address")  # uploaded, or typed by parts, one by one
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


@bulk_action_types.register
class AddTo(BulkAction):
    """The records added to a record of another entity through a junction entity
    (ui_builder/junctions.py): on a contact list, *Add to Campaign* creates a campaign member
    for each contact, with the campaign chosen. One entry per junction whose records the user
    may create; a record already linked to the one chosen is skipped, not linked twice."""

    key = "add_to"
    label = _("Add to …")

    def __init__(self, junction: Junction | None = None, label: str = ""):
        self.junction = junction
        if junction is not None:
            self.key = f"add_to:{junction.entity}:{junction.source_field}:{junction.target_field}"
            self.label = label
            self.input = f"{self.key}:target"  # the field of the form naming the record chosen
        self.target = None  # the record chosen (check reads it)
        self.linked: set[int] = set()  # the records already linked to it (prepare reads them)

    def available(self, service, config, entity) -> bool:
        return bool(self.entries(service, config, entity))

    def entries(self, service, config, entity) -> list[BulkAction]:
        found = [
            junction
            for junction in junctions_from(config, entity.key)
            if self._may(service, config, junction)
        ]
        labels = [self._label(config, junction) for junction in found]
        entries = []
        for junction, label in zip(found, labels, strict=True):
            if labels.count(label) > 1:  # two junctions to one entity: say which
                label = gettext("%(action)s (%(junction)s: %(field)s)") % {
                    "action": label,
                    "junction": _label(config.entities[junction.entity]),
                    "field": _field_label(config, junction.entity, junction.source_field),
                }
            entries.append(AddTo(junction, label))
        return entries

    @staticmethod
    def _may(service, config, junction: Junction) -> bool:
        """The user may create links, write both their lookups, and read what to link to."""
        access = service.permissions.access(config, config.entities[junction.entity])
        return (
            access.create
            and access.field_access(junction.source_field) == "edit"
            and access.field_access(junction.target_field) == "edit"
            and service.permissions.may_read(config, config.entities[junction.target])
        )

    @staticmethod
    def _label(config, junction: Junction) -> str:
        return gettext("Add to %(target)s") % {"target": _label(config.entities[junction.target])}

    def inputs(self, service, config, entity) -> dict:
        from ui_builder.display import title_field_of, title_of
        from ui_builder.editing import LOOKUP_CHOICES

        target = config.entities[self.junction.target]
        key = title_field_of(target)
        try:  # without JavaScript, a drop-down of the first records; the type-ahead finds all
            rows = service.query(
                target.key, order_by=[{"field": key}] if key else [], first=LOOKUP_CHOICES
            ).rows
        except RecordError:
            rows = []
        return {
            "target": {
                "name": self.input,
                "entity": target.key,
                "label": _field_label(config, self.junction.entity, self.junction.target_field),
                "choices": [(view.id, title_of(target, view.values, view.id)) for view in rows],
            }
        }

    def check(self, service, config, entity, params) -> str | None:
        from ui_builder.display import title_of

        target = config.entities[self.junction.target]
        chosen = params.get(self.input, "").strip()
        words = {"target": _label(target), "id": chosen}
        if not chosen.isdigit():
            return gettext("Choose the %(target)s to add the records to.") % words
        try:  # through the user's scope: one they may not read looks like a missing one
            view = service.get(target.key, int(chosen))
        except RecordError:
            return gettext("There is no %(target)s %(id)s.") % words
        self.target = (view.id, title_of(target, view.values, view.id))
        return None

    def prepare(self, service, config, entity, ids, params) -> None:
        """The records already linked to the target. The links are looked for among every
        link of the tenant, not only those the user may read (a pair is linked once, as a
        unique value is unique), but only for the records the user may read (nothing is
        learnt of the others: their create is refused as for any record out of reach)."""
        from records.service import RecordService

        junction = self.junction
        readable = _ids(service, entity.key, {"field": "id", "op": "in"}, ids)
        system = RecordService(
            service.tenant, None, permissions=SystemPermissions(service.tenant), config=config
        )
        self.linked = _ids(
            system,
            junction.entity,
            {"field": junction.source_field, "op": "in"},
            sorted(readable),
            also={"field": junction.target_field, "op": "eq", "value": self.target[0]},
            read=junction.source_field,
        )

    def apply(self, service, entity, record_id, params) -> None:
        if record_id in self.linked:
            raise Skipped(gettext("already in %(title)s") % {"title": self.target[1]})
        junction = self.junction
        service.create(
            junction.entity,
            {junction.source_field: record_id, junction.target_field: self.target[0]},
        )
        self.linked.add(record_id)  # the same record twice in the list: linked once


def _label(entity) -> str:
    return label_of(entity.options.get("label"), entity.key)


def _field_label(config, entity_key: str, key: str) -> str:
    return label_of(config.entities[entity_key].fields[key].options.get("label"), key)


def _ids(service, entity_key: str, condition: dict, values: list[int], *, also=None, read="id"):
    """The ``read`` values (an id, or a lookup) of the records whose ``condition`` field is
    one of ``values``, page by page: one query per 500 records."""
    from records.query import MAX_PAGE

    found: set[int] = set()
    for start in range(0, len(values), MAX_PAGE):
        tree = {**condition, "value": values[start : start + MAX_PAGE]}
        tree = {"and": [tree, also]} if also else tree
        after = None
        while True:
            page = service.query(entity_key, filter_tree=tree, first=MAX_PAGE, after=after)
            found.update(view.id if read == "id" else view.values[read] for view in page.rows)
            if not page.has_next:
                break
            after = page.end_cursor
    return found


def available(service, config, entity) -> list[BulkAction]:
    return [
        entry
        for _, action in bulk_action_types.items()
        for entry in action.entries(service, config, entity)
    ]


def run(service, entity_key: str, action_key: str, ids: list[int], params) -> Outcome:
    """Apply the action to each record; RecordError if the action or its parameters are
    wrong (then nothing is done)."""
    from records.errors import RecordErrorCode

    config = service.configuration()
    entity = service.entity(entity_key, config)
    kind = action_key.split(":", 1)[0]  # "add_to:<junction>:<field>:<field>": an entry of add_to
    if kind not in bulk_action_types:
        raise RecordError(RecordErrorCode.INVALID, f"There is no bulk action {action_key!r}.")
    entries = bulk_action_types.get(kind).entries(service, config, entity)
    action = next((entry for entry in entries if entry.key == action_key), None)
    if action is None:
        raise RecordError(RecordErrorCode.PERMISSION_DENIED, str(_("You may not do this.")))
    if not ids:
        raise RecordError(RecordErrorCode.INVALID, str(_("Choose the records first.")))
    problem = action.check(service, config, entity, params)
    if problem:
        raise RecordError(RecordErrorCode.INVALID, problem)
    action.prepare(service, config, entity, ids, params)
    outcome = Outcome()
    for record_id in ids:
        try:
            action.apply(service, entity, record_id, params)
        except Skipped as skipped:
            outcome.skipped.append((record_id, skipped.reason))
        except RecordError as error:
            outcome.refused.append((record_id, error.message))
        else:
            outcome.done.append(record_id)
    return outcome
