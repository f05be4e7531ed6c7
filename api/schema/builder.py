"""Build one tenant's GraphQL schema from its compiled configuration.

For an entity ``opportunity`` / ``opportunities``: the type ``Opportunity``, the queries
``opportunity(id)`` and ``opportunities(filter, orderBy, search, first, after)`` (a Relay-style
connection), and the mutations ``createOpportunity``, ``updateOpportunity``,
``deleteOpportunity`` and ``restoreOpportunity``. Every resolver goes through the records
service, so validation and permissions apply exactly as everywhere else.
"""

from __future__ import annotations

import hashlib

import graphene
from graphene.types.generic import GenericScalar
from graphql import GraphQLError
from graphql_relay import to_global_id

from api.schema import resolvers
from api.schema.types import (
    NAME,
    SCALARS,
    AggregateRow,
    Bucket,
    Direction,
    FieldError,
    Member,
    MetricFunction,
    Money,
    MoneyInput,
    Nulls,
    PageInfo,
    RowError,
    output_value,
    type_name,
)
from metadata.compiled import CompiledConfig, CompiledEntity
from metadata.fieldtypes.base import EQUALITY, ORDERED, RELATIVE_DATES, TEXTUAL

SYSTEM_SORTS = ("id", "created_at", "updated_at")
# Names of the operator sets of the field types (metadata/fieldtypes/base.py).
OPERATOR_SETS = {
    EQUALITY: "",
    ORDERED: "Range",
    TEXTUAL: "Text",
    (*ORDERED, *RELATIVE_DATES): "",
    ("contains", "is_null"): "Contains",
    (*EQUALITY, "is_me"): "Member",
}


