"""A record's history timeline for its page: who changed what and when, in words."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from records.errors import RecordError
from ui_builder.display import label_of, shown

ACTIONS = {
    "create": gettext_lazy("created"),
    "update": gettext_lazy("changed"),
    "delete": gettext_lazy("deleted"),
    "restore": gettext_lazy("restored"),
    "assign": gettext_lazy("reassigned"),
    "share": gettext_lazy("shared"),
    "unshare": gettext_lazy("unshared"),
}


@dataclass
class Moment:
    at: object
    who: str
    action: str
    changes: list[tuple[str, str, str]]  # (field, before, after)


def timeline(service, config, entity, record_id: int) -> list[Moment] | None:
    """Newest first; None for users without ``view_audit`` (the service refuses them)."""
    if not service.permissions.has(config, "view_audit"):
        return None
    try:
        entries = service.history(entity.key, record_id)
    except RecordError:
        return None
    titles = lookup_titles(service, config, entity, entries)
    moments = []
    for entry in reversed(entries):
        changes = []
        for change in entry.changes:
            key = change.get("field")
            field_ = entity.fields.get(key)
            if field_ is None:
                continue  # system changes (shares, owner) are said by the action
            changes.append(
                (
                    label_of(field_.options.get("label"), key),
                    shown(field_, change.get("old"), titles),
                    shown(field_, change.get("new"), titles),
                )
            )
        moments.append(
            Moment(
                entry.at,
                entry.user.email if entry.user else _("the system"),
                str(ACTIONS.get(entry.action, entry.action)),
                changes,
            )
        )
    return moments


def lookup_titles(service, config, entity, entries) -> dict[int, str]:
    """The titles of the records the changes' lookups pointed at, before and after (one query
    per target entity; what the user may not read stays a bare number)."""
    from ui_builder.pages import titles_for  # pages draws the timeline

    rows = [
        SimpleNamespace(values={change.get("field"): change.get(side)})
        for entry in entries
        for change in entry.changes
        for side in ("old", "new")
    ]
    return titles_for(service, config, entity, rows) if rows else {}
