"""Actions on records, all through the records service acting as the platform
(``RecordService.system``): set fields, create a related record, assign an owner, start
another workflow."""

from __future__ import annotations

from collections.abc import Iterator

from metadata.cel_check import ExpressionError
from metadata.fieldtypes import FieldValueError, field_types
from metadata.fieldtypes.base import Problem
from records.errors import RecordError
from records.values import api_value
from workflows.actions.base import Action, ActionContext, ActionError, register

VALUES = {
    "values": {"type": "object", "description": "field -> value, as the API takes it"},
    "expressions": {
        "type": "object",
        "additionalProperties": {"type": "string", "minLength": 1},
        "description": (
            "field -> CEL over the triggering record (record.amount * 0.1) and the records "
            "earlier actions named (created.account)"
        ),
    },
}


NAMED = {
    "as": {
        "$ref": "#/$defs/key",
        "description": "names the record: later actions of the list read its id as created.<name>",
    }
}


def check_values(
    spec: dict, path: str, ctx, target: dict, source: dict, item: dict | None = None
) -> Iterator[Problem]:
    """``values`` must suit their fields; ``expressions`` compile over ``source`` (the
    triggering record, and ``item`` of a repeated action) to the type of their field of
    ``target``."""
    fields = {f["key"]: f for f in target.get("fields", [])}
    for group in ("values", "expressions"):
        for key, value in (spec.get(group) or {}).items():
            where = f"{path}.{group}.{key}"
            field = fields.get(key)
            if field is None:
                yield Problem(where, "unknown_field", f"{key!r} is not a field of {target['key']}")
                continue
            field_type = field_types.get(field["type"])
            if field_type.computed:
                yield Problem(where, "computed_field", f"{key} is computed; it cannot be set")
                continue
            if group == "values":
                if value is None:
                    continue
                try:
                    field_type.normalize(value, field)
                except FieldValueError as error:
                    yield Problem(where, error.code, error.message)
                except (TypeError, ValueError) as error:
                    yield Problem(where, "invalid_value", str(error))
            else:
                try:
                    ctx.check_cel(
                        value,
                        expect=field_type.cel_result_type(field),
                        entity=source,
                        created=ctx.named_before,
                        item=item,
                    )
                except ExpressionError as error:
                    yield Problem(where, "invalid_expression", str(error))


def unknown_entity(spec: dict, path: str) -> Problem:
    message = f"the entity {spec['entity']!r} does not exist"
    return Problem(f"{path}.entity", "unknown_entity", message)


def computed_values(spec: dict, context: ActionContext, target, item: dict | None = None) -> dict:
    """``values`` and the ``expressions`` evaluated over the event's record, the records
    earlier actions of the list named (``created``) and the related record a repeated action
    is at (``item``)."""
    from records.values import cel_record, evaluate, from_cel
    from workflows.definitions import program

    values = dict(spec.get("values") or {})
    expressions = spec.get("expressions") or {}
    if expressions:
        record = cel_record(context.entity, context.record, context.system)
        for key, source in expressions.items():
            field = target.fields[key]
            try:
                variables = {"created": context.results, "item": item}
                result = evaluate(program(source), record, variables)
                stored = from_cel(field, result)
                values[key] = (
                    None if stored is None else field.type.from_storage(stored, field.options)
                )
            except Exception as error:  # noqa: BLE001  (CEL errors: a missing value, a division)
                raise ActionError(f"{key}: {error}") from error
    return {key: api_value(value) for key, value in values.items()}


def refused(error: RecordError) -> ActionError:
    """The records service's refusal as an action's failure, each problem named."""
    problems = "; ".join(f"{e.field or 'record'}: {e.message}" for e in error.errors)
    return ActionError(f"{error.message} {problems}".strip())


def service(context: ActionContext):
    from records.service import RecordService

    return RecordService.system(context.tenant)


@register
class SetFields(Action):
    key = "set_fields"
    description = "Set fields of the record: values, or CEL expressions over it."
    params_schema = VALUES

    def check(self, spec, path, ctx, entity):
        if not spec.get("values") and not spec.get("expressions"):
            yield Problem(path, "nothing_to_set", "give values or expressions")
        yield from check_values(spec, path, ctx, entity, entity)

    def run(self, spec, context):
        values = computed_values(spec, context, context.entity)
        try:
            view = service(context).update(context.entity.key, context.record_id, values)
        except RecordError as error:
            raise refused(error) from error
        return {"version": view.version, "set": sorted(values)}

    def describe(self, spec, context):
        return f"set {', '.join(sorted({**spec.get('values', {}), **spec.get('expressions', {})}))}"


