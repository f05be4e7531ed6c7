"""A form's conditions, enforced by the records service on every write of a user, whatever the
channel: a field whose form shows it only when ``visible_if`` holds, or makes it read-only when
``read_only_if`` holds, cannot be changed then; a ``required_if`` that holds makes it required.
Conditions read the record as it would be saved (``read_only_if``: as it was before the change,
so a write cannot unlock itself). The platform's own writes (workflow actions) are not bound by
forms."""

from __future__ import annotations

from records.errors import FieldError
from records.values import cel_record, condition_holds, reads_of


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
    if form is None or not form.conditional_rules:
        return []
    keys = reads_of(form.condition_sources)  # CEL sees only what the conditions read
    after = cel_record(entity, data, system, keys)
    before = after if previous is None else cel_record(entity, previous, system, keys)
    holds_after, holds_before = _memo(after), _memo(before)
    errors = []
    for rule in form.conditional_rules:
        key = rule.key
        visible = holds_after(rule.visible_if)
        if key in changed and (
            not visible or (rule.read_only_if and holds_before(rule.read_only_if))
        ):
            why = "is not shown" if not visible else "is read-only"
            errors.append(FieldError(key, "read_only", f"{key} {why} on this record's form"))
            continue
        if visible and rule.required_if and holds_after(rule.required_if):
            if data.get(key) in (None, "", []):
                errors.append(
                    FieldError(key, "required", f"{key} is required on this record's form")
                )
    return errors


def _memo(record: dict):
    """all_hold over ``record``, each condition evaluated once (a tab's or a section's
    condition is every one of its fields')."""
    answers: dict[str, bool] = {}

    def holds(programs) -> bool:
        for program in programs:
            if program.source not in answers:
                answers[program.source] = condition_holds(program, record)
            if not answers[program.source]:
                return False
        return True

    return holds
