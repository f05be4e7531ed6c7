"""Approval processes: submit a record, decide its steps, recall it, escalate late steps.

A submission creates an ApprovalRequest and, for its first applicable step, one ApprovalTask per
approver. Every decision locks the request row first, so two approvers deciding at the same
moment are served one after the other: on an ``any`` step the first decides and the second is
told it was already decided. Each change of the request leaves an ApprovalEntry (the history)
and an outbox event (``approval``) that runs the process's actions for that phase. While a
request is pending the record is locked (``check_unlocked``), except for the platform's own
writes and users holding the ``edit_locked`` permission.
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import Q
from django.utils import timezone

from records.errors import FieldError, RecordError, RecordErrorCode
from records.models import Record
from records.permissions import SystemPermissions
from records.values import cel_record, condition_holds
from tenants.context import tenant_context
from workflows.approvers import approver_kinds
from workflows.definitions import ApprovalProcess, ApprovalStep
from workflows.models import ApprovalEntry, ApprovalRequest, ApprovalTask, Delegation
from workflows.outbox import system_of, write


class ApprovalErrorCode(StrEnum):
    NO_PROCESS = "no_process"
    NOT_A_SUBMITTER = "not_a_submitter"
    ALREADY_PENDING = "already_pending"
    ENTRY_CRITERIA = "entry_criteria"
    NO_STEP = "no_step"
    NO_APPROVER = "no_approver"
    NOT_AN_APPROVER = "not_an_approver"
    ALREADY_DECIDED = "already_decided"
    FINISHED = "finished"
    SELF_APPROVAL = "self_approval"
    NOT_THE_SUBMITTER = "not_the_submitter"


class ApprovalError(RecordError):
    def __init__(self, code: ApprovalErrorCode, message: str):
        super().__init__(code, message)


def holds(program, record: Record, entity) -> bool:
    return condition_holds(program, cel_record(entity, record.data, system_of(record)))


def platform_read(tenant, request) -> Record:
    """The record a request is about, as the platform reads it (the decider may not)."""
    from records.service import RecordService

    return RecordService.system(tenant).stored(
        request.entity, request.record_id, include_deleted=True
    )


def process_of(config, entity_key: str, key: str) -> ApprovalProcess:
    process = config.workflows.by_key.get(key) if config.workflows else None
    if not isinstance(process, ApprovalProcess) or process.entity != entity_key:
        raise ApprovalError(
            ApprovalErrorCode.NO_PROCESS, f"{entity_key} has no approval process {key!r}."
        )
    return process


def _user_id(service) -> int | None:
    return getattr(service.user, "pk", None)


def acting_for(user_id) -> Q:
    """Tasks the user may decide: theirs, those naming them as delegate, and those of anyone
    they stand in for now (a delegation made after the task was created counts too)."""
    now = timezone.now()
    away = Delegation.objects.filter(delegate_id=user_id, starts__lte=now, ends__gt=now)
    return (
        Q(assignee_id=user_id) | Q(delegate_id=user_id) | Q(assignee_id__in=away.values("user_id"))
    )


def _log(request, user_id, action: str, step: str = "", comment: str = "") -> None:
    ApprovalEntry.objects.create(
        tenant_id=request.tenant_id,
        request=request,
        at=timezone.now(),
        user_id=user_id,
        action=action,
        step=step,
        comment=comment or "",
    )


def _event(service, config, request, record, phase: str) -> None:
    """The outbox event that runs the process's actions of ``phase`` (if it has any)."""
    process = config.workflows.by_key.get(request.workflow)
    if process is not None and process.actions.get(phase):
        write(
            service.tenant,
            config,
            request.entity,
            record,
            "approval",
            values=record.data,
            changed=[],
            user=service.user,
            workflow=request.workflow,
            detail=phase,
        )


# -- submitting ---------------------------------------------------------------------------------