@register
class CreateRecord(Action):
    key = "create_record"
    description = "Create a record (of any entity), linked to this one through a lookup."
    params_schema = {
        "entity": {"$ref": "#/$defs/key"},
        "link_field": {
            "$ref": "#/$defs/key",
            "description": "a lookup of the new record that is to point at this one",
        },
        **VALUES,
        **NAMED,
        "for_each": {
            "type": "object",
            "required": ["entity", "via"],
            "properties": {
                "entity": {"$ref": "#/$defs/key"},
                "via": {"$ref": "#/$defs/key"},
                "filter": {"type": "string", "minLength": 1},
            },
            "additionalProperties": False,
            "description": (
                "one record per record of entity whose lookup via points at this one (a quote's "
                "lines), those the CEL filter over item keeps; expressions read it as item"
            ),
        },
    }
    required_params = ("entity",)

    def check(self, spec, path, ctx, entity):
        target = ctx.entities.get(spec["entity"])
        if target is None:
            yield unknown_entity(spec, path)
            return
        item = None
        if spec.get("for_each"):
            item, problems = self.check_for_each(spec, f"{path}.for_each", ctx, entity)
            yield from problems
            if item is None:
                return
        yield from check_values(spec, path, ctx, target, entity, item)
        link = spec.get("link_field")
        if link is not None:
            field = next((f for f in target["fields"] if f["key"] == link), None)
            if field is None or field["type"] != "lookup" or field["target"] != entity["key"]:
                yield Problem(
                    f"{path}.link_field",
                    "not_a_link",
                    f"{link!r} is not a lookup of {target['key']} to {entity['key']}",
                )

    @staticmethod
    def check_for_each(spec, path, ctx, entity) -> tuple[dict | None, list[Problem]]:
        """The entity repeated over, if the for_each names a lookup of it to this entity."""
        each = spec["for_each"]
        child = ctx.entities.get(each["entity"])
        if child is None:
            message = f"the entity {each['entity']!r} does not exist"
            return None, [Problem(f"{path}.entity", "unknown_entity", message)]
        problems = []
        via = next((f for f in child["fields"] if f["key"] == each["via"]), None)
        if via is None or via["type"] != "lookup" or via["target"] != entity["key"]:
            message = f"{each['via']!r} is not a lookup of {child['key']} to {entity['key']}"
            problems.append(Problem(f"{path}.via", "not_a_link", message))
        if spec.get("as"):
            message = "an action repeated for_each makes many records: it takes no as"
            problems.append(Problem(f"{path[: -len('.for_each')]}.as", "named_many", message))
        if each.get("filter"):
            try:
                ctx.check_cel(each["filter"], expect="bool", entity=entity, item=child)
            except ExpressionError as error:
                problems.append(Problem(f"{path}.filter", "invalid_expression", str(error)))
        return child, problems

    def run(self, spec, context):
        from tenants.models import User

        target = context.config.entities[spec["entity"]]
        owner = User.objects.filter(pk=context.system.get("owner") or 0).first()
        items = self.items(spec, context) if spec.get("for_each") else [None]
        created = []
        for item in items:
            values = computed_values(spec, context, target, item)
            if spec.get("link_field"):
                values[spec["link_field"]] = context.record_id
            try:
                created.append(service(context).create(target.key, values, owner=owner).id)
            except RecordError as error:
                raise refused(error) from error
        if spec.get("for_each"):
            return {"created_each": created, "entity": target.key}
        return {"created": created[0], "entity": target.key}

    @staticmethod
    def items(spec, context) -> list[dict]:
        """The related records repeated over, as CEL sees them, in the order they were made."""
        from records.values import cel_record, evaluate, view_record
        from workflows.definitions import program

        each = spec["for_each"]
        child = context.config.entities[each["entity"]]
        keep = program(each["filter"]) if each.get("filter") else None
        record = cel_record(context.entity, context.record, context.system)
        found, after = [], None
        while True:
            page = service(context).query(
                child.key,
                filter_tree={"field": each["via"], "op": "eq", "value": context.record_id},
                order_by=[{"field": "id", "direction": "asc"}],
                first=200,
                after=after,
            )
            for view in page.rows:
                item = view_record(child, view)
                if keep is None or evaluate(keep, record, {"item": item}) is True:
                    found.append(item)
            if not page.has_next:
                return found
            after = page.end_cursor

    def describe(self, spec, context):
        if spec.get("for_each"):
            return f"create a {spec['entity']} for each {spec['for_each']['entity']}"
        return f"create a {spec['entity']}"


