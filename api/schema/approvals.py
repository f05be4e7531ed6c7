"""The approval part of a tenant's schema, present when its configuration has an approval
process: ``submitForApproval``, ``approve``, ``reject``, ``recall`` and ``approvalInbox``
(workflows/approvals.py does the work)."""

from __future__ import annotations

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLObjectType,
    GraphQLString,
)

from api.schema.scalars import DateTime
from api.schema.types import camel, nn


def approval_fields(config, field_error, member) -> tuple[dict, dict]:
    """(queries, mutations) for the configuration's approval processes, or two empty dicts."""
    from api.schema import resolvers

    workflows = config.workflows
    processes = [p for found in (workflows.approvals.values() if workflows else []) for p in found]
    if not processes:
        return {}, {}
    process_enum = GraphQLEnumType(
        "ApprovalProcess", {p.key: GraphQLEnumValue(p.key) for p in processes}
    )
    entity_enum = GraphQLEnumType(
        "ApprovalEntity", {camel(p.entity): GraphQLEnumValue(p.entity) for p in processes}
    )
    request = GraphQLObjectType(
        "ApprovalRequest",
        {
            "id": GraphQLField(nn(GraphQLID), resolve=lambda r, info: r.pk),
            "process": GraphQLField(nn(GraphQLString), resolve=lambda r, info: r.workflow),
            "entity": GraphQLField(nn(GraphQLString)),
            "recordId": GraphQLField(nn(GraphQLInt), resolve=lambda r, info: r.record_id),
            "status": GraphQLField(nn(GraphQLString)),
            "step": GraphQLField(nn(GraphQLString)),
            "submittedBy": GraphQLField(
                member,
                resolve=lambda r, info: {"id": r.submitted_by_id} if r.submitted_by_id else None,
            ),
            "submittedAt": GraphQLField(DateTime, resolve=lambda r, info: r.submitted_at),
        },
        description="One submission of a record to an approval process.",
    )
    task = GraphQLObjectType(
        "ApprovalTask",
        {
            "id": GraphQLField(nn(GraphQLID), resolve=lambda t, info: t.pk),
            "step": GraphQLField(nn(GraphQLString)),
            "dueAt": GraphQLField(DateTime, resolve=lambda t, info: t.due_at),
            "standingIn": GraphQLField(
                member,
                description="Whom you decide for, when you are their delegate.",
                resolve=lambda t, info: resolvers.standing_in(t, info),
            ),
            "request": GraphQLField(nn(request)),
        },
    )
    entry = GraphQLObjectType(
        "ApprovalEntry",
        {
            "at": GraphQLField(nn(DateTime)),
            "user": GraphQLField(
                member, resolve=lambda e, info: {"id": e.user_id} if e.user_id else None
            ),
            "action": GraphQLField(nn(GraphQLString)),
            "step": GraphQLField(nn(GraphQLString)),
            "comment": GraphQLField(nn(GraphQLString)),
            "requestId": GraphQLField(nn(GraphQLID), resolve=lambda e, info: e.request_id),
        },
        description="One line of a record's approval history.",
    )
    payload = GraphQLObjectType(
        "ApprovalPayload",
        {
            "request": GraphQLField(request),
            "errors": GraphQLField(nn(GraphQLList(nn(field_error)))),
        },
    )
    comment = {"comment": GraphQLArgument(GraphQLString)}
    by_request = {"request": GraphQLArgument(nn(GraphQLID)), **comment}
    mutations = {
        "submitForApproval": GraphQLField(
            nn(payload),
            args={
                "entity": GraphQLArgument(nn(entity_enum)),
                "id": GraphQLArgument(nn(GraphQLID)),
                "process": GraphQLArgument(nn(process_enum)),
                **comment,
            },
            resolve=resolvers.submit_for_approval,
        ),
        "approve": GraphQLField(nn(payload), args=by_request, resolve=resolvers.decide("approve")),
        "reject": GraphQLField(nn(payload), args=by_request, resolve=resolvers.decide("reject")),
        "recall": GraphQLField(nn(payload), args=by_request, resolve=resolvers.recall),
    }
    queries = {
        "approvalHistory": GraphQLField(
            nn(GraphQLList(nn(entry))),
            args={"entity": GraphQLArgument(nn(entity_enum)), "id": GraphQLArgument(nn(GraphQLID))},
            resolve=resolvers.approval_history,
            description="Who submitted, approved, rejected, recalled a record, when, and why.",
        ),
        "approvalInbox": GraphQLField(
            nn(GraphQLList(nn(task))),
            resolve=resolvers.approval_inbox,
            description="The approval tasks waiting for you (yours, or those you stand in for).",
        ),
    }
    return queries, mutations
