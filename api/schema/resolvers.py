"""Resolvers: GraphQL arguments in, records service calls, RecordViews out.

Each factory returns the resolver of one entity's field, query or mutation. ``info.context.crm``
is the request's :class:`api.schema.context.GraphContext` (service, loader, configuration).
"""

from __future__ import annotations

from decimal import Decimal

from graphql import GraphQLError
from graphql_relay import from_global_id

from api.schema.types import connection, first_children, input_value, output_value, type_name
from metadata.fieldtypes.base import DAY_COUNTS, RELATIVE_DATES
from records.errors import RecordError, RecordErrorCode
from records.permissions import denied


def crm(info):
    return info.context.crm


def record_id(value, entity_key: str | None = None) -> int:
    """A record id from a global ID (``Type:123`` in base64) or a plain number."""
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        kind, raw = from_global_id(text)
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise GraphQLError(
            f"{value!r} is not a record id.", extensions={"code": "invalid_id"}
        ) from error
    if not raw.isdigit() or (entity_key and kind != type_name(entity_key)):
        raise GraphQLError(
            f"{value!r} is not the id of a {type_name(entity_key or 'record')}.",
            extensions={"code": "invalid_id"},
        )
    return int(raw)


def graphql_error(error: RecordError) -> GraphQLError:
    return GraphQLError(error.message, extensions={"code": str(error.code)}, original_error=error)


# -- fields ------------------------------------------------------------------------------------


def values(entity_key: str, keys: dict[str, tuple[str, str]]):
    """The resolver of an entity's plain fields, one for all of them (a closure per field
    cost memory in large schemas): ``keys`` maps each GraphQL name to (field key, type)."""

    def resolve(row, info):
        key, gql = keys[info.field_name]
        if key not in row.values and key in crm(info).hidden(entity_key):
            raise graphql_error(denied(f"You may not read {entity_key}.{key}."))
        return output_value(gql, row.values.get(key))

    return resolve


def readable(context, entity_key: str, key: str, row):
    if key not in row.values and key in context.hidden(entity_key):
        raise graphql_error(denied(f"You may not read {entity_key}.{key}."))
    return row.values.get(key)


def file(entity_key: str, key: str):
    """A file field's ``File``: what the record holds, and the URL of its download."""

    def resolve(row, info):
        context = crm(info)
        value = readable(context, entity_key, key, row)
        if value is None:
            return None
        return {
            "name": value["name"],
            "size": value["size"],
            "contentType": value["content_type"],
            "url": context.file_url(entity_key, row.id, key),
        }

    return resolve


def relation(entity_key: str, key: str, target: str):
    def resolve(row, info):
        context = crm(info)
        pk = readable(context, entity_key, key, row)
        return None if pk is None else context.loader.load(target, pk)

    return resolve


def relations(entity_key: str, key: str, target: str):
    """A multi-lookup's live, readable records (held sorted by id) as a connection."""

    def resolve(row, info, **args):
        context = crm(info)
        found = [
            context.loader.load(target, pk) for pk in readable(context, entity_key, key, row) or []
        ]
        return id_page([view for view in found if view is not None], args)

    return resolve


def metadata(root, info):
    return crm(info).metadata()


# -- queries ------------------------------------------------------------------------------------


def one(entity_key: str):
    def resolve(root, info, **args):
        try:
            view = crm(info).service.get(entity_key, record_id(args["id"], entity_key))
            crm(info).loader.prime_parents(entity_key, [view.id])
            return view
        except RecordError as error:
            if error.code == RecordErrorCode.NOT_FOUND:
                return None
            raise graphql_error(error) from error

    return resolve


def filter_tree(context, entity_key: str, given) -> dict | None:
    """The compiler's filter tree from a GraphQL filter input."""
    if not given:
        return None
    parts = []
    for name, item in given.items():
        if item is None:
            continue
        if name in ("and_", "or_"):
            children = [filter_tree(context, entity_key, child) for child in item]
            children = [child for child in children if child]
            if children:
                parts.append({name.rstrip("_"): children})
        elif name == "not_":
            child = filter_tree(context, entity_key, item)
            if child:
                parts.append({"not": child})
        else:
            parts += conditions(context, entity_key, name, item)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"and": parts}


