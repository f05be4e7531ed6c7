"""Build one tenant's GraphQL schema from its compiled configuration.

For an entity ``opportunity`` / ``opportunities``: the type ``Opportunity``, the queries
``opportunity(id)``, ``opportunities(filter, orderBy, search, first, after)`` (a Relay-style
connection) and ``opportunitiesAggregate``, and the mutations ``createOpportunity``,
``updateOpportunity``, ``deleteOpportunity``, ``restoreOpportunity`` and, with a unique field,
``upsertOpportunities``. Every resolver goes through the records service, so validation and
permissions apply exactly as everywhere else.

The schema is made of graphql-core objects directly (graphene's class per type cost 3× the time
and 5× the memory for a large configuration, see bench/README.md). Names are camelCase in
GraphQL; arguments and input fields carry their snake_case key as ``out_name``, so resolvers
read the configuration's keys.
"""

from __future__ import annotations

import hashlib

from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLID,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    print_schema,
)
from graphql_relay import to_global_id

from api.schema import resolvers
from api.schema.approvals import approval_fields
from api.schema.compiled.documents import DocumentCache
from api.schema.compiled.planner import EntityNames
from api.schema.notifications import notification_fields
from api.schema.scalars import Date, DateTime, Decimal_, GenericScalar
from api.schema.types import NAME, camel, nn, output_value, reverse_relations, type_name
from api.schema.warnings import warning_fields
from metadata.compiled import CompiledConfig, CompiledEntity
from metadata.fieldtypes.base import DAY_COUNTS, EQUALITY, ORDERED, RELATIVE_DATES, TEXTUAL

SYSTEM_SORTS = ("id", "created_at", "updated_at")
UPLOAD_ID = "An upload id from POST /api/files/ (docs/graphql.md#files); null removes the file."
# Names of the operator sets of the field types (metadata/fieldtypes/base.py).
OPERATOR_SETS = {
    EQUALITY: "",
    ORDERED: "Range",
    TEXTUAL: "Text",
    (*ORDERED, *RELATIVE_DATES): "",
    ("contains", "is_null"): "Contains",
    (*EQUALITY, "is_me"): "Member",
    ("is_null",): "",
}
SCALARS = {
    "String": GraphQLString,
    "Int": GraphQLInt,
    "Decimal": Decimal_,
    "Boolean": GraphQLBoolean,
    "Date": Date,
    "DateTime": DateTime,
    "Address": GenericScalar,
}


def list_of(kind):
    return GraphQLList(GraphQLNonNull(kind))


# graphql-core gives every field, argument and enum value a dict of its own for extensions and
# arguments when none are passed; thousands of them in a large schema. These are shared and
# never written to.
NO_EXTENSIONS: dict = {}
NO_ARGS: dict = {}


def out_field(kind, resolve=None, description: str | None = None, args=None) -> GraphQLField:
    return GraphQLField(
        kind,
        args=args or NO_ARGS,
        resolve=resolve,
        description=description,
        extensions=NO_EXTENSIONS,
    )


def arg(kind, key: str, default=None, description: str | None = None) -> GraphQLArgument:
    extra = {"default_value": default} if default is not None else {}
    return GraphQLArgument(
        kind, out_name=key, description=description, extensions=NO_EXTENSIONS, **extra
    )


def input_field(kind, key: str, description: str | None = None, default=None):
    extra = {"default_value": default} if default is not None else {}
    return GraphQLInputField(
        kind, out_name=key, description=description, extensions=NO_EXTENSIONS, **extra
    )


def enum(name: str, values: list[str], description: str | None = None) -> GraphQLEnumType:
    return GraphQLEnumType(
        name,
        {value.upper(): GraphQLEnumValue(value, extensions=NO_EXTENSIONS) for value in values},
        description,
    )


def literal_enum(name: str, values: list[str]) -> GraphQLEnumType:
    """An enum whose GraphQL names are the option values themselves (choice fields)."""
    return GraphQLEnumType(
        name, {value: GraphQLEnumValue(value, extensions=NO_EXTENSIONS) for value in values}
    )


