"""What consultants and integrators do with workflows: list and retry dead letters, simulate
a workflow on a record, take a state machine's transition by name."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from metadata.compiled import active_config
from records.errors import RecordError, RecordErrorCode
from records.models import Record
from records.values import cel_record, evaluate
from tenants.context import tenant_context
from workflows.actions import ActionContext, actions
from workflows.definitions import ApprovalProcess, Automation, StateMachine
from workflows.models import OutboxEvent
from workflows.outbox import dispatch, system_of


def dead_letters(tenant, limit: int = 100) -> list[OutboxEvent]:
    with tenant_context(tenant):
        return list(
            OutboxEvent.objects.filter(status=OutboxEvent.Status.DEAD).order_by("-finished_at")[
                :limit
            ]
        )


def retry(tenant, event_ids: list[int] | None = None) -> int:
    """Put dead events back to pending (all of them when ``event_ids`` is None) and hand them
    to the workers; actions that did apply before are not applied again."""
    with tenant_context(tenant):
        dead = OutboxEvent.objects.filter(status=OutboxEvent.Status.DEAD)
        if event_ids is not None:
            dead = dead.filter(pk__in=event_ids)
        ids = list(dead.values_list("pk", flat=True))
        dead.update(
            status=OutboxEvent.Status.PENDING,
            attempts=0,
            next_attempt_at=None,
            finished_at=None,
            dispatched_at=timezone.now(),
        )
    if ids:
        dispatch(tenant.pk, ids, sweeping=True)
    return len(ids)


@dataclass
class Simulation:
    workflow: str
    kind: str
    lines: list[str]


def simulate(tenant, workflow_key: str, record_id: int) -> Simulation:
    """What a workflow would do on a record as it is now, changing nothing."""
    with tenant_context(tenant):
        config = active_config(tenant)
        workflow = config.workflows.by_key.get(workflow_key) if config else None
        if workflow is None:
            raise RecordError(
                RecordErrorCode.INVALID, f"There is no active workflow {workflow_key!r}."
            )
        entity = config.entities[workflow.entity]
        record = Record.objects.filter(
            pk=record_id, entity=entity.key, deleted_at__isnull=True
        ).first()
        if record is None:
            raise RecordError(RecordErrorCode.NOT_FOUND, f"There is no {entity.key} {record_id}.")
        values = cel_record(entity, record.data, system_of(record))
        context = ActionContext(
            tenant=tenant,
            config=config,
            entity=entity,
            record_id=record.pk,
            record=record.data,
            system=system_of(record),
            event_id=0,
            kind="simulated",
            workflow=workflow_key,
            idempotency_key=f"0:{workflow_key}:0",
            depth=0,
        )
        if isinstance(workflow, Automation):
            lines = automation_lines(workflow, values, context)
            return Simulation(workflow_key, "automation", lines)
        if isinstance(workflow, ApprovalProcess):
            lines = approval_lines(workflow, record, entity, values, context)
            return Simulation(workflow_key, "approval", lines)
        lines = machine_lines(workflow, record, values, context)
        return Simulation(workflow_key, "state_machine", lines)


def holds(program, values) -> str:
    if program is None:
        return "no condition"
    try:
        return "holds" if evaluate(program, values) is True else "does not hold"
    except Exception as error:  # noqa: BLE001
        return f"cannot be evaluated ({error})"


def automation_lines(automation: Automation, values: dict, context) -> list[str]:
    trigger = automation.on + (f" of {', '.join(automation.fields)}" if automation.fields else "")
    if automation.offset is not None:
        trigger += f" {automation.spec['trigger']['offset']}"
    verdict = holds(automation.condition, values)
    lines = [f"trigger: {trigger}", f"condition: {automation.condition_source or '-'}: {verdict}"]
    runs = verdict in ("holds", "no condition")
    for index, spec in enumerate(automation.actions):
        described = actions.get(spec["type"]).describe(spec, context)
        lines.append(f"action {index + 1}: {described}" + ("" if runs else " (not run)"))
    return lines


def approval_lines(process: ApprovalProcess, record, entity, values, context) -> list[str]:
    """The steps that would apply to the record, their approvers by name, and the actions."""
    from tenants.models import User
    from workflows.approvers import approver_kinds

    entry = holds(process.entry, values)
    lines = [f"entry: {process.entry_source or '-'}: {entry}"]
    for step in process.steps:
        verdict = holds(step.criteria, values)
        if verdict not in ("holds", "no condition"):
            lines.append(f"step {step.key}: skipped (criteria {verdict})")
            continue
        ids: list[int] = []
        for spec in step.approvers:
            kind = approver_kinds.get(spec["type"])
            ids += [user for user in kind.users(spec, None, record) if user not in ids]
        emails = User.objects.filter(pk__in=ids).order_by("email").values_list("email", flat=True)
        who = ", ".join(emails) or "nobody: a submission would be refused"
        lines.append(f"step {step.key} ({step.mode}): {who}")
    for phase, specs in process.actions.items():
        for spec in specs:
            lines.append(f"on {phase}: {actions.get(spec['type']).describe(spec, context)}")
    return lines


def machine_lines(machine: StateMachine, record, values: dict, context) -> list[str]:
    state = record.data.get(machine.field)
    lines = [f"{machine.field} is {state!r}"]
    leaving = machine.allowed_from(state)
    if not leaving:
        lines.append("no transition leaves it")
    for transition in leaving:
        needs = [k for k in transition.required_fields if record.data.get(k) in (None, "", [])]
        parts = [f"{transition.key}: -> {transition.target}"]
        if transition.roles:
            parts.append(f"roles {', '.join(sorted(transition.roles))}")
        if transition.condition is not None:
            parts.append(f"condition {holds(transition.condition, values)}")
        if needs:
            parts.append(f"needs {', '.join(needs)}")
        for spec in transition.actions:
            parts.append(f"then {actions.get(spec['type']).describe(spec, context)}")
        lines.append("; ".join(parts))
    return lines


def transition(service, entity_key: str, record_id: int, key: str, values: dict | None = None):
    """Take the transition ``key`` of the entity's state machine (with ``values`` to fill
    the fields it requires): the records service checks it like any change of state."""
    config = service.configuration()
    machines = config.workflows.state_machines.get(entity_key, []) if config.workflows else []
    found = [(m, t) for m in machines for t in m.transitions if t.key == key]
    if not found:
        raise RecordError(RecordErrorCode.INVALID, f"{entity_key} has no transition {key!r}.")
    machine, chosen = found[0]
    current = service.get(entity_key, record_id)
    state = current.values.get(machine.field)
    if not chosen.leaves(state):
        raise RecordError(
            RecordErrorCode.INVALID,
            f"{key} does not leave {state!r} (it leaves {', '.join(sorted(chosen.sources))}).",
        )
    return service.update(entity_key, record_id, {**(values or {}), machine.field: chosen.target})


def delegate(tenant, user_email: str, delegate_email: str, starts, ends):
    """While ``user`` is away (``starts`` to ``ends``), ``delegate`` may decide their
    approvals too; both must be active members."""
    from tenants.models import Membership
    from workflows.models import Delegation

    if ends <= starts:
        raise RecordError(RecordErrorCode.INVALID, "A delegation must end after it starts.")
    with tenant_context(tenant):
        found = {}
        for email in (user_email, delegate_email):
            membership = Membership.objects.filter(
                user__email__iexact=email, is_active=True
            ).first()
            if membership is None:
                raise RecordError(
                    RecordErrorCode.INVALID, f"{email} is not a member of {tenant.slug}."
                )
            found[email] = membership.user_id
        if found[user_email] == found[delegate_email]:
            raise RecordError(RecordErrorCode.INVALID, "Nobody stands in for themselves.")
        return Delegation.objects.create(
            tenant=tenant,
            user_id=found[user_email],
            delegate_id=found[delegate_email],
            starts=starts,
            ends=ends,
        )


def notifications(tenant, user, *, unread_only: bool = False, limit: int = 50) -> list:
    """The user's in-app notifications, newest first."""
    from workflows.models import Notification

    if not 1 <= limit <= 500:
        raise RecordError(RecordErrorCode.INVALID_QUERY, "first must be between 1 and 500")
    with tenant_context(tenant, user=user):
        found = Notification.objects.filter(user=user)
        if unread_only:
            found = found.filter(read_at__isnull=True)
        return list(found.order_by("-created_at", "-pk")[:limit])


def mark_read(tenant, user, ids: list[int] | None) -> int:
    """Mark the user's notifications read (all of them when ``ids`` is None)."""
    from workflows.models import Notification

    with tenant_context(tenant, user=user):
        found = Notification.objects.filter(user=user, read_at__isnull=True)
        if ids is not None:
            found = found.filter(pk__in=ids)
        return found.update(read_at=timezone.now())
