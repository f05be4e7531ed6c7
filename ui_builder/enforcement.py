"""A form's conditions, enforced by the records service on every write of a user, whatever the
channel: a field whose form shows it only when ``visible_if`` holds, or makes it read-only when
``read_only_if`` holds, cannot be changed then; a ``required_if`` that holds makes it required.
Conditions read the record as it would be saved (``read_only_if``: as it was before the change,
so a write cannot unlock itself). The platform's own writes (workflow actions) are not bound by
forms."""

from __future__ import annotations

from records.errors import FieldError
from records.values import all_hold, cel_record


def check(
    config, entity, previous: dict | None, data: dict, changed: set[str], system: dict, permissions
):
    """The form's errors for a write by the user changing ``changed`` fields (those they gave
    whose value differs; defaults and formulas are the platform's)."""
    from records.permissions import SystemPermissions

    layouts = getattr(config, "layouts", None)
    if (
        layouts is None
        or (entity.key, "form") not in layouts.by_entity
        or isinstance(permissions, SystemPermissions)
    ):
        return []
    form = layouts.for_roles(entity.key, "form", permissions.principal.roles)
    if form is None or not form.rules:
        return []
    after = cel_record(entity, data, system)
    before = after if previous is None else cel_record(entity, previous, system)
    errors = []
    for key, rule in form.rules.items():
        visible = all_hold(rule.visible_if, after)
        if key in changed and (
            not visible or (rule.read_only_if and all_hold(rule.read_only_if, before))
        ):
            why = "is not shown" if not visible else "is read-only"
            errors.append(FieldError(key, "read_only", f"{key} {why} on this record's form"))
            continue
        if visible and rule.required_if and all_hold(rule.required_if, after):
            if data.get(key) in (None, "", []):
                errors.append(
                    FieldError(key, "required", f"{key} is required on this record's form")
                )
    return errors