# Shared by every schema.
Direction = enum("Direction", ["asc", "desc"])
Nulls = enum("Nulls", ["first", "last"])
Bucket = enum("Bucket", ["day", "week", "month", "quarter", "year"])
MetricFunction = enum("MetricFunction", ["count", "sum", "avg", "min", "max"])
Money = GraphQLObjectType(
    "Money", {"amount": GraphQLField(nn(Decimal_)), "currency": GraphQLField(nn(GraphQLString))}
)
MoneyInput = GraphQLInputObjectType(
    "MoneyInput",
    {"amount": GraphQLInputField(nn(Decimal_)), "currency": GraphQLInputField(nn(GraphQLString))},
)
File = GraphQLObjectType(
    "File",
    {
        "name": GraphQLField(nn(GraphQLString), description="The name it was uploaded under."),
        "size": GraphQLField(nn(GraphQLInt), description="In bytes."),
        "contentType": GraphQLField(nn(GraphQLString)),
        "url": GraphQLField(
            nn(GraphQLString),
            description="Where to download it, with the same token or session (docs/graphql.md).",
        ),
    },
    description="A file a record holds in a file field.",
)
Member = GraphQLObjectType(
    "Member",
    {"id": GraphQLField(nn(GraphQLID))},
    description="A user of the tenant, as records name them.",
)
PageInfo = GraphQLObjectType(
    "PageInfo",
    {
        "hasNextPage": GraphQLField(nn(GraphQLBoolean)),
        "hasPreviousPage": GraphQLField(nn(GraphQLBoolean)),
        "startCursor": GraphQLField(GraphQLString),
        "endCursor": GraphQLField(GraphQLString),
    },
)
FieldError = GraphQLObjectType(
    "FieldError",
    {
        "field": GraphQLField(GraphQLString),
        "code": GraphQLField(nn(GraphQLString)),
        "message": GraphQLField(nn(GraphQLString)),
    },
)
RowError = GraphQLObjectType(
    "RowError",
    {
        "row": GraphQLField(nn(GraphQLInt)),
        "field": GraphQLField(GraphQLString),
        "code": GraphQLField(nn(GraphQLString)),
        "message": GraphQLField(nn(GraphQLString)),
    },
    description="A failing row of a bulk mutation: its index in inputs and one problem.",
)
AggregateRow = GraphQLObjectType(
    "AggregateRow",
    {"group": GraphQLField(nn(GenericScalar)), "metrics": GraphQLField(nn(GenericScalar))},
    description='One group: its key values and its metrics ({"count": 3, "sum_amount": "1.00"}).',
)


class TenantSchema:
    """What the view, the SDL command and the impact report use of a built schema, with the
    documents checked against it (the view's cache) and the names the compiled path reads."""

    def __init__(self, graphql_schema: GraphQLSchema, config: CompiledConfig):
        self.graphql_schema = graphql_schema
        self.config = config
        self.documents = DocumentCache()
        self._names = None

    @property
    def names(self) -> EntityNames:
        if self._names is None:
            self._names = EntityNames(self.config)
        return self._names

    def __str__(self) -> str:
        return print_schema(self.graphql_schema)


