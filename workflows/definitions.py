"""The compiled form of the ``workflows`` section, built with the rest of a configuration
version (metadata/compiled.py): automations by entity and trigger, state machines by entity
and field, CEL conditions compiled once."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache

import cel

from metadata.cel_check import compile_expression

DURATION = re.compile(
    r"^(?P<sign>-)?P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?"
    r"(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


def parse_duration(text: str) -> dt.timedelta:
    """An ISO 8601 duration as a timedelta (a year counts 365 days, a month 30)."""
    match = DURATION.match(text or "")
    if match is None or text in ("P", "-P"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as P3D or -PT4H")
    parts = {k: int(v) for k, v in match.groupdict().items() if v and k != "sign"}
    delta = dt.timedelta(
        days=parts.get("years", 0) * 365
        + parts.get("months", 0) * 30
        + parts.get("weeks", 0) * 7
        + parts.get("days", 0),
        hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0),
        seconds=parts.get("seconds", 0),
    )
    return -delta if match.group("sign") else delta


@dataclass(frozen=True)
class Automation:
    key: str
    entity: str
    on: str  # create, update, create_or_update, delete, field_change, date
    fields: tuple[str, ...]  # field_change: any of these; date: the date field
    offset: dt.timedelta | None  # date: when, relative to the date
    condition: cel.Program | None
    condition_source: str | None
    actions: tuple[dict, ...]
    spec: dict

    def listens_to(self, kind: str, changed: set[str]) -> bool:
        """Whether an event of ``kind`` (created, updated, deleted) with ``changed`` fields
        triggers it (schedules are found by the beat task, not by events)."""
        if self.on == "create":
            return kind == "created"
        if self.on == "update":
            return kind == "updated"
        if self.on == "create_or_update":
            return kind in ("created", "updated")
        if self.on == "delete":
            return kind == "deleted"
        if self.on == "field_change":
            return kind in ("created", "updated") and bool(changed & set(self.fields))
        return False


@dataclass(frozen=True)
class Transition:
    key: str
    sources: frozenset[str]  # "*": any
    target: str
    roles: frozenset[str]
    condition: cel.Program | None
    condition_source: str | None
    required_fields: tuple[str, ...]
    actions: tuple[dict, ...]
    label: dict

    def leaves(self, state: str | None) -> bool:
        return "*" in self.sources or state in self.sources


@dataclass(frozen=True)
class StateMachine:
    key: str
    entity: str
    field: str
    initial: frozenset[str]  # empty: any state
    transitions: tuple[Transition, ...]

    def allowed_from(self, state: str | None) -> list[Transition]:
        return [t for t in self.transitions if t.leaves(state)]


@dataclass(frozen=True)
class ApprovalStep:
    key: str
    label: dict
    criteria: cel.Program | None
    approvers: tuple[dict, ...]
    mode: str  # any: the first decision decides; all: every approver must approve
    on_reject: str  # end, previous
    escalate_after: dt.timedelta | None
    escalate_to: tuple[dict, ...]
    escalate_decision: str | None  # approve / reject automatically


@dataclass(frozen=True)
class ApprovalProcess:
    key: str
    entity: str
    label: dict
    entry: cel.Program | None
    entry_source: str | None
    submitter_roles: frozenset[str]
    owner_submits: bool
    allow_self_approval: bool
    lock: bool
    steps: tuple[ApprovalStep, ...]
    actions: dict  # phase -> action specs

    def step(self, key: str) -> ApprovalStep:
        return next(step for step in self.steps if step.key == key)


@dataclass
class Workflows:
    by_key: dict[str, object] = field(default_factory=dict)
    automations: dict[str, list[Automation]] = field(default_factory=dict)  # by entity
    state_machines: dict[str, list[StateMachine]] = field(default_factory=dict)  # by entity
    approvals: dict[str, list[ApprovalProcess]] = field(default_factory=dict)  # by entity

    def listening(self, entity: str, kind: str, changed: set[str]) -> list[Automation]:
        return [a for a in self.automations.get(entity, []) if a.listens_to(kind, changed)]

    def has_listeners(self, entity: str) -> bool:
        """Whether a change of a record of ``entity`` may start anything (an event is kept)."""
        machines = self.state_machines.get(entity, [])
        automations = [a for a in self.automations.get(entity, []) if a.on != "date"]
        return bool(automations) or any(t.actions for m in machines for t in m.transitions)


def _program(source: str | None) -> cel.Program | None:
    return compile_expression(source) if source else None


def _states(value) -> frozenset[str]:
    if value is None:
        return frozenset()
    return frozenset(value if isinstance(value, list) else [value])


def compile_workflows(document: dict) -> Workflows:
    """Compile a validated document's workflows (inactive ones left out)."""
    compiled = Workflows()
    for spec in document.get("workflows", []):
        if spec.get("active") is False:
            continue
        if spec["type"] == "automation":
            trigger = spec["trigger"]
            on = trigger["on"]
            fields = tuple(trigger.get("fields") or ([trigger["field"]] if on == "date" else []))
            automation = Automation(
                key=spec["key"],
                entity=spec["entity"],
                on=on,
                fields=fields,
                offset=parse_duration(trigger["offset"]) if trigger.get("offset") else None,
                condition=_program(spec.get("condition")),
                condition_source=spec.get("condition"),
                actions=tuple(spec["actions"]),
                spec=spec,
            )
            compiled.automations.setdefault(spec["entity"], []).append(automation)
            compiled.by_key[spec["key"]] = automation
        elif spec["type"] == "state_machine":
            machine = StateMachine(
                key=spec["key"],
                entity=spec["entity"],
                field=spec["field"],
                initial=_states(spec.get("initial")),
                transitions=tuple(
                    Transition(
                        key=t.get("key") or f"{'_'.join(sorted(_states(t['from'])))}_to_{t['to']}",
                        sources=_states(t["from"]),
                        target=t["to"],
                        roles=frozenset(t.get("roles", [])),
                        condition=_program(t.get("condition")),
                        condition_source=t.get("condition"),
                        required_fields=tuple(t.get("required_fields", [])),
                        actions=tuple(t.get("actions", [])),
                        label=t.get("label", {}),
                    )
                    for t in spec["transitions"]
                ),
            )
            compiled.state_machines.setdefault(spec["entity"], []).append(machine)
            compiled.by_key[spec["key"]] = machine
        elif spec["type"] == "approval":
            process = compile_approval(spec)
            compiled.approvals.setdefault(spec["entity"], []).append(process)
            compiled.by_key[spec["key"]] = process
    return compiled


