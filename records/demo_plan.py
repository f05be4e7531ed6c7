"""What a configuration says of filling it with demo data (records/demo_data.py): the order of
the entities (parents first) and, per entity, the record each one belongs to, the fields its
workflows set, the fields its form hides, the dates that follow others."""

from __future__ import annotations

from dataclasses import dataclass

from records import demo_values
from workflows.definitions import Workflows

# Automations that a new record's values start: what they set is theirs.
CREATE_TRIGGERS = ("create", "create_or_update", "field_change")


@dataclass(frozen=True)
class Plan:
    """What the configuration says of filling one entity."""

    parent: object | None  # the lookup to the record each one belongs to
    machines: dict  # field key -> state machine
    automated: frozenset[str]  # fields the configuration's own actions set
    visible: dict  # field key -> the form's visible_if programs
    follow: dict[str, str]  # date field -> the date field it comes after
    order: tuple[str, ...]  # the fields in the order their values are made

    @property
    def protected(self) -> set[str]:
        """Fields a repair leaves alone: the state machines' and the parent."""
        return set(self.machines) | ({self.parent.key} if self.parent else set())


def lookups(entity) -> list:
    return [f for f in entity.fields.values() if f.options["type"] in ("lookup", "multi_lookup")]


def parent_field(entity):
    """The lookup to the record each record belongs to: the first required one, else the
    first deleted with its target (``on_delete: cascade``)."""
    single = [
        f
        for f in entity.fields.values()
        if f.options["type"] == "lookup" and f.options["target"] != entity.key
    ]
    required = [f for f in single if f.options.get("required")]
    owned = [f for f in single if f.options.get("on_delete") == "cascade"]
    return (required or owned or [None])[0]


def plan_for(config, entity) -> Plan:
    workflows = config.workflows or Workflows()
    machines = {m.field: m for m in workflows.state_machines.get(entity.key, [])}
    specs = [
        action
        for automation in workflows.automations.get(entity.key, [])
        if automation.on in CREATE_TRIGGERS
        for action in automation.actions
    ] + [
        action
        for machine in machines.values()
        for transition in machine.transitions
        for action in transition.actions
    ]
    automated = {
        key
        for spec in specs
        if spec.get("type") == "set_fields"
        for key in (*spec.get("values", {}), *spec.get("expressions", {}))
        if key in entity.fields
        and key not in machines
        and not entity.fields[key].options.get("required")
    }
    form = config.layouts.for_roles(entity.key, "form", ()) if config.layouts else None
    visible = {
        key: rule.visible_if
        for key, rule in (form.rules.items() if form else ())
        if rule.visible_if and key in entity.fields
    }
    follow = demo_values.follows(entity)
    keys = list(entity.fields)
    order = sorted(  # lookups first (what they pick decides prices), dates after their start
        keys,
        key=lambda k: (
            entity.fields[k].options["type"] not in ("lookup", "multi_lookup"),
            demo_values.depth(k, follow),
            keys.index(k),
        ),
    )
    return Plan(
        parent=parent_field(entity),
        machines=machines,
        automated=frozenset(automated),
        visible=visible,
        follow=follow,
        order=tuple(order),
    )


def needs(entity) -> set[str]:
    """The entities to fill before this one: its required lookups' and its parent's."""
    needed = {
        f.options["target"]
        for f in entity.fields.values()
        if f.options["type"] == "lookup" and f.options.get("required")
    }
    parent = parent_field(entity)
    if parent is not None:
        needed.add(parent.options["target"])
    return needed - {entity.key}


def awaited(entity, pending) -> int:
    """How many of the entities still to fill point at this one (any lookup)."""
    return sum(
        1
        for other in pending
        if other is not entity and any(f.options["target"] == entity.key for f in lookups(other))
    )


def fill_order(config) -> list:
    """Parents first: of the entities whose needs are filled, the one most waiting entities
    point at; when lookups loop, the one missing the fewest."""
    pending = list(config.entities.values())
    placed: list = []
    while pending:
        done = {e.key for e in placed}
        ready = [e for e in pending if needs(e) <= done]
        if ready:
            entity = max(ready, key=lambda e: awaited(e, pending))
        else:
            entity = min(pending, key=lambda e: len(needs(e) - done))
        placed.append(entity)
        pending.remove(entity)
    return placed