class SchemaBuilder:
    def __init__(self, config: CompiledConfig):
        self.config = config
        self.types: dict[str, GraphQLObjectType] = {}
        self.enums: dict[tuple[str, str], GraphQLEnumType | None] = {}
        self.filters: dict[str, GraphQLInputObjectType] = {}
        self.fields_filters: dict[str, GraphQLInputObjectType] = {}
        self.connections: dict[str, GraphQLObjectType] = {}
        self.operator_types: dict[str, GraphQLInputObjectType] = {}
        self.field_enums: dict[str, GraphQLEnumType] = {}
        self.inputs: dict[str, dict] = {}
        self.filter_fields: dict[tuple, GraphQLInputField | None] = {}
        self.plain: dict[str, dict] = {}
        self.plain_resolvers: dict[str, object] = {}

    def build(self) -> TenantSchema:
        entities = list(self.config.entities.values())
        for entity in entities:
            self.object_type(entity)
            self.connection_type(entity)
        query, mutation = {}, {}
        for entity in entities:
            query.update(self.queries(entity))
            mutation.update(self.mutations(entity))
        approval_queries, approval_mutations = approval_fields(self.config, FieldError, Member)
        query.update(approval_queries)
        mutation.update(approval_mutations)
        query.update(warning_fields(self.config))
        notification_queries, notification_mutations = notification_fields()
        query.update(notification_queries)
        mutation.update(notification_mutations)
        query["_metadata"] = GraphQLField(
            GenericScalar,
            resolve=resolvers.metadata,
            description="Entities and fields as integrators need them.",
        )
        return TenantSchema(
            GraphQLSchema(
                query=GraphQLObjectType("Query", query),
                mutation=GraphQLObjectType("Mutation", mutation) if mutation else None,
            ),
            self.config,
        )

    # -- output ----------------------------------------------------------------------------

    def graphql_type(self, entity: CompiledEntity, field) -> str:
        return field.type.graphql_type_for(field.options)

    def enum(self, entity: CompiledEntity, field) -> GraphQLEnumType | None:
        """The field's options as a GraphQL enum, when every value can be an enum name."""
        key = (entity.key, field.key)
        if key not in self.enums:
            values = [o["value"] for o in field.options.get("options", [])]
            self.enums[key] = (
                literal_enum(f"{type_name(entity.key)}{type_name(field.key)}", values)
                if values and all(NAME.match(v) for v in values)
                else None
            )
        return self.enums[key]

    def output_field(self, entity: CompiledEntity, field) -> GraphQLField:
        gql = self.graphql_type(entity, field)
        description = (field.options.get("help") or {}).get("en")
        if gql == "Relation":
            target = field.options["target"]
            return out_field(
                self.types[target], resolvers.relation(entity.key, field.key, target), description
            )
        if gql == "[Relation]":  # held sorted by id: a connection like reverse relations
            target = field.options["target"]
            return out_field(
                nn(self.connections[target]),
                resolvers.relations(entity.key, field.key, target),
                description,
                args=self.children_args(),
            )
        if gql == "File":
            return out_field(File, resolvers.file(entity.key, field.key), description)
        if gql in ("Enum", "[Enum]"):
            scalar = self.enum(entity, field) or GraphQLString
            kind = list_of(scalar) if gql == "[Enum]" else scalar
        elif gql == "Money":
            kind = Money
        elif gql == "User":
            kind = Member
        else:
            kind = SCALARS[gql]
        self.plain_keys(entity)[camel(field.key)] = (field.key, gql)
        return out_field(kind, self.plain_resolvers[entity.key], description)

    def plain_keys(self, entity: CompiledEntity) -> dict:
        """GraphQL name -> (field key, type) of the entity's plain fields, filled as they are
        built; read by the entity's one resolver for them."""
        if entity.key not in self.plain:
            self.plain[entity.key] = {}
            self.plain_resolvers[entity.key] = resolvers.values(entity.key, self.plain[entity.key])
        return self.plain[entity.key]

    def object_type(self, entity: CompiledEntity) -> GraphQLObjectType:
        name = type_name(entity.key)

        def fields() -> dict:
            system = {
                "id": GraphQLField(
                    nn(GraphQLID), resolve=lambda row, info: to_global_id(name, row.id)
                ),
                "recordId": GraphQLField(nn(GraphQLInt), resolve=lambda row, info: row.id),
                "version": GraphQLField(nn(GraphQLInt), resolve=lambda row, info: row.version),
                "createdAt": GraphQLField(DateTime, resolve=lambda row, info: row.created_at),
                "updatedAt": GraphQLField(DateTime, resolve=lambda row, info: row.updated_at),
                "owner": GraphQLField(
                    Member, resolve=lambda row, info: output_value("User", row.owner_id)
                ),
                "createdBy": GraphQLField(
                    Member, resolve=lambda row, info: output_value("User", row.created_by_id)
                ),
            }
            own = {camel(f.key): self.output_field(entity, f) for f in entity.fields.values()}
            reverse = {
                camel(key): GraphQLField(
                    nn(self.connections[child.key]),
                    args=self.children_args(),
                    resolve=resolvers.reverse(child.key, via),
                    description=f"The {child.plural_key} whose {via} is this {entity.key}.",
                )
                for key, (child, via) in self.reverse_relations(entity).items()
            }
            return {**system, **own, **reverse}

        label = (entity.options.get("label") or {}).get("en")
        self.types[entity.key] = GraphQLObjectType(name, fields, description=label)
        return self.types[entity.key]

    @staticmethod
    def children_args() -> dict:
        return {
            "first": arg(GraphQLInt, "first", 20),
            "after": arg(GraphQLString, "after"),
        }

    def reverse_relations(self, entity: CompiledEntity) -> dict[str, tuple]:
        return reverse_relations(self.config, entity)

    def connection_type(self, entity: CompiledEntity) -> GraphQLObjectType:
        name = type_name(entity.key)
        edge = GraphQLObjectType(
            f"{name}Edge",
            lambda: {
                "node": GraphQLField(nn(self.types[entity.key])),
                "cursor": GraphQLField(nn(GraphQLString)),
            },
        )
        self.connections[entity.key] = GraphQLObjectType(
            f"{name}Connection",
            {
                "edges": GraphQLField(nn(list_of(edge))),
                "pageInfo": GraphQLField(nn(PageInfo)),
                "totalCount": GraphQLField(GraphQLInt),
            },
        )
        return self.connections[entity.key]

    # -- queries ---------------------------------------------------------------------------

    def queries(self, entity: CompiledEntity) -> dict:
        node = self.types[entity.key]
        return {
            camel(entity.key): GraphQLField(
                node, args={"id": arg(nn(GraphQLID), "id")}, resolve=resolvers.one(entity.key)
            ),
            camel(entity.plural_key): GraphQLField(
                nn(self.connections[entity.key]),
                args={
                    "filter": arg(self.filter_type(entity), "filter"),
                    "orderBy": arg(list_of(self.order_type(entity)), "order_by"),
                    "search": arg(GraphQLString, "search"),
                    "first": arg(GraphQLInt, "first", description="default 50"),
                    "after": arg(GraphQLString, "after"),
                    "last": arg(GraphQLInt, "last"),
                    "before": arg(GraphQLString, "before"),
                },
                resolve=resolvers.page(entity.key),
            ),
            **self.aggregate_query(entity),
        }

    def aggregate_query(self, entity: CompiledEntity) -> dict:
        """``{plural}Aggregate(filter, groupBy, metrics)``: grouped counts, sums, averages…
        for reports, one row per group (``group`` and ``metrics`` as JSON objects)."""
        name = type_name(entity.key)
        fields = self.field_enum(entity)
        group_by = GraphQLInputObjectType(
            f"{name}GroupBy",
            {
                "field": input_field(nn(fields), "field"),
                "bucket": input_field(Bucket, "bucket"),
            },
        )
        metric = GraphQLInputObjectType(
            f"{name}Metric",
            {
                "fn": input_field(nn(MetricFunction), "fn"),
                "field": input_field(fields, "field"),
                "as": input_field(GraphQLString, "as_"),
            },
        )
        return {
            camel(f"{entity.plural_key}_aggregate"): GraphQLField(
                nn(list_of(AggregateRow)),
                args={
                    "filter": arg(self.filter_type(entity), "filter"),
                    "groupBy": arg(list_of(group_by), "group_by"),
                    "metrics": arg(list_of(metric), "metrics"),
                    "search": arg(GraphQLString, "search"),
                },
                resolve=resolvers.aggregate(entity.key),
            )
        }

    def operators_type(self, entity: CompiledEntity, field, *, hop: bool):
        """The input object of a field's filter: the operators its type allows. Shared by
        every field with the same value type and operators (``DecimalRangeFilter``,
        ``StringTextFilter``…), per enum for choices (``OpportunityStageFilter``), and per
        target entity for lookups with ``match`` (``AccountRefFilter``): a schema of 50
        entities of 40 fields then holds a few hundred input types, not thousands."""
        gql = self.graphql_type(entity, field)
        choices = self.enum(entity, field) if gql in ("Enum", "[Enum]") else None
        if gql in ("Relation", "[Relation]", "User"):
            scalar, base = GraphQLID, "ID"
        elif choices is not None:
            scalar, base = choices, choices.name
        elif gql in ("Money", "Decimal"):
            scalar, base = Decimal_, "Decimal"
        elif gql in ("Address", "Enum", "[Enum]"):
            scalar, base = GraphQLString, "String"
        elif gql == "File":
            scalar, base = GraphQLBoolean, "File"  # is_null only
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
        if name not in self.operator_types:
            attrs = {}
            for op in operators:
                if op in ("in", "not_in", "between"):
                    kind = list_of(scalar)
                elif op in ("is_null", "is_me"):
                    kind = GraphQLBoolean
                elif op in ("contains", "starts_with"):
                    kind = scalar if many else GraphQLString
                elif op in DAY_COUNTS:
                    kind = GraphQLInt
                elif op in RELATIVE_DATES:
                    kind = GraphQLBoolean
                else:
                    kind = scalar
                attrs[camel(op)] = input_field(kind, op)
            if target:
                target_entity = self.config.entities[target]
                attrs["match"] = input_field(
                    self.fields_filter(target_entity),
                    "match",
                    f"Conditions on the {target} it points at (one hop).",
                )
            self.operator_types[name] = GraphQLInputObjectType(name, attrs)
        return self.operator_types[name]

    def filter_field(self, entity: CompiledEntity, field, *, hop: bool):
        """A field's entry in a filter; the same object in ``{Entity}Filter`` and
        ``{Entity}FieldsFilter`` unless a lookup's ``match`` makes them differ."""
        hop = hop and self.graphql_type(entity, field) == "Relation"
        key = (entity.key, field.key, hop)
        if key not in self.filter_fields:
            ops = self.operators_type(entity, field, hop=hop)
            self.filter_fields[key] = None if ops is None else input_field(ops, field.key)
        return self.filter_fields[key]

    def fields_filter(self, entity: CompiledEntity):
        """``{Entity}FieldsFilter``: conditions on an entity's own fields (no hop)."""
        if entity.key not in self.fields_filters:
            self.fields_filters[entity.key] = GraphQLInputObjectType(
                f"{type_name(entity.key)}FieldsFilter",
                lambda: {
                    camel(field.key): found
                    for field in entity.fields.values()
                    if (found := self.filter_field(entity, field, hop=False)) is not None
                },
            )
        return self.fields_filters[entity.key]

    def filter_type(self, entity: CompiledEntity):
        if entity.key not in self.filters:

            def fields() -> dict:
                own = self.filters[entity.key]
                combined = {
                    "and": input_field(list_of(own), "and_"),
                    "or": input_field(list_of(own), "or_"),
                    "not": input_field(own, "not_"),
                }
                for field in entity.fields.values():
                    found = self.filter_field(entity, field, hop=True)
                    if found is not None:
                        combined[camel(field.key)] = found
                return combined

            self.filters[entity.key] = GraphQLInputObjectType(
                f"{type_name(entity.key)}Filter", fields
            )
        return self.filters[entity.key]

    def field_enum(self, entity: CompiledEntity) -> GraphQLEnumType:
        """``{Entity}Field``: the entity's fields and system columns, for sorts and reports
        (one enum for both; a field that cannot be sorted is refused when used)."""
        if entity.key not in self.field_enums:
            self.field_enums[entity.key] = enum(
                f"{type_name(entity.key)}Field", [*SYSTEM_SORTS, *entity.fields]
            )
        return self.field_enums[entity.key]

    def order_type(self, entity: CompiledEntity):
        name = type_name(entity.key)
        return GraphQLInputObjectType(
            f"{name}OrderBy",
            {
                "field": input_field(nn(self.field_enum(entity)), "field"),
                "direction": input_field(Direction, "direction", default="asc"),
                "nulls": input_field(Nulls, "nulls"),
            },
        )

    # -- mutations -------------------------------------------------------------------------

    def input_type(self, entity: CompiledEntity, suffix: str):
        """``{Entity}Input`` / ``{Entity}Patch``: the writable fields, all optional (the
        service reports what is required); both types hold the same field objects."""
        if entity.key in self.inputs:
            return GraphQLInputObjectType(
                f"{type_name(entity.key)}{suffix}", self.inputs[entity.key]
            )
        attrs = {}
        for field in entity.fields.values():
            if field.type.computed or field.options.get("read_only"):
                continue
            gql = self.graphql_type(entity, field)
            if gql in ("Relation", "User"):
                kind = GraphQLID
            elif gql == "[Relation]":
                kind = list_of(GraphQLID)
            elif gql in ("Enum", "[Enum]"):
                scalar = self.enum(entity, field) or GraphQLString
                kind = list_of(scalar) if gql == "[Enum]" else scalar
            elif gql == "Money":
                kind = MoneyInput
            elif gql == "File":
                attrs[camel(field.key)] = input_field(GraphQLString, field.key, UPLOAD_ID)
                continue
            else:
                kind = SCALARS[gql]
            attrs[camel(field.key)] = input_field(kind, field.key)
        self.inputs[entity.key] = attrs
        return GraphQLInputObjectType(f"{type_name(entity.key)}{suffix}", attrs)

    def mutations(self, entity: CompiledEntity) -> dict:
        name = type_name(entity.key)
        node = self.types[entity.key]
        payload = GraphQLObjectType(
            f"{name}Payload",
            {"record": GraphQLField(node), "errors": GraphQLField(nn(list_of(FieldError)))},
        )
        deleted = GraphQLObjectType(
            f"Delete{name}Payload",
            {"id": GraphQLField(GraphQLID), "errors": GraphQLField(nn(list_of(FieldError)))},
        )
        create_input = self.input_type(entity, "Input")
        patch = self.input_type(entity, "Patch")
        record_id = {"id": arg(nn(GraphQLID), "id")}
        return {
            **self.upsert_mutation(entity, create_input),
            **self.transition_mutation(entity, payload, patch),
            f"create{name}": GraphQLField(
                nn(payload),
                args={"input": arg(nn(create_input), "input")},
                resolve=resolvers.create(entity.key),
            ),
            f"update{name}": GraphQLField(
                nn(payload),
                args={
                    **record_id,
                    "input": arg(nn(patch), "input"),
                    "version": arg(GraphQLInt, "version"),
                },
                resolve=resolvers.update(entity.key),
            ),
            f"delete{name}": GraphQLField(
                nn(deleted), args=record_id, resolve=resolvers.delete(entity.key)
            ),
            f"restore{name}": GraphQLField(
                nn(payload), args=record_id, resolve=resolvers.restore(entity.key)
            ),
        }

    def transition_mutation(self, entity: CompiledEntity, payload, patch) -> dict:
        """``transition{Entity}(id, transition, input)``: take a state machine's transition by
        name, with the values it requires; only for entities with a state machine."""
        workflows = self.config.workflows
        machines = workflows.state_machines.get(entity.key, []) if workflows else []
        keys = sorted({t.key for machine in machines for t in machine.transitions})
        if not keys:
            return {}
        name = type_name(entity.key)
        return {
            f"transition{name}": GraphQLField(
                nn(payload),
                args={
                    "id": arg(nn(GraphQLID), "id"),
                    "transition": arg(nn(literal_enum(f"{name}Transition", keys)), "transition"),
                    "input": arg(patch, "input"),
                },
                resolve=resolvers.transition(entity.key),
                description="Move the record along its state machine (docs/workflows.md).",
            )
        }

    def upsert_mutation(self, entity: CompiledEntity, create_input) -> dict:
        """``upsert{Plural}(inputs, matchOn)``: all rows or none, matched on a unique field;
        only for entities that have one."""
        unique = [key for key, field in entity.fields.items() if field.options.get("unique")]
        if not unique:
            return {}
        name = type_name(entity.key)
        plural = type_name(entity.plural_key)
        payload = GraphQLObjectType(
            f"Upsert{plural}Payload",
            {
                "records": GraphQLField(nn(list_of(self.types[entity.key]))),
                "created": GraphQLField(nn(GraphQLInt)),
                "updated": GraphQLField(nn(GraphQLInt)),
                "errors": GraphQLField(nn(list_of(RowError))),
            },
        )
        return {
            f"upsert{plural}": GraphQLField(
                nn(payload),
                args={
                    "inputs": arg(nn(list_of(create_input)), "inputs"),
                    "matchOn": arg(nn(enum(f"{name}UniqueField", unique)), "match_on"),
                },
                resolve=resolvers.upsert(entity.key),
            )
        }


def build_schema(config: CompiledConfig) -> TenantSchema:
    return SchemaBuilder(config).build()