@register
class UpdateRecord(Action):
    key = "update_record"
    description = (
        "Update another record: the one a lookup of this record points at (record.opportunity) "
        "or one an earlier action created (created.account); nothing when it gives null."
    )
    params_schema = {
        "entity": {"$ref": "#/$defs/key"},
        "record": {
            "type": "string",
            "minLength": 1,
            "description": "CEL giving the id of the record to update",
        },
        **VALUES,
        **NAMED,
    }
    required_params = ("entity", "record")

    def check(self, spec, path, ctx, entity):
        target = ctx.entities.get(spec["entity"])
        if target is None:
            yield unknown_entity(spec, path)
            return
        if not spec.get("values") and not spec.get("expressions"):
            yield Problem(path, "nothing_to_set", "give values or expressions")
        try:
            ctx.check_cel(spec["record"], expect="int", entity=entity, created=ctx.named_before)
        except ExpressionError as error:
            yield Problem(f"{path}.record", "invalid_expression", str(error))
        yield from check_values(spec, path, ctx, target, entity)

    def run(self, spec, context):
        from records.values import cel_record, evaluate
        from workflows.definitions import program

        record = cel_record(context.entity, context.record, context.system)
        try:
            record_id = evaluate(program(spec["record"]), record, {"created": context.results})
        except Exception as error:  # noqa: BLE001  (CEL errors: a missing value)
            raise ActionError(f"record: {error}") from error
        if record_id is None:
            return {"skipped": "the record expression gave null"}
        values = computed_values(spec, context, context.config.entities[spec["entity"]])
        try:
            view = service(context).update(spec["entity"], record_id, values)
        except RecordError as error:
            raise refused(error) from error
        return {"updated": view.id, "entity": spec["entity"], "version": view.version}

    def describe(self, spec, context):
        return f"update a {spec['entity']}"


@register
class AssignOwner(Action):
    key = "assign_owner"
    description = (
        "Give the record an owner, in turn (round robin) among the members holding a role or "
        "in a team; rules choose the pool by a condition, the first that holds."
    )
    pool = {"role": {"$ref": "#/$defs/key"}, "team": {"$ref": "#/$defs/key"}}
    params_schema = {
        **pool,
        "rules": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["condition"],
                "properties": {"condition": {"type": "string", "minLength": 1}, **pool},
                "additionalProperties": False,
            },
        },
    }

    def check(self, spec, path, ctx, entity):
        pools = [(path, spec)] + [
            (f"{path}.rules[{i}]", rule) for i, rule in enumerate(spec.get("rules") or [])
        ]
        if not any(p.get("role") or p.get("team") for _, p in pools):
            yield Problem(path, "no_pool", "name a role or a team (or rules naming them)")
        for where, pool in pools:
            if pool.get("role") and pool["role"] not in ctx.role_keys:
                yield Problem(f"{where}.role", "unknown_role", f"there is no role {pool['role']!r}")
            if where != path and bool(pool.get("role")) == bool(pool.get("team")):
                yield Problem(where, "one_pool", "a rule names a role or a team")
            if "condition" in pool:
                try:
                    ctx.check_cel(pool["condition"], expect="bool", entity=entity)
                except ExpressionError as error:
                    yield Problem(f"{where}.condition", "invalid_expression", str(error))

    def run(self, spec, context):
        from records.values import cel_record, evaluate
        from workflows.assignment import next_member
        from workflows.definitions import program

        record = cel_record(context.entity, context.record, context.system)
        chosen, name = spec, "default"
        for index, rule in enumerate(spec.get("rules") or []):
            if evaluate(program(rule["condition"]), record) is True:
                chosen, name = rule, f"rule {index}"
                break
        if not chosen.get("role") and not chosen.get("team"):
            raise ActionError("no rule matched and no default pool is named")
        member = next_member(context.tenant, f"{context.workflow}:{name}", chosen)
        if member is None:
            raise ActionError(f"nobody holds {chosen.get('role') or chosen.get('team')}")
        try:
            service(context).assign(context.entity.key, context.record_id, owner=member)
        except RecordError as error:
            raise refused(error) from error
        return {"owner": member.pk}

    def describe(self, spec, context):
        return "assign an owner in turn"


@register
class StartWorkflow(Action):
    key = "start_workflow"
    description = "Run another automation of the same entity on this record (its condition holds)."
    params_schema = {"workflow": {"$ref": "#/$defs/key"}}
    required_params = ("workflow",)

    def check(self, spec, path, ctx, entity):
        other = next(
            (w for w in ctx.document.get("workflows", []) if w.get("key") == spec["workflow"]),
            None,
        )
        if other is None or other.get("type") != "automation":
            yield Problem(
                f"{path}.workflow",
                "unknown_workflow",
                f"there is no automation {spec['workflow']!r}",
            )
        elif other.get("entity") != entity["key"]:
            yield Problem(
                f"{path}.workflow",
                "other_entity",
                f"{spec['workflow']} runs on {other.get('entity')}, not {entity['key']}",
            )

    def run(self, spec, context):
        from workflows.outbox import start_workflow

        event = start_workflow(context, spec["workflow"])
        return {"event": event.pk}

    def describe(self, spec, context):
        return f"start {spec['workflow']}"
