"""State machines on choice fields, enforced by the records service on every write: a new
record starts in an initial state, a change of state must follow an allowed transition (its
roles, its condition, its required fields); otherwise the write is refused with the reason."""

from __future__ import annotations

from records.errors import FieldError
from records.values import cel_record, condition_holds


def check(config, entity, previous: dict | None, data: dict, system: dict, permissions):
    """(errors, transitions taken) for a record about to be written by a user with
    ``permissions`` (records/permissions.py); ``previous`` is None for a new record."""
    machines = config.workflows.state_machines.get(entity.key, []) if config.workflows else []
    if not machines:
        return [], []
    errors: list[FieldError] = []
    taken = []
    record = None
    for machine in machines:
        field = machine.field
        new = data.get(field)
        if previous is None:
            if machine.initial and new not in machine.initial:
                starts = ", ".join(sorted(machine.initial))
                errors.append(
                    FieldError(
                        field,
                        "invalid_initial_state",
                        f"a new {entity.key} starts as {starts}, not {new!r}",
                    )
                )
            continue
        old = previous.get(field)
        if old == new:
            continue
        candidates = [t for t in machine.transitions if t.leaves(old) and t.target == new]
        if not candidates:
            targets = sorted({t.target for t in machine.allowed_from(old)})
            errors.append(
                FieldError(
                    field,
                    "transition_not_allowed",
                    f"{field} cannot go from {old!r} to {new!r}"
                    + (f"; from {old!r} it may go to {', '.join(targets)}" if targets else ""),
                )
            )
            continue
        if record is None:
            record = cel_record(entity, data, system)
        reasons = []
        for transition in candidates:
            reason = refusal(transition, data, record, permissions)
            if reason is None:
                taken.append((machine, transition))
                break
            reasons.append(reason)
        else:
            errors.append(FieldError(field, "transition_refused", reasons[0]))
    return errors, taken


def refusal(transition, data: dict, record: dict, permissions) -> str | None:
    """Why the transition may not be taken now, or None (the platform's own writes, workflow
    actions, need no role)."""
    from records.permissions import SystemPermissions

    name = transition.key
    is_system = isinstance(permissions, SystemPermissions)
    if (
        transition.roles
        and not is_system
        and not set(permissions.principal.roles) & transition.roles
    ):
        return f"{name}: only {', '.join(sorted(transition.roles))} may do it"
    missing = [key for key in transition.required_fields if data.get(key) in (None, "", [])]
    if missing:
        return f"{name} needs {', '.join(missing)}"
    if not condition_holds(transition.condition, record):
        return f"{name}: the condition {transition.condition_source} does not hold"
    return None