def conditions(context, entity_key: str, path: str, operators) -> list[dict]:
    """Filter-tree leaves for one field's operators; ``entity_key`` owns the field named by
    the last part of ``path`` (the target entity inside a lookup's ``match``)."""
    entity = context.config.entities[entity_key]
    field = entity.fields.get(path.rsplit(".", 1)[-1])
    found = []
    for op, raw in operators.items():
        if raw is None:
            continue
        if op == "match":
            target = field.options["target"]
            for field_key, target_ops in raw.items():
                if target_ops is not None:
                    found += conditions(context, target, f"{path}.{field_key}", target_ops)
            continue
        if raw is False and op in FLAGS:
            continue  # a relative-date flag left off (false values of eq, is_null… count)
        value = input_value(raw)
        if field is not None and field.options["type"] in ("lookup", "multi_lookup", "user"):
            if op != "is_me" and not isinstance(value, bool):
                value = (
                    [record_id(v) for v in value] if isinstance(value, list) else record_id(value)
                )
        found.append({"field": path, "op": op, "value": value})
    return found


# Relative-date operators given as true/false flags (the others take a value).
FLAGS = frozenset(RELATIVE_DATES) - set(DAY_COUNTS)


def order_of(order_by) -> list[dict]:
    """The service's sorts from a GraphQL ``orderBy``."""
    return [
        {
            "field": input_value(item["field"]),
            "direction": input_value(item.get("direction")) or "asc",
            **({"nulls": input_value(item["nulls"])} if item.get("nulls") else {}),
        }
        for item in order_by or []
    ]


def page(entity_key: str):
    def resolve(root, info, **args):
        context = crm(info)
        order_by, search, after = args.get("order_by"), args.get("search"), args.get("after")
        first, last, before = args.get("first"), args.get("last"), args.get("before")
        order = order_of(order_by)
        wants_total = any(
            selection.name.value == "totalCount"
            for field_node in info.field_nodes
            for selection in (
                field_node.selection_set.selections if field_node.selection_set else []
            )
            if hasattr(selection, "name")
        )
        try:
            result = context.service.query(
                entity_key,
                filter_tree=filter_tree(context, entity_key, args.get("filter")),
                order_by=order,
                first=first,
                after=after,
                last=last,
                before=before,
                search=search,
                with_total=wants_total,
            )
        except RecordError as error:
            raise graphql_error(error) from error
        context.loader.prime_lookups(entity_key, result.rows)
        context.loader.prime_parents(entity_key, [row.id for row in result.rows])
        return connection(
            result.rows,
            result.cursors,
            result.has_next,
            result.end_cursor,
            result.total,
            result.has_previous,
        )

    return resolve


# -- mutations ------------------------------------------------------------------------------


def writable_values(context, entity_key: str, given) -> dict:
    entity = context.config.entities[entity_key]
    values = {}
    for key, raw in (given or {}).items():
        field = entity.fields.get(key)
        val = input_value(raw)
        if field is not None and val is not None:
            kind = field.options["type"]
            if kind in ("lookup", "user"):
                val = record_id(val)
            elif kind == "multi_lookup":
                val = [record_id(item) for item in val]
        values[key] = val
    return values


def payload_of(call) -> dict:
    try:
        return {"record": call(), "errors": []}
    except RecordError as error:
        if error.errors:
            return {"record": None, "errors": [e.as_dict() for e in error.errors]}
        if error.code in (RecordErrorCode.INVALID, RecordErrorCode.VERSION_CONFLICT):
            problem = {"field": None, "code": str(error.code), "message": error.message}
            return {"record": None, "errors": [problem]}
        raise graphql_error(error) from error