def submit(service, entity_key: str, record_id: int, workflow: str, comment: str = ""):
    """Submit a record the user may change to the approval process ``workflow``."""
    with tenant_context(service.tenant, user=service.user, savepoint=True):
        config = service.configuration()
        entity = service.entity(entity_key, config)
        process = process_of(config, entity_key, workflow)
        record = service.stored(entity_key, record_id, action="update", lock=True)
        user_id = _user_id(service)
        roles = set(service.permissions.principal.roles)
        if process.submitter_roles or process.owner_submits:
            allowed = bool(roles & process.submitter_roles) or (
                process.owner_submits and record.owner_id == user_id
            )
            if not allowed:
                raise ApprovalError(
                    ApprovalErrorCode.NOT_A_SUBMITTER,
                    f"You may not submit this {entity.key} to {workflow}.",
                )
        if ApprovalRequest.objects.filter(
            entity=entity.key, record_id=record.pk, status=ApprovalRequest.Status.PENDING
        ).exists():
            raise ApprovalError(
                ApprovalErrorCode.ALREADY_PENDING,
                f"This {entity.key} is already waiting for an approval.",
            )
        if not holds(process.entry, record, entity):
            raise ApprovalError(
                ApprovalErrorCode.ENTRY_CRITERIA,
                f"This {entity.key} does not meet the entry criteria of {workflow}: "
                f"{process.entry_source}.",
            )
        step = next_step(process, None, record, entity)
        if step is None:
            raise ApprovalError(
                ApprovalErrorCode.NO_STEP, f"None of the steps of {workflow} applies to it."
            )
        now = timezone.now()
        request = ApprovalRequest.objects.create(
            tenant=service.tenant,
            workflow=workflow,
            entity=entity.key,
            record_id=record.pk,
            config_version=config.version,
            step=step.key,
            submitted_by_id=user_id,
            submitted_at=now,
        )
        _log(request, user_id, "submitted", step.key, comment)
        skipped = [s.key for s in process.steps[: process.steps.index(step)]]
        for key in skipped:
            _log(request, None, "skipped", key)
        start_step(process, request, step, record)
        _event(service, config, request, record, "submitted")
        return request


def next_step(process, after: str | None, record, entity) -> ApprovalStep | None:
    """The first step after ``after`` (None: from the start) whose criteria hold."""
    keys = [step.key for step in process.steps]
    start = 0 if after is None else keys.index(after) + 1
    for step in process.steps[start:]:
        if holds(step.criteria, record, entity):
            return step
    return None


def start_step(process, request, step: ApprovalStep, record, approvers=None) -> list:
    """The tasks of ``step``: one per approver (with their delegate if away)."""
    users: list[int] = []
    for spec in approvers or step.approvers:
        for user in approver_kinds.get(spec["type"]).users(spec, request.tenant_id, record):
            if user not in users:
                users.append(user)
    if not process.allow_self_approval and request.submitted_by_id in users and len(users) > 1:
        users.remove(request.submitted_by_id)
    if not users:
        raise ApprovalError(
            ApprovalErrorCode.NO_APPROVER, f"The step {step.key} has nobody to approve it."
        )
    now = timezone.now()
    rounds = ApprovalTask.objects.filter(request=request, step=step.key).values_list(
        "round", flat=True
    )
    round_ = max(rounds, default=0) + 1
    away = {
        d.user_id: d.delegate_id
        for d in Delegation.objects.filter(user_id__in=users, starts__lte=now, ends__gt=now)
    }
    due = now + step.escalate_after if step.escalate_after else None
    return [
        ApprovalTask.objects.create(
            tenant_id=request.tenant_id,
            request=request,
            step=step.key,
            round=round_,
            assignee_id=user,
            delegate_id=away.get(user),
            due_at=due,
        )
        for user in users
    ]


# -- deciding -----------------------------------------------------------------------------------


def _request(service, request_id: int) -> ApprovalRequest:
    """The request, row-locked: decisions on it happen one at a time."""
    request = ApprovalRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise RecordError(RecordErrorCode.NOT_FOUND, f"There is no approval request {request_id}.")
    if request.status == ApprovalRequest.Status.RECALLED:
        raise ApprovalError(ApprovalErrorCode.FINISHED, "This approval request was recalled.")
    if request.status != ApprovalRequest.Status.PENDING:
        raise ApprovalError(
            ApprovalErrorCode.ALREADY_DECIDED, f"This approval request is already {request.status}."
        )
    return request


