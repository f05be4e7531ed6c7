"""One GraphQL query operation as one SQL statement building the response's JSON.

The page of each list comes from the records service (``RecordService.page_plan``: filter,
sort, cursor, permission scope, exactly as the resolvers' pages); this module only shapes its
rows into the selection: connections and edges by aggregation, a record's plain fields from
its stored JSON through the field types (``FieldType.graphql_json_sql``), and each lookup as a
correlated sub-select under the target's read scope, as the request's loader would have read
it. What it cannot shape raises :class:`Unsupported` and the resolvers answer instead.
"""

from __future__ import annotations

import itertools

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLObjectType,
    OperationDefinitionNode,
    get_named_type,
)
from graphql.execution.collect_fields import collect_fields, collect_sub_fields
from graphql.execution.values import get_argument_values

from api.schema import resolvers
from api.schema.compiled.sql import (
    Sql,
    Unsupported,
    cursor,
    global_id,
    iso_instant,
    json_array,
    json_object,
    literal,
)
from api.schema.types import camel, reverse_relations, type_name
from metadata.compiled import CompiledEntity
from records.errors import RecordError
from records.sql_fields import quote_literal_key

SYSTEM_INSTANTS = {"createdAt": "created_at", "updatedAt": "updated_at"}
SYSTEM_MEMBERS = {"owner": "owner_id", "createdBy": "created_by_id"}


class EntityNames:
    """GraphQL names of one configuration: root fields and each type's own fields."""

    def __init__(self, config):
        self.lists = {camel(e.plural_key): e for e in config.entities.values()}
        self.singles = {camel(e.key): e for e in config.entities.values()}
        self.fields = {
            e.key: {camel(f.key): f for f in e.fields.values()} for e in config.entities.values()
        }
        self.children = {
            e.key: {camel(name): pair for name, pair in reverse_relations(config, e).items()}
            for e in config.entities.values()
        }