def compile_approval(spec: dict) -> ApprovalProcess:
    submitters = spec.get("submitters") or {}
    steps = []
    for step in spec["steps"]:
        escalation = step.get("escalation") or {}
        steps.append(
            ApprovalStep(
                key=step["key"],
                label=step.get("label", {}),
                criteria=_program(step.get("criteria")),
                approvers=tuple(step["approvers"]),
                mode=step.get("mode", "any"),
                on_reject=step.get("on_reject", "end"),
                escalate_after=parse_duration(escalation["after"]) if escalation else None,
                escalate_to=tuple(escalation.get("to") or ()),
                escalate_decision=escalation.get("decide"),
            )
        )
    return ApprovalProcess(
        key=spec["key"],
        entity=spec["entity"],
        label=spec.get("label", {}),
        entry=_program(spec.get("entry")),
        entry_source=spec.get("entry"),
        submitter_roles=frozenset(submitters.get("roles", [])),
        owner_submits=bool(submitters.get("owner")),
        allow_self_approval=bool(spec.get("allow_self_approval")),
        lock=spec.get("lock", True),
        steps=tuple(steps),
        actions=dict(spec.get("actions") or {}),
    )


@lru_cache(maxsize=1024)
def program(source: str) -> cel.Program:
    """A CEL program compiled once per process (action expressions, rule conditions)."""
    return compile_expression(source)