def decide(service, request_id: int, decision: str, comment: str = "") -> ApprovalRequest:
    """``approve`` or ``reject`` the current step of a pending request as the user."""
    if decision not in ("approve", "reject"):
        raise ApprovalError(ApprovalErrorCode.NOT_AN_APPROVER, f"Unknown decision {decision!r}.")
    with tenant_context(service.tenant, user=service.user, savepoint=True):
        request = _request(service, request_id)
        user_id = _user_id(service)
        is_system = isinstance(service.permissions, SystemPermissions)
        current = ApprovalTask.objects.filter(request=request, step=request.step)
        latest = max(current.values_list("round", flat=True), default=1)
        current = current.filter(round=latest)
        everywhere = ApprovalTask.objects.filter(request=request)
        if not is_system:
            everywhere = everywhere.filter(acting_for(user_id))
        if not everywhere.exists():
            raise ApprovalError(
                ApprovalErrorCode.NOT_AN_APPROVER,
                f"You are not an approver of the step {request.step}.",
            )
        pending = everywhere.filter(
            step=request.step, round=latest, status=ApprovalTask.Status.PENDING
        )
        if not pending.exists():
            # Theirs was decided, by them or (first response wins) by another approver.
            raise ApprovalError(
                ApprovalErrorCode.ALREADY_DECIDED, "This approval step is already decided."
            )
        from metadata.compiled import config_version

        config = config_version(service.tenant, request.config_version)
        process = config.workflows.by_key[request.workflow]
        if not process.allow_self_approval and user_id == request.submitted_by_id:
            raise ApprovalError(
                ApprovalErrorCode.SELF_APPROVAL, "You may not decide on your own submission."
            )
        now = timezone.now()
        status = (
            ApprovalTask.Status.APPROVED if decision == "approve" else ApprovalTask.Status.REJECTED
        )
        # The platform (an escalation's automatic decision) decides for the whole step.
        chosen = list(pending.values_list("pk", flat=True))
        ApprovalTask.objects.filter(pk__in=chosen if is_system else chosen[:1]).update(
            status=status, decided_by_id=user_id, decided_at=now, comment=comment or ""
        )
        _log(request, user_id, status.value, request.step, comment)
        step = process.step(request.step)
        entity = config.entities[request.entity]
        record = platform_read(service.tenant, request)
        if decision == "reject":
            current.filter(status=ApprovalTask.Status.PENDING).update(
                status=ApprovalTask.Status.CLOSED
            )
            return on_reject(service, config, process, request, step, record, entity)
        if step.mode == "all" and current.filter(status=ApprovalTask.Status.PENDING).exists():
            return request  # the others still to approve
        current.filter(status=ApprovalTask.Status.PENDING).update(status=ApprovalTask.Status.CLOSED)
        _event(service, config, request, record, "step_approved")
        return advance(service, config, process, request, step, record, entity)


def advance(service, config, process, request, step, record, entity) -> ApprovalRequest:
    following = next_step(process, step.key, record, entity)
    for skipped in process.steps[process.steps.index(step) + 1 :]:
        if following is not None and skipped.key == following.key:
            break
        _log(request, None, "skipped", skipped.key)
    if following is None:
        return finish(service, config, request, record, ApprovalRequest.Status.APPROVED)
    request.step = following.key
    request.save(update_fields=["step"])
    start_step(process, request, following, record)
    return request


def on_reject(service, config, process, request, step, record, entity) -> ApprovalRequest:
    if step.on_reject not in ("end", "previous"):  # back to a named earlier step
        target = process.step(step.on_reject)
        request.step = target.key
        request.save(update_fields=["step"])
        _log(request, None, "returned", target.key)
        start_step(process, request, target, record)
        return request
    if step.on_reject == "previous":
        index = process.steps.index(step)
        earlier = [s for s in process.steps[:index] if holds(s.criteria, record, entity)]
        if earlier:
            request.step = earlier[-1].key
            request.save(update_fields=["step"])
            _log(request, None, "returned", earlier[-1].key)
            start_step(process, request, earlier[-1], record)
            return request
    return finish(service, config, request, record, ApprovalRequest.Status.REJECTED)


def finish(service, config, request, record, status) -> ApprovalRequest:
    request.status = status
    request.finished_at = timezone.now()
    request.save(update_fields=["status", "finished_at"])
    phase = {"approved": "approved", "rejected": "rejected", "recalled": "recalled"}[status]
    _event(service, config, request, record, phase)
    return request


def recall(service, request_id: int, comment: str = "") -> ApprovalRequest:
    """The submitter takes the record back; the open tasks close."""
    with tenant_context(service.tenant, user=service.user, savepoint=True):
        request = _request(service, request_id)
        if _user_id(service) != request.submitted_by_id:
            raise ApprovalError(
                ApprovalErrorCode.NOT_THE_SUBMITTER, "Only the submitter may recall it."
            )
        ApprovalTask.objects.filter(request=request, status=ApprovalTask.Status.PENDING).update(
            status=ApprovalTask.Status.CLOSED
        )
        _log(request, _user_id(service), "recalled", request.step, comment)
        from metadata.compiled import config_version

        config = config_version(service.tenant, request.config_version)
        record = platform_read(service.tenant, request)
        return finish(service, config, request, record, ApprovalRequest.Status.RECALLED)


# -- escalating ---------------------------------------------------------------------------------


