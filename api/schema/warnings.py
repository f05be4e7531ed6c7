"""``recordWarnings(entity, id)``: what a record's page warns of, for integrators (possible
duplicates, conflicts: records/warnings.py), present when an entity configures them."""

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

from api.schema.types import camel, nn

WarnedRecord = GraphQLObjectType(
    "WarnedRecord",
    {"recordId": GraphQLField(nn(GraphQLInt)), "title": GraphQLField(nn(GraphQLString))},
)
RecordWarning = GraphQLObjectType(
    "RecordWarning",
    {
        "kind": GraphQLField(nn(GraphQLString), description="duplicate, or the conflict's key"),
        "fields": GraphQLField(nn(GraphQLList(nn(GraphQLString)))),
        "message": GraphQLField(GraphQLString, description="the conflict's, in your language"),
        "records": GraphQLField(nn(GraphQLList(nn(WarnedRecord)))),
    },
)


def warning_fields(config) -> dict:
    from api.schema import resolvers

    warned = [
        entity.key
        for entity in config.entities.values()
        if entity.options.get("duplicate_check") or entity.options.get("conflicts")
    ]
    if not warned:
        return {}
    entity_enum = GraphQLEnumType(
        "WarningEntity", {camel(key): GraphQLEnumValue(key) for key in warned}
    )
    return {
        "recordWarnings": GraphQLField(
            nn(GraphQLList(nn(RecordWarning))),
            args={"entity": GraphQLArgument(nn(entity_enum)), "id": GraphQLArgument(nn(GraphQLID))},
            resolve=resolvers.record_warnings,
            description="Records this one may duplicate or conflicts with (only those you may "
            "read); a warning, saving is not refused.",
        )
    }
