"""The compiled form of the ``layouts`` section: per entity and kind, the layouts with the
roles they serve, and for forms the conditions of each field (compiled once per version)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import cel

from metadata.cel_check import compile_expression


@dataclass(frozen=True)
class FieldRule:
    """What a form says of one field: shown, required and read-only when (all of) these
    conditions hold, from its tab, its section and the field itself."""

    key: str
    visible_if: tuple[cel.Program, ...] = ()
    required_if: tuple[cel.Program, ...] = ()
    read_only_if: tuple[cel.Program, ...] = ()


@dataclass(frozen=True)
class Layout:
    key: str
    kind: str
    entity: str
    roles: frozenset[str]
    default: bool
    spec: dict
    rules: dict[str, FieldRule] = field(default_factory=dict)  # forms: field key -> rule

    @cached_property
    def conditional_rules(self) -> tuple[FieldRule, ...]:
        """A form's rules with a condition (the others enforce nothing)."""
        return tuple(
            rule
            for rule in self.rules.values()
            if rule.visible_if or rule.required_if or rule.read_only_if
        )

    @cached_property
    def condition_sources(self) -> tuple[str, ...]:
        """The sources of every condition of a form's fields."""
        return tuple(
            sorted(
                {
                    program.source
                    for rule in self.conditional_rules
                    for program in (*rule.visible_if, *rule.required_if, *rule.read_only_if)
                }
            )
        )


@dataclass
class Layouts:
    by_entity: dict[tuple[str, str], list[Layout]] = field(default_factory=dict)

    def for_roles(self, entity: str, kind: str, roles) -> Layout | None:
        """The layout of ``kind`` for a user holding ``roles``: the first naming one of
        them, else the default, else the only one."""
        found = self.by_entity.get((entity, kind), [])
        roles = set(roles or ())
        for layout in found:
            if layout.roles & roles:
                return layout
        defaults = [layout for layout in found if layout.default]
        if defaults:
            return defaults[0]
        unassigned = [layout for layout in found if not layout.roles]
        return unassigned[0] if len(unassigned) == 1 else None


def _programs(*sources) -> tuple[cel.Program, ...]:
    return tuple(compile_expression(source) for source in sources if source)


def form_rules(spec: dict) -> dict[str, FieldRule]:
    rules: dict[str, FieldRule] = {}
    for tab in spec["tabs"]:
        for section in tab["sections"]:
            for element in section.get("fields", []):
                element = {"field": element} if isinstance(element, str) else element
                rules[element["field"]] = FieldRule(
                    key=element["field"],
                    visible_if=_programs(
                        tab.get("visible_if"), section.get("visible_if"), element.get("visible_if")
                    ),
                    required_if=_programs(element.get("required_if")),
                    read_only_if=_programs(
                        section.get("read_only_if"), element.get("read_only_if")
                    ),
                )
    return rules


def compile_layouts(document: dict) -> Layouts:
    compiled = Layouts()
    for spec in document.get("layouts", []):
        layout = Layout(
            key=spec["key"],
            kind=spec["type"],
            entity=spec["entity"],
            roles=frozenset(spec.get("roles", [])),
            default=bool(spec.get("default")),
            spec=spec,
            rules=form_rules(spec) if spec["type"] == "form" else {},
        )
        compiled.by_entity.setdefault((spec["entity"], spec["type"]), []).append(layout)
    return compiled