class SchemaBuilder:
    def __init__(self, config: CompiledConfig):
        self.config = config
        self.types: dict[str, type] = {}
        self.enums: dict[tuple[str, str], type] = {}
        self.fields_filters: dict[str, type] = {}
        self.filters: dict[str, type] = {}
        self.connections: dict[str, type] = {}
        self.edges: dict[str, type] = {}
        self.operator_types: dict[str, type] = {}

    def build(self) -> graphene.Schema:
        entities = list(self.config.entities.values())
        for entity in entities:
            self.object_type(entity)
        query = {}
        mutation = {}
        for entity in entities:
            query.update(self.queries(entity))
            mutation.update(self.mutations(entity))
        query["metadata"] = graphene.Field(
            GenericScalar,
            name="_metadata",
            description="Entities and fields as integrators need them.",
            resolver=resolvers.metadata,
        )
        return graphene.Schema(
            query=type("Query", (graphene.ObjectType,), query),
            mutation=type("Mutation", (graphene.ObjectType,), mutation) if mutation else None,
            types=list(self.types.values()),
        )

    # -- output ----------------------------------------------------------------------------

    def graphql_type(self, entity: CompiledEntity, field) -> str:
        return field.type.graphql_type_for(field.options)

    def enum(self, entity: CompiledEntity, field) -> type | None:
        """The field's options as a GraphQL enum, when every value can be an enum name."""
        key = (entity.key, field.key)
        if key not in self.enums:
            values = [o["value"] for o in field.options.get("options", [])]
            if values and all(NAME.match(v) for v in values):
                self.enums[key] = graphene.Enum(
                    f"{type_name(entity.key)}{type_name(field.key)}",
                    [(v, v) for v in values],
                )
            else:
                self.enums[key] = None
        return self.enums[key]

    def output_field(self, entity: CompiledEntity, field):
        gql = self.graphql_type(entity, field)
        description = (field.options.get("help") or {}).get("en")
        if gql in ("Relation", "[Relation]"):
            target = field.options["target"]
            many = gql == "[Relation]"
            kind = (
                graphene.List(graphene.NonNull(lambda: self.types[target]))
                if many
                else (lambda: self.types[target])
            )
            return graphene.Field(
                kind,
                description=description,
                resolver=resolvers.relation(entity.key, field.key, target, many),
            )
        if gql in ("Enum", "[Enum]"):
            enum = self.enum(entity, field)
            scalar = enum or graphene.String
            base = graphene.List(graphene.NonNull(scalar)) if gql == "[Enum]" else scalar
        elif gql == "Money":
            base = Money
        elif gql == "User":
            base = Member
        else:
            base = SCALARS[gql]
        return graphene.Field(
            base, description=description, resolver=resolvers.value(entity.key, field.key, gql)
        )

    def object_type(self, entity: CompiledEntity) -> type:
        name = type_name(entity.key)
        attrs = {
            "id": graphene.ID(required=True, resolver=lambda row, info: to_global_id(name, row.id)),
            "record_id": graphene.Int(required=True, resolver=lambda row, info: row.id),
            "version": graphene.Int(required=True, resolver=lambda row, info: row.version),
            "created_at": graphene.DateTime(resolver=lambda row, info: row.created_at),
            "updated_at": graphene.DateTime(resolver=lambda row, info: row.updated_at),
            "owner": graphene.Field(
                Member,
                resolver=lambda row, info: output_value("User", row.owner_id),
            ),
            "created_by": graphene.Field(
                Member,
                resolver=lambda row, info: output_value("User", row.created_by_id),
            ),
        }
        for field in entity.fields.values():
            attrs[field.key] = self.output_field(entity, field)
        for key, (child, via) in self.reverse_relations(entity).items():
            attrs[key] = graphene.Field(
                lambda child=child: self.connections[child.key],
                required=True,
                first=graphene.Int(default_value=20),
                description=f"The {child.plural_key} whose {via} is this {entity.key}.",
                resolver=resolvers.reverse(child.key, via),
            )
        label = (entity.options.get("label") or {}).get("en")
        self.types[entity.key] = type(
            name,
            (graphene.ObjectType,),
            {**attrs, "Meta": type("Meta", (), {"description": label})},
        )
        return self.types[entity.key]

    def reverse_relations(self, entity: CompiledEntity) -> dict[str, tuple]:
        """Field name -> (child entity, lookup key) for every lookup pointing at ``entity``:
        the child's plural key, or ``{plural}_by_{lookup}`` when one child entity has several
        lookups to it (or the name is taken by a field)."""
        found = [
            (child, field.key)
            for child in self.config.entities.values()
            for field in child.fields.values()
            if field.options["type"] == "lookup" and field.options["target"] == entity.key
        ]
        names = {}
        for child, via in found:
            several = sum(1 for other, _ in found if other.key == child.key) > 1
            name = child.plural_key
            if several or name in entity.fields or name in names:
                name = f"{child.plural_key}_by_{via}"
            names[name] = (child, via)
        return names

    # -- queries ---------------------------------------------------------------------------

    def queries(self, entity: CompiledEntity) -> dict:
        name = type_name(entity.key)
        node = self.types[entity.key]
        edge = type(
            f"{name}Edge",
            (graphene.ObjectType,),
            {"node": graphene.Field(node, required=True), "cursor": graphene.String(required=True)},
        )
        connection = type(
            f"{name}Connection",
            (graphene.ObjectType,),
            {
                "edges": graphene.List(graphene.NonNull(edge), required=True),
                "page_info": graphene.Field(PageInfo, required=True),
                "total_count": graphene.Int(),
            },
        )
        self.connections[entity.key] = connection
        self.edges[entity.key] = edge
        return {
            **self.aggregate_query(entity),
            entity.key: graphene.Field(
                node,
                id=graphene.ID(required=True),
                resolver=resolvers.one(entity.key),
            ),
            entity.plural_key: graphene.Field(
                connection,
                required=True,
                filter=graphene.Argument(self.filter_type(entity)),
                order_by=graphene.List(graphene.NonNull(self.order_type(entity))),
                search=graphene.String(),
                first=graphene.Int(default_value=50),
                after=graphene.String(),
                resolver=resolvers.page(entity.key, edge, connection),
            ),
        }

    def aggregate_query(self, entity: CompiledEntity) -> dict:
        """``{plural}Aggregate(filter, groupBy, metrics)``: grouped counts, sums, averages…
        for reports, one row per group (``group`` and ``metrics`` as JSON objects)."""
        name = type_name(entity.key)
        keys = [*SYSTEM_SORTS, *entity.fields]
        field_enum = graphene.Enum(f"{name}AggregateField", [(k.upper(), k) for k in keys])
        group_by = type(
            f"{name}GroupBy",
            (graphene.InputObjectType,),
            {
                "field": graphene.InputField(field_enum, required=True),
                "bucket": graphene.InputField(Bucket),
            },
        )
        metric = type(
            f"{name}Metric",
            (graphene.InputObjectType,),
            {
                "fn": graphene.InputField(MetricFunction, required=True),
                "field": graphene.InputField(field_enum),
                "as_": graphene.InputField(graphene.String, name="as"),
            },
        )
        return {
            f"{entity.plural_key}_aggregate": graphene.Field(
                graphene.List(graphene.NonNull(AggregateRow), required=True),
                filter=graphene.Argument(lambda: self.filters[entity.key]),
                group_by=graphene.List(graphene.NonNull(group_by)),
                metrics=graphene.List(graphene.NonNull(metric)),
                search=graphene.String(),
                resolver=resolvers.aggregate(entity.key),
            )
        }

    def operators_type(self, entity: CompiledEntity, field, *, hop: bool) -> type | None:
        """The input object of a field's filter: the operators its type allows. Shared by
        every field with the same value type and operators (``DecimalRangeFilter``,
        ``StringTextFilter``…), per enum for choices (``OpportunityStageFilter``), and per
        target entity for lookups with ``match`` (``AccountRefFilter``): a schema of 50
        entities of 40 fields then holds a few hundred input types, not thousands."""
        gql = self.graphql_type(entity, field)
        enum = self.enum(entity, field) if gql in ("Enum", "[Enum]") else None
        if gql in ("Relation", "[Relation]", "User"):
            scalar, base = graphene.ID, "ID"
        elif enum is not None:
            scalar, base = enum, enum._meta.name
        elif gql in ("Money", "Decimal"):
            scalar, base = graphene.Decimal, "Decimal"
        elif gql in ("Address", "Enum", "[Enum]"):
            scalar, base = graphene.String, "String"
        else:
            scalar, base = SCALARS[gql], gql
        operators = tuple(field.type.operators_for(field.options))
        if not operators:
            return None
        many = gql in ("[Enum]", "[Relation]")
        target = field.options["target"] if hop and gql == "Relation" else None
        label = OPERATOR_SETS.get(operators)
        if label is None:
            label = "Ops" + hashlib.sha1(",".join(operators).encode()).hexdigest()[:6]
        name = (
            f"{type_name(target)}RefFilter"
            if target
            else f"{base}{'List' if many else ''}{label}Filter"
        )
        if name in self.operator_types:
            return self.operator_types[name]
        attrs = {}
        for op in operators:
            if op in ("in", "not_in", "between"):
                attrs[op] = graphene.List(graphene.NonNull(scalar))
            elif op in ("is_null", "is_me"):
                attrs[op] = graphene.Boolean()
            elif op in ("contains", "starts_with"):
                attrs[op] = scalar() if many else graphene.String()
            elif op in ("last_n_days", "next_n_days"):
                attrs[op] = graphene.Int()
            elif op in RELATIVE_DATES:
                attrs[op] = graphene.Boolean(description=f"true: the value is {op}")
            else:
                attrs[op] = scalar()
        if target:
            target_entity = self.config.entities[target]
            attrs["match"] = graphene.InputField(
                lambda: self.fields_filter(target_entity),
                description=f"Conditions on the {target} it points at (one hop).",
            )
        self.operator_types[name] = type(name, (graphene.InputObjectType,), attrs)
        return self.operator_types[name]

    def fields_filter(self, entity: CompiledEntity) -> type:
        """``{Entity}FieldsFilter``: conditions on an entity's own fields (no hop)."""
        if entity.key not in self.fields_filters:
            attrs = {}
            for field in entity.fields.values():
                ops = self.operators_type(entity, field, hop=False)
                if ops is not None:
                    attrs[field.key] = graphene.InputField(ops)
            self.fields_filters[entity.key] = type(
                f"{type_name(entity.key)}FieldsFilter", (graphene.InputObjectType,), attrs
            )
        return self.fields_filters[entity.key]

    def filter_type(self, entity: CompiledEntity) -> type:
        name = f"{type_name(entity.key)}Filter"
        attrs = {
            "and_": graphene.InputField(
                graphene.List(graphene.NonNull(lambda: self.filters[entity.key])),
                name="and",
            ),
            "or_": graphene.InputField(
                graphene.List(graphene.NonNull(lambda: self.filters[entity.key])),
                name="or",
            ),
            "not_": graphene.InputField(lambda: self.filters[entity.key], name="not"),
        }
        for field in entity.fields.values():
            ops = self.operators_type(entity, field, hop=True)
            if ops is not None:
                attrs[field.key] = graphene.InputField(ops)
        kind = type(name, (graphene.InputObjectType,), attrs)
        self.filters[entity.key] = kind
        return kind

    def order_type(self, entity: CompiledEntity) -> type:
        keys = [*SYSTEM_SORTS, *(k for k, f in entity.fields.items() if f.type.sortable)]
        sort_field = graphene.Enum(
            f"{type_name(entity.key)}SortField", [(key.upper(), key) for key in keys]
        )
        return type(
            f"{type_name(entity.key)}OrderBy",
            (graphene.InputObjectType,),
            {
                "field": graphene.InputField(sort_field, required=True),
                "direction": graphene.InputField(Direction, default_value="asc"),
                "nulls": graphene.InputField(Nulls),
            },
        )

    # -- mutations -------------------------------------------------------------------------

    def input_type(self, entity: CompiledEntity, suffix: str) -> type:
        attrs = {}
        for field in entity.fields.values():
            if field.type.computed or field.options.get("read_only"):
                continue
            gql = self.graphql_type(entity, field)
            if gql == "Relation" or gql == "User":
                attrs[field.key] = graphene.ID()
            elif gql == "[Relation]":
                attrs[field.key] = graphene.List(graphene.NonNull(graphene.ID))
            elif gql in ("Enum", "[Enum]"):
                scalar = self.enum(entity, field) or graphene.String
                attrs[field.key] = (
                    graphene.List(graphene.NonNull(scalar)) if gql == "[Enum]" else scalar()
                )
            elif gql == "Money":
                attrs[field.key] = graphene.InputField(MoneyInput)
            else:
                attrs[field.key] = SCALARS[gql]()
        return type(f"{type_name(entity.key)}{suffix}", (graphene.InputObjectType,), attrs)

    def mutations(self, entity: CompiledEntity) -> dict:
        name = type_name(entity.key)
        node = self.types[entity.key]
        payload = type(
            f"{name}Payload",
            (graphene.ObjectType,),
            {
                "record": graphene.Field(node),
                "errors": graphene.List(graphene.NonNull(FieldError), required=True),
            },
        )
        deleted = type(
            f"Delete{name}Payload",
            (graphene.ObjectType,),
            {
                "id": graphene.ID(),
                "errors": graphene.List(graphene.NonNull(FieldError), required=True),
            },
        )
        create_input = self.input_type(entity, "Input")
        patch = self.input_type(entity, "Patch")
        upsert = self.upsert_mutation(entity, create_input)
        return {
            **upsert,
            f"create_{entity.key}": graphene.Field(
                payload,
                required=True,
                input=graphene.Argument(create_input, required=True),
                resolver=resolvers.create(entity.key, payload),
            ),
            f"update_{entity.key}": graphene.Field(
                payload,
                required=True,
                id=graphene.ID(required=True),
                input=graphene.Argument(patch, required=True),
                version=graphene.Int(),
                resolver=resolvers.update(entity.key, payload),
            ),
            f"delete_{entity.key}": graphene.Field(
                deleted,
                required=True,
                id=graphene.ID(required=True),
                resolver=resolvers.delete(entity.key, deleted),
            ),
            f"restore_{entity.key}": graphene.Field(
                payload,
                required=True,
                id=graphene.ID(required=True),
                resolver=resolvers.restore(entity.key, payload),
            ),
        }

    def upsert_mutation(self, entity: CompiledEntity, create_input) -> dict:
        """``upsert{Plural}(inputs, matchOn)``: all rows or none, matched on a unique field;
        only for entities that have one."""
        unique = [key for key, field in entity.fields.items() if field.options.get("unique")]
        if not unique:
            return {}
        name = type_name(entity.key)
        match_on = graphene.Enum(f"{name}UniqueField", [(key.upper(), key) for key in unique])
        payload = type(
            f"Upsert{type_name(entity.plural_key)}Payload",
            (graphene.ObjectType,),
            {
                "records": graphene.List(graphene.NonNull(self.types[entity.key]), required=True),
                "created": graphene.Int(required=True),
                "updated": graphene.Int(required=True),
                "errors": graphene.List(graphene.NonNull(RowError), required=True),
            },
        )
        return {
            f"upsert_{entity.plural_key}": graphene.Field(
                payload,
                required=True,
                inputs=graphene.List(graphene.NonNull(create_input), required=True),
                match_on=graphene.Argument(match_on, required=True),
                resolver=resolvers.upsert(entity.key, payload),
            )
        }


def build_schema(config: CompiledConfig) -> graphene.Schema:
    return SchemaBuilder(config).build()


__all__ = ["GraphQLError", "build_schema"]