class Planner:
    def __init__(self, schema, names: EntityNames, context, document, variables: dict):
        self.schema = schema
        self.names = names
        self.context = context
        self.service = context.service
        self.config = context.config
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.aliases = itertools.count(1)

    def response(self, operation: OperationDefinitionNode) -> Sql:
        """``SELECT '{"data": {...}}'``: the whole response body as text."""
        if operation.operation.value != "query":
            raise Unsupported(f"a {operation.operation.value}")
        query = self.schema.query_type
        fields = collect_fields(
            self.schema, self.fragments, self.variables, query, operation.selection_set
        )
        items = []
        for key, nodes in fields.items():
            name = nodes[0].name.value
            if name == "__typename":
                items.append((key, Sql(f"to_json({literal(query.name)}::text)")))
            elif name in self.names.lists:
                items.append((key, self.connection(self.names.lists[name], query, nodes)))
            elif name in self.names.singles:
                items.append((key, self.single(self.names.singles[name], query, nodes)))
            else:
                raise Unsupported(f"the root field {name}")
        data = json_object(items)
        return Sql(f"SELECT '{{\"data\":' || {data.text} || '}}'", data.params)

    # -- roots ---------------------------------------------------------------------------------

    def arguments(self, parent: GraphQLObjectType, nodes: list[FieldNode]) -> dict:
        return get_argument_values(parent.fields[nodes[0].name.value], nodes[0], self.variables)

    def sub_fields(self, parent: GraphQLObjectType, nodes: list[FieldNode]):
        kind = get_named_type(parent.fields[nodes[0].name.value].type)
        return kind, collect_sub_fields(self.schema, self.fragments, self.variables, kind, nodes)

    def page_plan(self, entity: CompiledEntity, **arguments):
        try:
            return self.service.page_plan(entity.key, **arguments)
        except RecordError as error:  # the resolvers report it, with its code and path
            raise Unsupported(f"records service: {error.message}") from error

    def single(self, entity: CompiledEntity, parent, nodes) -> Sql:
        """``opportunity(id:)``: the record, or null when it is missing or out of scope."""
        args = self.arguments(parent, nodes)
        try:
            pk = resolvers.record_id(args["id"], entity.key)
        except GraphQLError as error:
            raise Unsupported("an invalid id") from error
        plan = self.page_plan(entity, filter_tree={"field": "id", "op": "eq", "value": pk}, first=1)
        kind, fields = self.sub_fields(parent, nodes)
        node = self.record(entity, "p", kind, fields)
        statement = plan.statement
        return Sql(
            f"(SELECT {node.text} FROM ({statement.sql}) p LIMIT 1)",
            [*node.params, *statement.params],
        )

    def connection(self, entity: CompiledEntity, parent, nodes) -> Sql:
        """``opportunities(...)``: edges, pageInfo and totalCount over the service's page."""
        args = self.arguments(parent, nodes)
        kind, fields = self.sub_fields(parent, nodes)
        wanted = {field_nodes[0].name.value for field_nodes in fields.values()}
        try:
            filter_tree = resolvers.filter_tree(self.context, entity.key, args.get("filter"))
        except GraphQLError as error:
            raise Unsupported("an invalid id in a filter") from error
        plan = self.page_plan(
            entity,
            filter_tree=filter_tree,
            order_by=resolvers.order_of(args.get("order_by")),
            first=args.get("first"),
            after=args.get("after"),
            last=args.get("last"),
            before=args.get("before"),
            search=args.get("search"),
            with_total="totalCount" in wanted,
        )
        statement = plan.statement
        row_cursor = cursor(
            [f"p.s{i}" for i in range(len(statement.sort_types))], statement.sort_types
        )
        # The page size is a column of every row (a parameter, so one prepared statement
        # serves every size): aggregates read it as max(p.size), 0 when there is no row.
        size_sql = "COALESCE(max(p.size), 0)"
        shown = "FILTER (WHERE p.n <= p.size)"
        cursors = f"(array_agg({row_cursor} ORDER BY p.n) {shown})"
        count_shown = f"least(count(*), {size_sql})"
        more = f"count(*) > {size_sql}"
        given = "true" if plan.cursor_given else "false"
        has_next, has_previous = (given, more) if plan.backwards else (more, given)
        first_cursor = f"to_json({cursors}[1])"
        last_cursor = f"to_json({cursors}[{count_shown}])"
        if plan.backwards:  # rows come last first: the page shows them turned around
            first_cursor, last_cursor = last_cursor, first_cursor
        items = []
        for key, field_nodes in fields.items():
            name = field_nodes[0].name.value
            if name == "__typename":
                items.append((key, Sql(f"to_json({literal(kind.name)}::text)")))
            elif name == "totalCount":
                items.append((key, Sql(f"({statement.count_sql})", statement.count_params)))
            elif name == "pageInfo":
                info_kind, info_fields = self.sub_fields(kind, field_nodes)
                values = {
                    "hasNextPage": Sql(has_next),
                    "hasPreviousPage": Sql(has_previous),
                    "startCursor": Sql(first_cursor),
                    "endCursor": Sql(last_cursor),
                    "__typename": Sql(f"to_json({literal(info_kind.name)}::text)"),
                }
                items.append(
                    (
                        key,
                        json_object([(k, values[n[0].name.value]) for k, n in info_fields.items()]),
                    )
                )
            elif name == "edges":
                edge_kind, edge_fields = self.sub_fields(kind, field_nodes)
                edge = []
                for edge_key, edge_nodes in edge_fields.items():
                    edge_name = edge_nodes[0].name.value
                    if edge_name == "cursor":
                        edge.append((edge_key, Sql(f"to_json({row_cursor})")))
                    elif edge_name == "node":
                        node_kind, node_fields = self.sub_fields(edge_kind, edge_nodes)
                        edge.append((edge_key, self.record(entity, "p", node_kind, node_fields)))
                    else:
                        edge.append((edge_key, Sql(f"to_json({literal(edge_kind.name)}::text)")))
                order = "p.n DESC" if plan.backwards else "p.n"
                items.append((key, json_array(json_object(edge), order, "p.n <= p.size")))
            else:
                raise Unsupported(f"{kind.name}.{name}")
        body = json_object(items)
        rows = (
            f"(SELECT q.*, row_number() OVER (ORDER BY {statement.outer_order}) AS n, "
            f"%s::bigint AS size FROM ({statement.sql}) q) p"
        )
        # GROUP BY (): one row even for a selection without aggregates (only totalCount).
        return Sql(
            f"(SELECT {body.text} FROM {rows} GROUP BY ())",
            [*body.params, statement.size, *statement.params],
        )

    # -- records ---------------------------------------------------------------------------

    def record(self, entity: CompiledEntity, alias: str, kind, fields: dict) -> Sql:
        """A record's JSON from the row ``alias`` (columns of records_record)."""
        hidden = self.service.hidden_fields(self.config, entity.key)
        own = self.names.fields[entity.key]
        name = type_name(entity.key)
        items = []
        for key, nodes in fields.items():
            field_name = nodes[0].name.value
            if field_name == "__typename":
                value = Sql(f"to_json({literal(name)}::text)")
            elif field_name == "id":
                value = Sql(f"to_json({global_id(name, f'{alias}.id')})")
            elif field_name == "recordId":
                value = Sql(f"{alias}.id")
            elif field_name == "version":
                value = Sql(f"{alias}.version")
            elif field_name in SYSTEM_INSTANTS:
                value = Sql(f"to_json({iso_instant(f'{alias}.{SYSTEM_INSTANTS[field_name]}')})")
            elif field_name in SYSTEM_MEMBERS:
                column = f"{alias}.{SYSTEM_MEMBERS[field_name]}"
                value = self.member(kind, nodes, f"{column}::text")
            elif field_name in own:
                field = own[field_name]
                if field.key in hidden:  # the resolvers answer with a permission error
                    raise Unsupported(f"{entity.key}.{field.key} is hidden from the user")
                value = self.value(entity, alias, field, kind, nodes)
            elif field_name in self.names.children[entity.key]:
                child, via = self.names.children[entity.key][field_name]
                value = self.children(alias, child, via, kind, nodes)
            else:
                raise Unsupported(f"{kind.name}.{field_name}")
            items.append((key, value))
        return json_object(items)

    def value(self, entity, alias: str, field, kind, nodes) -> Sql:
        stored = f"{alias}.data->{quote_literal_key(field.key)}"
        gql = field.type.graphql_type_for(field.options)
        if gql == "Relation":
            return self.lookup(alias, field, kind, nodes)
        if gql == "User":
            return self.member(kind, nodes, f"({stored} #>> '{{}}')")
        if gql == "Money":
            sub_kind, sub = self.sub_fields(kind, nodes)
            parts = {
                "amount": Sql(f"{stored}->'amount'"),
                "currency": Sql(f"{stored}->'currency'"),
                "__typename": Sql(f"to_json({literal(sub_kind.name)}::text)"),
            }
            built = json_object([(k, parts[n[0].name.value]) for k, n in sub.items()])
            return Sql(f"CASE WHEN {stored} IS NULL THEN NULL ELSE {built.text} END", built.params)
        if gql == "[Relation]":
            return self.lookups(alias, field, kind, nodes)
        if gql == "File":
            return self.file(entity, alias, field, stored, kind, nodes)
        expression = field.type.graphql_json_sql(stored, field.options)
        if expression is None:
            raise Unsupported(f"{entity.key}.{field.key} needs Python")
        return Sql(expression)

    def file(self, entity, alias: str, field, stored: str, kind, nodes) -> Sql:
        """A ``File``: what the record holds, and its download URL around the record's id."""
        sub_kind, sub = self.sub_fields(kind, nodes)
        before, after = self.context.file_url_parts(entity.key, field.key)
        parts = {
            "name": Sql(f"{stored}->'name'"),
            "size": Sql(f"{stored}->'size'"),
            "contentType": Sql(f"{stored}->'content_type'"),
            "url": Sql(f"to_json(%s::text || {alias}.id::text || %s::text)", [before, after]),
            "__typename": Sql(f"to_json({literal(sub_kind.name)}::text)"),
        }
        built = json_object([(k, parts[n[0].name.value]) for k, n in sub.items()])
        return Sql(f"CASE WHEN {stored} IS NULL THEN NULL ELSE {built.text} END", built.params)

    def member(self, kind, nodes, id_text: str) -> Sql:
        """A ``Member`` (a user named by a record) from the SQL text of its id."""
        sub_kind, sub = self.sub_fields(kind, nodes)
        parts = {
            "id": Sql(f"to_json({id_text})"),
            "__typename": Sql(f"to_json({literal(sub_kind.name)}::text)"),
        }
        built = json_object([(k, parts[n[0].name.value]) for k, n in sub.items()])
        return Sql(f"CASE WHEN {id_text} IS NULL THEN NULL ELSE {built.text} END", built.params)

    def lookup(self, alias: str, field, kind, nodes) -> Sql:
        """The record a lookup points at, if live and readable by the user (else null)."""
        target = self.config.entities[field.options["target"]]
        t = f"t{next(self.aliases)}"
        try:
            scope_sql, scope_params = self.service.read_scope(self.config, target.key, t)
        except RecordError as error:
            raise Unsupported(error.message) from error
        sub_kind, sub = self.sub_fields(kind, nodes)
        node = self.record(target, t, sub_kind, sub)
        return Sql(
            f"(SELECT {node.text} FROM records_record {t} WHERE {t}.id = "
            f"({alias}.data->>{quote_literal_key(field.key)})::bigint AND {t}.tenant_id = %s "
            f"AND {t}.entity = %s AND {t}.deleted_at IS NULL AND ({scope_sql}))",
            [*node.params, self.service.tenant.pk, target.key, *scope_params],
        )

    def target_rows(self, target: CompiledEntity, t: str) -> Sql:
        """Conditions on ``t`` for the live records of ``target`` the user may read."""
        try:
            scope_sql, scope_params = self.service.read_scope(self.config, target.key, t)
        except RecordError as error:
            raise Unsupported(error.message) from error
        return Sql(
            f"{t}.tenant_id = %s AND {t}.entity = %s AND {t}.deleted_at IS NULL AND ({scope_sql})",
            [self.service.tenant.pk, target.key, *scope_params],
        )

    def lookups(self, alias: str, field, kind, nodes) -> Sql:
        """A multi-lookup's records (held sorted by id) as a connection, like children."""
        target = self.config.entities[field.options["target"]]
        held = Sql(
            f"IN (SELECT (jsonb_array_elements_text({alias}.data->"
            f"{quote_literal_key(field.key)}))::bigint)"
        )
        return self.id_connection(held, target, kind, nodes)

    def children(self, alias: str, child: CompiledEntity, via: str, kind, nodes) -> Sql:
        """``Account.opportunities(first, after)``: the records pointing at this one through
        ``via`` (found through the references table's index on the target, as the loader's
        "via in [parents]" filter finds them)."""
        pointing = Sql(
            f"IN (SELECT ref.source_id FROM records_reference ref WHERE ref.target_id = "
            f"{alias}.id AND ref.field = %s)",
            [via],
        )
        return self.id_connection(pointing, child, kind, nodes)

    def id_connection(self, ids: Sql, child: CompiledEntity, kind, nodes) -> Sql:
        """The live, readable records whose id is ``ids`` (``IN (...)``), by id, cut to
        ``first`` after the id ``after`` as the resolvers' ``first_children`` cuts them."""
        args = self.arguments(kind, nodes)
        first, after = args.get("first", 20), args.get("after")
        if not isinstance(first, int) or not 1 <= first <= 500:
            raise Unsupported("first out of range")
        if after is not None and not str(after).isdigit():
            raise Unsupported("an invalid cursor")
        c = f"c{next(self.aliases)}"
        rows = self.target_rows(child, c)
        conn_kind, fields = self.sub_fields(kind, nodes)
        skipped = f"{c}.skipped"
        shown = f"{c}.n > {skipped} AND {c}.n <= {skipped} + {c}.size"
        cursors = f"(array_agg({c}.id::text ORDER BY {c}.n) FILTER (WHERE {shown}))"
        items = []
        for key, field_nodes in fields.items():
            name = field_nodes[0].name.value
            if name == "__typename":
                items.append((key, Sql(f"to_json({literal(conn_kind.name)}::text)")))
            elif name == "totalCount":
                items.append((key, Sql("count(*)")))
            elif name == "pageInfo":
                info_kind, info_fields = self.sub_fields(conn_kind, field_nodes)
                values = {
                    "hasNextPage": Sql(
                        f"count(*) > COALESCE(max({skipped}), 0) + COALESCE(max({c}.size), 0)"
                    ),
                    "hasPreviousPage": Sql(f"COALESCE(max({skipped}), 0) > 0"),
                    "startCursor": Sql(f"to_json({cursors}[1])"),
                    "endCursor": Sql(f"to_json({cursors}[cardinality({cursors})])"),
                    "__typename": Sql(f"to_json({literal(info_kind.name)}::text)"),
                }
                items.append(
                    (
                        key,
                        json_object([(k, values[n[0].name.value]) for k, n in info_fields.items()]),
                    )
                )
            elif name == "edges":
                edge_kind, edge_fields = self.sub_fields(conn_kind, field_nodes)
                edge = []
                for edge_key, edge_nodes in edge_fields.items():
                    edge_name = edge_nodes[0].name.value
                    if edge_name == "cursor":
                        edge.append((edge_key, Sql(f"to_json({c}.id::text)")))
                    elif edge_name == "node":
                        node_kind, node_fields = self.sub_fields(edge_kind, edge_nodes)
                        edge.append((edge_key, self.record(child, c, node_kind, node_fields)))
                    else:
                        edge.append((edge_key, Sql(f"to_json({literal(edge_kind.name)}::text)")))
                items.append((key, json_array(json_object(edge), f"{c}.n", shown)))
            else:
                raise Unsupported(f"{conn_kind.name}.{name}")
        body = json_object(items)
        after_sql = "0" if after is None else f"count(*) FILTER (WHERE {c}.id <= %s) OVER ()"
        after_params = [] if after is None else [int(after)]
        return Sql(
            f"(SELECT {body.text} FROM (SELECT {c}.*, row_number() OVER (ORDER BY {c}.id) AS n, "
            f"{after_sql} AS skipped, %s::bigint AS size FROM records_record {c} "
            f"WHERE {c}.id {ids.text} AND {rows.text}) {c} GROUP BY ())",
            [*body.params, *after_params, first, *ids.params, *rows.params],
        )