def create(entity_key: str):
    def resolve(root, info, **args):
        context = crm(info)
        values = writable_values(context, entity_key, args["input"])
        return payload_of(lambda: context.service.create(entity_key, values))

    return resolve


def update(entity_key: str):
    def resolve(root, info, **args):
        context = crm(info)
        values = writable_values(context, entity_key, args["input"])
        pk, version = record_id(args["id"], entity_key), args.get("version")
        return payload_of(lambda: context.service.update(entity_key, pk, values, version=version))

    return resolve


def transition(entity_key: str):
    def resolve(root, info, **args):
        from workflows.services import transition as take

        context = crm(info)
        values = writable_values(context, entity_key, args.get("input"))
        pk = record_id(args["id"], entity_key)
        return payload_of(lambda: take(context.service, entity_key, pk, args["transition"], values))

    return resolve


def restore(entity_key: str):
    def resolve(root, info, **args):
        context = crm(info)
        pk = record_id(args["id"], entity_key)
        return payload_of(lambda: context.service.restore(entity_key, pk))

    return resolve


def delete(entity_key: str):
    def resolve(root, info, **args):
        context = crm(info)
        pk = record_id(args["id"], entity_key)
        try:
            context.service.delete(entity_key, pk)
        except RecordError as error:
            if error.code == RecordErrorCode.DELETE_RESTRICTED:
                problem = {"field": None, "code": str(error.code), "message": error.message}
                return {"id": None, "errors": [problem]}
            raise graphql_error(error) from error
        return {"id": args["id"], "errors": []}

    return resolve


def plain(value):
    """Aggregate values as JSON: decimals and dates as strings."""
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def aggregate(entity_key: str):
    def resolve(root, info, **args):
        context = crm(info)
        group_by = [
            {
                "field": input_value(item["field"]),
                **({"bucket": input_value(item["bucket"])} if item.get("bucket") else {}),
            }
            for item in args.get("group_by") or []
        ]
        metrics = [
            {
                "fn": input_value(item["fn"]),
                **({"field": input_value(item["field"])} if item.get("field") else {}),
                **({"as": item["as_"]} if item.get("as_") else {}),
            }
            for item in args.get("metrics") or [{"fn": "count"}]
        ]
        try:
            rows = context.service.aggregate(
                entity_key,
                filter_tree=filter_tree(context, entity_key, args.get("filter")),
                group_by=group_by,
                metrics=metrics,
                search=args.get("search"),
            )
        except RecordError as error:
            raise graphql_error(error) from error
        return [
            {
                "group": {k: plain(v) for k, v in row["group"].items()},
                "metrics": {k: plain(v) for k, v in row.items() if k != "group"},
            }
            for row in rows
        ]

    return resolve


def upsert(entity_key: str):
    def resolve(root, info, **args):
        from records.bulk import BulkError

        context = crm(info)
        rows = [writable_values(context, entity_key, item) for item in args["inputs"]]
        match_on = input_value(args["match_on"])
        try:
            result = context.service.bulk_upsert(entity_key, rows, match_on=match_on)
        except BulkError as error:
            return {
                "records": [],
                "created": 0,
                "updated": 0,
                "errors": [
                    {"row": row.index, **problem.as_dict()}
                    for row in error.rows
                    for problem in row.errors
                ],
            }
        except RecordError as error:
            raise graphql_error(error) from error
        ids = [*result.created, *result.updated]
        records = [context.loader.load(entity_key, pk) for pk in ids]
        return {
            "records": [r for r in records if r is not None],
            "created": len(result.created),
            "updated": len(result.updated),
            "errors": [],
        }

    return resolve


def reverse(child_key: str, via: str):
    """A parent's children (``Account.opportunities``): loaded for every parent of the page at
    once, then cut to ``first`` per parent, after the cursor ``after`` if given."""

    def resolve(row, info, **args):
        return id_page(crm(info).loader.children(child_key, via, row.id), args)

    return resolve