def escalate_due(tenant) -> int:
    """Steps whose approvers let the time pass: hand them to the escalation's approvers, or
    decide automatically (the beat, every minute). Returns the requests escalated."""
    from metadata.compiled import config_version
    from records.service import RecordService

    system = RecordService.system(tenant)
    escalated = 0
    with tenant_context(tenant):
        due = list(
            ApprovalTask.objects.filter(
                status=ApprovalTask.Status.PENDING, due_at__lte=timezone.now()
            )
            .values_list("request_id", flat=True)
            .distinct()
        )
    for request_id in due:
        with tenant_context(tenant, savepoint=True):
            request = ApprovalRequest.objects.select_for_update().get(pk=request_id)
            if request.status != ApprovalRequest.Status.PENDING:
                continue
            config = config_version(tenant, request.config_version)
            process = config.workflows.by_key[request.workflow]
            step = process.step(request.step)
            late = ApprovalTask.objects.filter(
                request=request,
                step=step.key,
                status=ApprovalTask.Status.PENDING,
                due_at__lte=timezone.now(),
            )
            if not late.exists():
                continue
            record = platform_read(tenant, request)
            escalated += 1
            _log(request, None, "escalated", step.key)
            if step.escalate_to:
                late.update(status=ApprovalTask.Status.ESCALATED)
                tasks = start_step(process, request, step, record, approvers=step.escalate_to)
                ApprovalTask.objects.filter(pk__in=[t.pk for t in tasks]).update(due_at=None)
                _event(system, config, request, record, "escalated")
                continue
        decide(system, request_id, step.escalate_decision, "decided on escalation")
    return escalated


# -- reading ------------------------------------------------------------------------------------


def inbox(service) -> list[ApprovalTask]:
    """The user's pending tasks (theirs, or of someone they stand in for)."""
    user_id = _user_id(service)
    with tenant_context(service.tenant, user=service.user):
        return list(
            ApprovalTask.objects.select_related("request")
            .filter(status=ApprovalTask.Status.PENDING)
            .filter(acting_for(user_id))
            .order_by("pk")
        )


def history(service, entity_key: str, record_id: int) -> list[ApprovalEntry]:
    with tenant_context(service.tenant, user=service.user):
        service.get(entity_key, record_id)  # readable by the user
        return list(
            ApprovalEntry.objects.filter(
                request__entity=entity_key, request__record_id=record_id
            ).order_by("at", "pk")
        )


def _locking(config, entity_key: str) -> list[str]:
    approvals = config.workflows.approvals.get(entity_key) if config.workflows else None
    return [process.key for process in approvals or () if process.lock]


def _exempt(config, permissions) -> bool:
    return isinstance(permissions, SystemPermissions) or permissions.has(config, "edit_locked")


def locked_ids(config, entity_key: str, record_ids) -> set[int]:
    """Those of the records waiting for an approval that locks them."""
    locking = _locking(config, entity_key)
    if not locking or not record_ids:
        return set()
    return set(
        ApprovalRequest.objects.filter(
            entity=entity_key,
            record_id__in=list(record_ids),
            status=ApprovalRequest.Status.PENDING,
            workflow__in=locking,
        ).values_list("record_id", flat=True)
    )


def check_unlocked(config, entity, record_id: int, permissions) -> None:
    """Refuse a change to a record waiting for an approval (records service, every write)."""
    if not _locking(config, entity.key) or _exempt(config, permissions):
        return
    if locked_ids(config, entity.key, [record_id]):
        raise RecordError(
            RecordErrorCode.RECORD_LOCKED,
            f"This {entity.key} is waiting for an approval: it cannot be changed until the "
            "approval ends or is recalled.",
        )


def locking_parents(config, entity) -> list[tuple[str, str]]:
    """(lookup, parent entity) of the records that own this entity's (lookups that cascade:
    a quote's lines) and may be locked by an approval: the lock covers them too."""
    return [
        (key, field.options["target"])
        for key, field in entity.fields.items()
        if field.options["type"] == "lookup"
        and field.options.get("on_delete") == "cascade"
        and _locking(config, field.options["target"])
    ]


def locked_parent_errors(config, entity, records: list[dict], permissions) -> list[list]:
    """Per record (its values before or after the write), the FieldErrors of the lookups that
    point at a parent waiting for an approval: its lines cannot change either."""
    found: list[list] = [[] for _ in records]
    parents = locking_parents(config, entity)
    if not parents or _exempt(config, permissions):
        return found
    for key, target in parents:
        wanted = {data.get(key) for data in records if isinstance(data.get(key), int)}
        locked = locked_ids(config, target, wanted)
        for index, data in enumerate(records):
            if data.get(key) in locked:
                found[index].append(
                    FieldError(
                        key,
                        RecordErrorCode.RECORD_LOCKED,
                        f"{target} {data[key]} is waiting for an approval: its {entity.key} "
                        "records cannot change until the approval ends or is recalled.",
                    )
                )
    return found


def check_parents_unlocked(config, entity, permissions, *datas: dict) -> None:
    """Refuse a write of a record whose owning parent, before or after, is locked."""
    errors = [
        e for found in locked_parent_errors(config, entity, list(datas), permissions) for e in found
    ]
    if errors:
        raise RecordError(RecordErrorCode.RECORD_LOCKED, errors[0].message, errors=errors[:1])
