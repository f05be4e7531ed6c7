"""Validation of a configuration document: the JSON Schema first, then its meaning.

Every problem names its path in the document (``entities[2].fields[5].expression: …``), so a
consultant can find it. Nothing here writes: publishing calls :func:`validate_document` and stops
at the first list that is not empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from metadata.cel_check import SYSTEM_FIELDS, ExpressionError, article, check_expression
from metadata.fieldtypes import Problem, field_types
from metadata.fieldtypes.base import FieldValueError
from metadata.schema_validator import config_errors
from records.reports import check_reports
from ui_builder.checks import check_dashboards, check_layouts
from workflows.checks import check_workflows

RESERVED_FIELD_KEYS = SYSTEM_FIELDS | {"tenant", "tenant_id", "deleted_at", "team"}


def format_path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def schema_problems(document: Any) -> list[Problem]:
    errors = sorted(config_errors(document), key=lambda e: list(map(str, e.path)))
    problems = [
        Problem(format_path(error.absolute_path), error.validator, error.message)
        for error in errors
    ]
    # A field whose type-specific branch failed also reports its options as "unevaluated";
    # that is noise next to the real error at or below the same path.
    explained = {p.path for p in problems if p.code != "unevaluatedProperties"}
    problems = [
        p
        for p in problems
        if p.code != "unevaluatedProperties"
        or not any(path == p.path or path.startswith(p.path + ".") for path in explained)
    ]
    unique, seen = [], set()
    for problem in problems:
        if (problem.path, problem.message) not in seen:
            seen.add((problem.path, problem.message))
            unique.append(Problem(problem.path, "schema", problem.message))
    return unique


class CheckContext:
    """What meaning checks need to know about the document being checked."""

    def __init__(self, document: dict):
        self.document = document
        self.entities: dict[str, dict] = {}
        for entity in document.get("entities", []):
            self.entities.setdefault(entity["key"], entity)
        self.entity_keys = set(self.entities)
        self.role_keys = {role.get("key") for role in document.get("roles", [])}
        self.entity: dict = {}
        # While a workflow's actions are checked: the names (``as``) of the records the
        # actions before the one checked make; None elsewhere.
        self.named_before: tuple[str, ...] | None = None

    def unknown_roles(self, names, path: str) -> Iterator[Problem]:
        """A problem at ``path[i]`` for each role name the document does not define."""
        for index, role in enumerate(names or ()):
            if role not in self.role_keys:
                yield Problem(f"{path}[{index}]", "unknown_role", f"there is no role {role!r}")

    def field_samples(self, entity: dict) -> dict:
        samples = {}
        for field in entity.get("fields", []):
            if field["type"] in field_types:
                field_type = field_types.get(field["type"])
                samples[field["key"]] = lambda variant, t=field_type, f=field: t.cel_sample(
                    f, variant
                )
        return samples

    def check_cel(
        self,
        source: str,
        *,
        expect: str | None,
        entity: dict | None = None,
        created: tuple[str, ...] | None = None,
        item: dict | None = None,
        related: bool = False,
    ):
        """``item``: the entity an action repeats over (``for_each``), read as ``item.``;
        ``related``: whether the expression may read the records the lookups point at."""
        entity = entity or self.entity
        return check_expression(
            source,
            field_samples=self.field_samples(entity),
            expect=expect,
            created=created,
            item=None if item is None else self.field_samples(item),
            related=self.related_samples(entity) if related else None,
        )

    def related_samples(self, entity: dict) -> dict:
        """Per lookup of the entity, the field samples of its target."""
        return {
            field["key"]: self.field_samples(self.entities[field["target"]])
            for field in entity.get("fields", [])
            if field["type"] == "lookup" and field.get("target") in self.entities
        }


def duplicates(items: list[dict], key: str, path: str, what: str) -> Iterator[Problem]:
    seen: set = set()
    for index, item in enumerate(items):
        value = item.get(key)
        if value in seen:
            yield Problem(
                f"{path}[{index}].{key}", "duplicate_key", f"the {what} {value!r} is defined twice"
            )
        seen.add(value)


def check_entities(ctx: CheckContext) -> Iterator[Problem]:
    entities = ctx.document.get("entities", [])
    yield from duplicates(entities, "key", "entities", "entity")
    names: dict[str, str] = {}
    for index, entity in enumerate(entities):
        if entity["plural_key"] == entity["key"]:
            yield Problem(
                f"entities[{index}].plural_key",
                "name_clash",
                "plural_key must differ from key (they name two GraphQL queries)",
            )
        for attribute in ("key", "plural_key"):
            name = entity[attribute]
            here = f"entities[{index}].{attribute}"
            owner = names.get(name)
            if owner is not None and not owner.startswith(f"entities[{index}]."):
                if not (attribute == "key" and owner.endswith(".key")):  # reported as duplicate
                    yield Problem(here, "name_clash", f"{name!r} is already used as {owner}")
            names.setdefault(name, here)
        ctx.entity = entity
        yield from check_entity(ctx, entity, f"entities[{index}]")


# Values a unique group cannot compare: many values, long texts, computed ones.
NOT_IN_UNIQUE_GROUPS = (
    "multi_choice", "multi_lookup", "long_text", "rich_text", "address", "formula", "rollup",
)  # fmt: skip


def check_conflicts(ctx, entity: dict, path: str, types: dict) -> Iterator[Problem]:
    """A conflict's range names date or date-time fields, ``same`` fields (or the owner) of
    single values, and its filter is a condition over the record."""
    yield from duplicates(entity.get("conflicts", []), "key", f"{path}.conflicts", "conflict")
    for index, spec in enumerate(entity.get("conflicts", [])):
        where = f"{path}.conflicts[{index}]"
        for end in ("start", "end"):
            if types.get(spec[end]) not in ("date", "datetime"):
                message = f"{spec[end]!r} is not a date or date-time field of {entity['key']}"
                yield Problem(f"{where}.{end}", "not_a_date", message)
        for position, key in enumerate(spec["same"]):
            if key != "owner" and (key not in types or types[key] in NOT_IN_UNIQUE_GROUPS):
                message = f"{key!r} is not a single-valued field of {entity['key']} (or owner)"
                yield Problem(f"{where}.same[{position}]", "unknown_field", message)
        if spec.get("filter"):
            try:
                ctx.check_cel(spec["filter"], expect="bool", entity=entity)
            except ExpressionError as error:
                yield Problem(f"{where}.filter", "invalid_expression", str(error))


def check_entity(ctx: CheckContext, entity: dict, path: str) -> Iterator[Problem]:
    fields = entity.get("fields", [])
    keys = {field["key"] for field in fields}
    yield from duplicates(fields, "key", f"{path}.fields", "field")
    for attribute in ("title_field",):
        if entity.get(attribute) and entity[attribute] not in keys:
            yield Problem(
                f"{path}.{attribute}",
                "unknown_field",
                f"{entity[attribute]!r} is not a field of {entity['key']}",
            )
    for index, key in enumerate(entity.get("duplicate_check", [])):
        if key not in keys:
            yield Problem(
                f"{path}.duplicate_check[{index}]",
                "unknown_field",
                f"{key!r} is not a field of {entity['key']}",
            )
    types = {field["key"]: field["type"] for field in fields}
    yield from check_conflicts(ctx, entity, path, types)
    for index, group in enumerate(entity.get("unique_together", [])):
        for position, key in enumerate(group):
            where = f"{path}.unique_together[{index}][{position}]"
            if key not in types:
                message = f"{key!r} is not a field of {entity['key']}"
                yield Problem(where, "unknown_field", message)
            elif types[key] in NOT_IN_UNIQUE_GROUPS:
                message = f"{key} is a {types[key]}: it cannot be part of a unique group"
                yield Problem(where, "cannot_be_unique", message)
    for index, key in enumerate(entity.get("owner_fields", [])):
        if types.get(key) != "user":
            yield Problem(
                f"{path}.owner_fields[{index}]",
                "not_a_user_field",
                f"{key!r} is not a user field of {entity['key']}",
            )
    for index, field in enumerate(fields):
        yield from check_field(ctx, field, f"{path}.fields[{index}]")
    validations = entity.get("validations", [])
    yield from duplicates(validations, "key", f"{path}.validations", "validation rule")
    for index, rule in enumerate(validations):
        rule_path = f"{path}.validations[{index}]"
        try:
            ctx.check_cel(rule["rule"], expect="bool", related=True)
        except ExpressionError as error:
            yield Problem(f"{rule_path}.rule", "invalid_expression", str(error))
        for field_index, key in enumerate(rule.get("fields", [])):
            if key not in keys | SYSTEM_FIELDS:
                yield Problem(
                    f"{rule_path}.fields[{field_index}]",
                    "unknown_field",
                    f"{key!r} is not a field of {entity['key']}",
                )


def check_field(ctx: CheckContext, field: dict, path: str) -> Iterator[Problem]:
    field_type = field_types.get(field["type"])
    if field["key"] in RESERVED_FIELD_KEYS:
        yield Problem(
            f"{path}.key",
            "reserved_key",
            f"{field['key']!r} is reserved for a field every record has",
        )
    if field.get("unique") and not field_type.can_be_unique:
        yield Problem(
            f"{path}.unique",
            "not_supported",
            f"{article(field['type'])} {field['type']} field cannot be unique",
        )
    if field.get("indexed") and not field_type.can_be_indexed:
        yield Problem(
            f"{path}.indexed",
            "not_supported",
            f"{article(field['type'])} {field['type']} field cannot be indexed",
        )
    if field_type.computed:
        for option in ("required", "default"):
            if field.get(option) not in (None, False):
                yield Problem(
                    f"{path}.{option}",
                    "not_supported",
                    f"{article(field['type'])} {field['type']} field is computed: "
                    f"it takes no {option}",
                )
    yield from field_type.check_options(field, path, ctx)
    if "default" in field and not field_type.computed:
        yield from check_default(ctx, field, field_type, path)


def check_default(ctx, field, field_type, path) -> Iterator[Problem]:
    default = field["default"]
    if isinstance(default, dict) and set(default) == {"cel"}:
        try:
            ctx.check_cel(default["cel"], expect=field_type.cel_result_type(field), related=True)
        except ExpressionError as error:
            yield Problem(f"{path}.default.cel", "invalid_expression", str(error))
        return
    try:
        field_type.normalize(default, field)
    except FieldValueError as error:
        yield Problem(f"{path}.default", "invalid_default", error.message)


def check_cycles(ctx: CheckContext) -> Iterator[Problem]:
    """Formulas and rollups may not depend on themselves, directly or through others."""
    graph: dict[str, set[str]] = {}
    paths: dict[str, str] = {}
    for e_index, entity in enumerate(ctx.document.get("entities", [])):
        for f_index, field in enumerate(entity.get("fields", [])):
            node = f"{entity['key']}.{field['key']}"
            paths[node] = f"entities[{e_index}].fields[{f_index}]"
            field_type = field_types.get(field["type"])
            edges = {f"{entity['key']}.{key}" for key in field_type.references(field)}
            if field["type"] == "rollup":
                edges |= {f"{field['source']}.{field[k]}" for k in ("field", "via") if k in field}
            graph[node] = edges
    state: dict[str, int] = {}
    reported: set[frozenset] = set()

    def visit(node: str, stack: list[str]) -> Iterator[Problem]:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycle = stack[stack.index(target) :] + [target]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    yield Problem(
                        paths[target],
                        "cycle",
                        "computed fields depend on themselves: " + " → ".join(cycle),
                    )
            elif state.get(target) is None and target in graph:
                yield from visit(target, [*stack, target])
        state[node] = 2

    for node in sorted(graph):
        if state.get(node) is None:
            yield from visit(node, [node])


def check_references(ctx: CheckContext) -> Iterator[Problem]:
    """Roles, layouts and workflows: unique keys, and every entity and field they name exists."""
    for section in ("roles", "layouts", "workflows"):
        items = ctx.document.get(section, [])
        yield from duplicates(items, "key", section, section[:-1])
        for index, item in enumerate(items):
            path = f"{section}[{index}]"
            entity = ctx.entities.get(item.get("entity")) if item.get("entity") else None
            if item.get("entity") and entity is None:
                yield Problem(
                    f"{path}.entity",
                    "unknown_entity",
                    f"the entity {item['entity']!r} does not exist",
                )
                continue
            if section == "roles":
                yield from check_role(ctx, item, path)
            elif entity is not None:
                yield from check_field_mentions(item, path, entity, ctx.entities)


def check_role(ctx: CheckContext, role: dict, path: str) -> Iterator[Problem]:
    """Every entity and field a role names exists; "*" (every other entity) names no field."""
    for key, access in (role.get("entities") or {}).items():
        where = f"{path}.entities.{key}"
        if key == "*":
            if access.get("fields"):
                yield Problem(
                    f"{where}.fields",
                    "fields_need_an_entity",
                    'field access needs a named entity, not "*"',
                )
            continue
        entity = ctx.entities.get(key)
        if entity is None:
            yield Problem(where, "unknown_entity", f"the entity {key!r} does not exist")
            continue
        fields = {field["key"] for field in entity.get("fields", [])}
        for field_key in access.get("fields") or {}:
            if field_key not in fields:
                yield Problem(
                    f"{where}.fields.{field_key}",
                    "unknown_field",
                    f"{field_key!r} is not a field of {key}",
                )


def check_sharing_rules(ctx: CheckContext) -> Iterator[Problem]:
    rules = ctx.document.get("sharing_rules", [])
    yield from duplicates(rules, "key", "sharing_rules", "sharing rule")
    for index, rule in enumerate(rules):
        path = f"sharing_rules[{index}]"
        entity = ctx.entities.get(rule["entity"])
        if entity is None:
            yield Problem(
                f"{path}.entity", "unknown_entity", f"the entity {rule['entity']!r} does not exist"
            )
            continue
        try:
            ctx.check_cel(rule["condition"], expect="bool", entity=entity)
        except ExpressionError as error:
            yield Problem(f"{path}.condition", "invalid_expression", str(error))
        yield from ctx.unknown_roles(rule.get("roles"), f"{path}.roles")
        if not rule.get("roles") and not rule.get("teams"):
            yield Problem(path, "shared_with_nobody", "name the roles or teams it shares with")


def check_field_mentions(
    node: Any, path: str, entity: dict, entities: dict[str, dict]
) -> Iterator[Problem]:
    """Every ``"field": key`` and ``"fields": [keys]`` inside a layout or workflow must exist.

    A nested object that names another ``"entity"`` (a related list) is checked against it.
    """
    if isinstance(node, dict) and isinstance(node.get("entity"), str):
        if node["entity"] not in entities:
            yield Problem(
                f"{path}.entity", "unknown_entity", f"the entity {node['entity']!r} does not exist"
            )
            return
        entity = entities[node["entity"]]
    fields = {f["key"]: f for f in entity.get("fields", [])} | dict.fromkeys(SYSTEM_FIELDS)
    if isinstance(node, dict):
        for name, value in node.items():
            child = f"{path}.{name}"
            if name == "entity":
                continue
            if name == "field" and isinstance(value, str) and value not in fields:
                yield Problem(
                    child, "unknown_field", f"{value!r} is not a field of {entity['key']}"
                )
            elif name == "fields" and isinstance(value, list):
                for index, key in enumerate(value):
                    if isinstance(key, str) and key not in fields:
                        yield Problem(
                            f"{child}[{index}]",
                            "unknown_field",
                            f"{key!r} is not a field of {entity['key']}",
                        )
                    else:
                        yield from check_field_mentions(key, f"{child}[{index}]", entity, entities)
            else:
                yield from check_field_mentions(value, child, entity, entities)
        yield from check_state_values(node, path, fields)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from check_field_mentions(item, f"{path}[{index}]", entity, entities)


def check_state_values(node: dict, path: str, fields: dict) -> Iterator[Problem]:
    """A state machine's ``from``/``to`` states must be options of its choice field."""
    field = fields.get(node.get("field")) if isinstance(node.get("field"), str) else None
    if not field or field.get("type") != "choice" or "transitions" not in node:
        return
    values = {option["value"] for option in field.get("options", [])}
    for index, transition in enumerate(node.get("transitions") or []):
        if not isinstance(transition, dict):
            continue
        for end in ("from", "to"):
            states = transition.get(end)
            for state in states if isinstance(states, list) else [states]:
                if state is not None and state != "*" and state not in values:
                    yield Problem(
                        f"{path}.transitions[{index}].{end}",
                        "unknown_state",
                        f"{state!r} is not an option of {field['key']}",
                    )


def validate_document(document: Any) -> list[Problem]:
    """All problems of a document; an empty list means it can be published."""
    problems = schema_problems(document)
    if problems:
        return problems
    ctx = CheckContext(document)
    return [
        *check_entities(ctx),
        *check_cycles(ctx),
        *check_references(ctx),
        *check_sharing_rules(ctx),
        *check_workflows(ctx),
        *check_layouts(ctx),
        *check_reports(ctx),
        *check_dashboards(ctx),
    ]
