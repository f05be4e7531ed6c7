"""Meaning checks of the ``workflows`` section at publish (metadata/semantics.py runs them
after the JSON Schema): triggers that fit their fields, conditions that compile to a boolean,
states, roles and fields that exist, actions that make sense, no workflows starting each other
in a circle. Field and entity names in general are checked by metadata's reference checks."""

from __future__ import annotations

from collections.abc import Iterator

from metadata.cel_check import ExpressionError
from metadata.fieldtypes.base import Problem
from workflows.actions import actions
from workflows.approvers import approver_kinds
from workflows.definitions import parse_duration

DATE_TYPES = ("date", "datetime")


def check_workflows(ctx) -> Iterator[Problem]:
    for index, workflow in enumerate(ctx.document.get("workflows", [])):
        entity = ctx.entities.get(workflow.get("entity"))
        if entity is None:
            continue  # named by the reference checks
        path = f"workflows[{index}]"
        fields = {f["key"]: f for f in entity.get("fields", [])}
        if workflow["type"] == "automation":
            yield from check_trigger(workflow["trigger"], f"{path}.trigger", fields)
            yield from check_condition(ctx, workflow.get("condition"), f"{path}.condition", entity)
            yield from check_actions(ctx, workflow["actions"], f"{path}.actions", entity)
        elif workflow["type"] == "state_machine":
            yield from check_state_machine(ctx, workflow, path, entity, fields)
        else:
            yield from check_approval(ctx, workflow, path, entity)
    yield from check_start_cycles(ctx)


def check_condition(ctx, source, path: str, entity: dict) -> Iterator[Problem]:
    if source is None:
        return
    try:
        ctx.check_cel(source, expect="bool", entity=entity)
    except ExpressionError as error:
        yield Problem(path, "invalid_expression", str(error))


def moment_type(field: dict) -> str:
    """What a date trigger watches: a date or date-time field, or a formula or rollup giving
    one (a case's SLA due time, computed from its priority)."""
    if field["type"] in ("formula", "rollup"):
        return field.get("result_type", field["type"])
    return field["type"]


def check_trigger(trigger: dict, path: str, fields: dict) -> Iterator[Problem]:
    on = trigger["on"]
    if on == "field_change" and not trigger.get("fields"):
        yield Problem(path, "fields_needed", "field_change needs the fields it watches")
    if on != "field_change" and trigger.get("fields"):
        yield Problem(f"{path}.fields", "not_for_trigger", f"{on} takes no fields")
    if on == "date":
        field = fields.get(trigger.get("field"))
        if trigger.get("field") is None:
            yield Problem(path, "field_needed", "a date trigger needs the date field")
        elif field is not None and moment_type(field) not in DATE_TYPES:
            yield Problem(
                f"{path}.field", "not_a_date", f"{field['key']} is {field['type']}, not a date"
            )
    elif trigger.get("field") or trigger.get("offset"):
        yield Problem(path, "not_for_trigger", f"{on} takes no field or offset")
    if trigger.get("offset"):
        try:
            parse_duration(trigger["offset"])
        except ValueError as error:
            yield Problem(f"{path}.offset", "invalid_duration", str(error))


def check_actions(ctx, specs: list, path: str, entity: dict) -> Iterator[Problem]:
    """Each action of a list; the records earlier actions name (``as``) are known to the
    expressions of the later ones as ``created.<name>``."""
    named: list[str] = []
    try:
        for index, spec in enumerate(specs or []):
            ctx.named_before = tuple(named)
            yield from actions.get(spec["type"]).check(spec, f"{path}[{index}]", ctx, entity)
            name = spec.get("as")
            if name in named:
                yield Problem(
                    f"{path}[{index}].as", "duplicate_key", f"an earlier action is named {name!r}"
                )
            elif name:
                named.append(name)
    finally:
        ctx.named_before = None