def id_page(rows, args) -> dict:
    """Records in id order as a connection of ``first`` after the id ``after``."""
    first = args.get("first")
    first = 20 if first is None else first  # an explicit null is the default, not an error
    if not 1 <= first <= 500:
        raise GraphQLError("first must be between 1 and 500", extensions={"code": "invalid_query"})
    try:
        return first_children(rows, first, args.get("after"))
    except ValueError as error:
        raise GraphQLError("after: invalid cursor", extensions={"code": "invalid_query"}) from error


# -- approvals ----------------------------------------------------------------------------------


def approval_payload(call) -> dict:
    """An approval call's payload: the request, or the refusal (not an approver, already
    decided, the record locked…) in ``errors``; a missing record is a GraphQL error."""
    from workflows.approvals import ApprovalError

    try:
        return {"request": call(), "errors": []}
    except RecordError as error:
        if isinstance(error, ApprovalError) or error.code in (
            RecordErrorCode.INVALID,
            RecordErrorCode.RECORD_LOCKED,
        ):
            problem = {"field": None, "code": str(error.code), "message": error.message}
            return {"request": None, "errors": [problem]}
        raise graphql_error(error) from error


def submit_for_approval(root, info, **args):
    from workflows.approvals import submit

    context = crm(info)
    pk = record_id(args["id"], args["entity"])
    return approval_payload(
        lambda: submit(context.service, args["entity"], pk, args["process"], args.get("comment"))
    )


def numeric_id(value) -> int:
    text = str(value).strip()
    if not text.isdigit():
        raise GraphQLError(f"{value!r} is not an id.", extensions={"code": "invalid_id"})
    return int(text)


def decide(decision: str):
    def resolve(root, info, **args):
        from workflows.approvals import decide as take

        context = crm(info)
        pk = numeric_id(args["request"])
        return approval_payload(lambda: take(context.service, pk, decision, args.get("comment")))

    return resolve


def recall(root, info, **args):
    from workflows.approvals import recall as take

    context = crm(info)
    pk = numeric_id(args["request"])
    return approval_payload(lambda: take(context.service, pk, args.get("comment")))


def approval_inbox(root, info):
    from workflows.approvals import inbox

    return inbox(crm(info).service)


def standing_in(task, info):
    user = getattr(crm(info).service.user, "pk", None)
    return {"id": task.assignee_id} if task.assignee_id != user else None


def notifications(root, info, **args):
    from workflows.services import notifications as read

    context = crm(info)
    try:
        return read(
            context.tenant,
            context.user,
            unread_only=bool(args.get("unreadOnly")),
            limit=50 if args.get("first") is None else args["first"],
        )
    except RecordError as error:
        raise graphql_error(error) from error


def mark_notifications_read(root, info, **args):
    from workflows.services import mark_read

    ids = args.get("ids")
    context = crm(info)
    return mark_read(
        context.tenant, context.user, None if ids is None else [numeric_id(i) for i in ids]
    )


def approval_history(root, info, **args):
    from workflows.approvals import history

    context = crm(info)
    pk = record_id(args["id"], args["entity"])
    try:
        return history(context.service, args["entity"], pk)
    except RecordError as error:
        if error.code == RecordErrorCode.NOT_FOUND:
            return []
        raise graphql_error(error) from error


def record_warnings(root, info, **args):
    from records.warnings import warnings_of
    from ui_builder.display import label_of, title_of

    context = crm(info)
    service = context.service
    pk = record_id(args["id"], args["entity"])
    try:
        entity = service.entity(args["entity"], service.configuration())
        view = service.get(entity.key, pk)
    except RecordError as error:
        raise graphql_error(error) from error
    return [
        {
            "kind": warning.kind,
            "fields": warning.fields,
            "message": label_of(warning.message) or None,
            "records": [
                {"recordId": other.id, "title": title_of(entity, other.values, other.id)}
                for other in warning.records
            ],
        }
        for warning in warnings_of(service, entity, view)
    ]
