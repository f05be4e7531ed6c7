"""In-app notifications (the workflows' ``notify`` action) in every tenant's schema:
``notifications(unreadOnly, first)`` and ``markNotificationsRead(ids)``."""

from __future__ import annotations

from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
)

from api.schema.scalars import DateTime

Notification = GraphQLObjectType(
    "Notification",
    {
        "id": GraphQLField(GraphQLNonNull(GraphQLID), resolve=lambda n, info: n.pk),
        "subject": GraphQLField(GraphQLNonNull(GraphQLString)),
        "body": GraphQLField(GraphQLNonNull(GraphQLString)),
        "entity": GraphQLField(GraphQLNonNull(GraphQLString)),
        "recordId": GraphQLField(GraphQLNonNull(GraphQLInt), resolve=lambda n, info: n.record_id),
        "createdAt": GraphQLField(DateTime, resolve=lambda n, info: n.created_at),
        "readAt": GraphQLField(DateTime, resolve=lambda n, info: n.read_at),
    },
    description="A message of a workflow's notify action, for the user who asks.",
)


def notification_fields() -> tuple[dict, dict]:
    from api.schema import resolvers

    queries = {
        "notifications": GraphQLField(
            GraphQLNonNull(GraphQLList(GraphQLNonNull(Notification))),
            args={
                "unreadOnly": GraphQLArgument(GraphQLBoolean, default_value=False),
                "first": GraphQLArgument(GraphQLInt, default_value=50),
            },
            resolve=resolvers.notifications,
        )
    }
    mutations = {
        "markNotificationsRead": GraphQLField(
            GraphQLNonNull(GraphQLInt),
            args={"ids": GraphQLArgument(GraphQLList(GraphQLNonNull(GraphQLID)))},
            resolve=resolvers.mark_notifications_read,
            description="Mark these (or, without ids, all) of your notifications read; how many.",
        )
    }
    return queries, mutations