def check_state_machine(ctx, workflow, path, entity, fields) -> Iterator[Problem]:
    field = fields.get(workflow["field"])
    if field is None:
        return  # named by the reference checks
    if field["type"] != "choice":
        yield Problem(
            f"{path}.field", "not_a_choice", f"{field['key']} is {field['type']}, not a choice"
        )
        return
    values = {option["value"] for option in field.get("options", [])}
    initial = workflow.get("initial")
    for state in initial if isinstance(initial, list) else [initial] if initial else []:
        if state not in values:
            yield Problem(
                f"{path}.initial", "unknown_state", f"{state!r} is not an option of {field['key']}"
            )
    seen: set[str] = set()
    for index, transition in enumerate(workflow["transitions"]):
        where = f"{path}.transitions[{index}]"
        key = transition.get("key")
        if key is not None and key in seen:
            yield Problem(
                f"{where}.key", "duplicate_key", f"the transition {key!r} is defined twice"
            )
        seen.add(key)
        yield from ctx.unknown_roles(transition.get("roles"), f"{where}.roles")
        for key_index, key in enumerate(transition.get("required_fields", [])):
            if key not in fields:
                yield Problem(
                    f"{where}.required_fields[{key_index}]",
                    "unknown_field",
                    f"{key!r} is not a field of {entity['key']}",
                )
        yield from check_condition(ctx, transition.get("condition"), f"{where}.condition", entity)
        yield from check_actions(ctx, transition.get("actions"), f"{where}.actions", entity)


def check_approval(ctx, workflow, path, entity) -> Iterator[Problem]:
    yield from check_condition(ctx, workflow.get("entry"), f"{path}.entry", entity)
    submitters = (workflow.get("submitters") or {}).get("roles")
    yield from ctx.unknown_roles(submitters, f"{path}.submitters.roles")
    seen: set[str] = set()
    for index, step in enumerate(workflow["steps"]):
        where = f"{path}.steps[{index}]"
        if step["key"] in seen:
            yield Problem(f"{where}.key", "duplicate_key", f"the step {step['key']!r} is twice")
        seen.add(step["key"])
        yield from check_condition(ctx, step.get("criteria"), f"{where}.criteria", entity)
        groups = [("approvers", step["approvers"])]
        escalation = step.get("escalation")
        if escalation is not None:
            groups.append(("escalation.to", escalation.get("to") or []))
            if bool(escalation.get("to")) == bool(escalation.get("decide")):
                yield Problem(
                    f"{where}.escalation", "escalate_how", "give either to (approvers) or decide"
                )
            try:
                parse_duration(escalation["after"])
            except ValueError as error:
                yield Problem(f"{where}.escalation.after", "invalid_duration", str(error))
        for name, approvers in groups:
            for approver_index, spec in enumerate(approvers):
                yield from approver_kinds.get(spec["type"]).check(
                    spec, f"{where}.{name}[{approver_index}]", ctx, entity
                )
        on_reject = step.get("on_reject", "end")
        earlier = [s["key"] for s in workflow["steps"][:index]]
        if index == 0 and on_reject == "previous":
            yield Problem(f"{where}.on_reject", "no_previous", "the first step has no previous")
        elif on_reject not in ("end", "previous") and on_reject not in earlier:
            yield Problem(
                f"{where}.on_reject",
                "unknown_step",
                f"{on_reject!r} is not end, previous or an earlier step",
            )
    for phase, specs in (workflow.get("actions") or {}).items():
        yield from check_actions(ctx, specs, f"{path}.actions.{phase}", entity)


def check_start_cycles(ctx) -> Iterator[Problem]:
    """Automations starting automations must not come back to themselves."""
    edges: dict[str, list[str]] = {}
    paths: dict[str, str] = {}
    for index, workflow in enumerate(ctx.document.get("workflows", [])):
        if workflow.get("type") != "automation":
            continue
        paths[workflow["key"]] = f"workflows[{index}]"
        edges[workflow["key"]] = [
            spec["workflow"]
            for spec in workflow.get("actions", [])
            if spec.get("type") == "start_workflow"
        ]
    reported: set[frozenset] = set()
    for start in sorted(edges):
        stack = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for nxt in edges.get(node, []):
                if nxt == start:
                    cycle = frozenset(trail)
                    if cycle not in reported:
                        reported.add(cycle)
                        yield Problem(
                            paths[start],
                            "workflow_cycle",
                            "workflows start each other in a circle: "
                            + " -> ".join([*trail, start]),
                        )
                elif nxt not in trail and nxt in edges:
                    stack.append((nxt, [*trail, nxt]))
