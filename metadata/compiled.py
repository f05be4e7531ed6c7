"""The compiled model of a (tenant, version): built once per process, then cached.

Compiling turns the document into field objects bound to their types, CEL programs compiled once,
and the order in which formulas must be computed. :func:`active_config` costs one index-only
query when the cache is warm, so every process sees a newly published version on its next
request without a restart.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from graphlib import TopologicalSorter
from threading import Lock
from typing import Any

import cel
from django.db import connection

from metadata.cel_check import compile_expression
from metadata.fieldtypes import FieldType, field_types
from tenants.context import tenant_context
from ui_builder.definitions import compile_layouts
from workflows.definitions import compile_workflows

CACHE_SIZE = 256


@dataclass(frozen=True)
class CompiledField:
    key: str
    type: FieldType
    options: dict

    @property
    def label(self) -> dict:
        return self.options.get("label", {})


@dataclass(frozen=True)
class CompiledRule:
    key: str
    program: cel.Program
    message: dict
    fields: tuple[str, ...]


@dataclass(frozen=True)
class CompiledEntity:
    key: str
    plural_key: str
    options: dict
    fields: dict[str, CompiledField]
    rules: tuple[CompiledRule, ...]
    formulas: dict[str, cel.Program]
    formula_order: tuple[str, ...]

    @cached_property
    def program_sources(self) -> tuple[str, ...]:
        """The sources of the formulas (in their order), validation rules and computed
        defaults (``{"cel": …}``), worked out once per compiled version."""
        sources = [self.formulas[key].source for key in self.formula_order]
        sources += [rule.program.source for rule in self.rules]
        for compiled in self.fields.values():
            default = compiled.options.get("default")
            if isinstance(default, dict) and set(default) == {"cel"}:
                sources.append(default["cel"])
        return tuple(sources)

    @cached_property
    def readers(self) -> dict[str, Callable | None]:
        """Per field, its type's reader of stored values (``FieldType.reader``)."""
        return {key: field.type.reader(field.options) for key, field in self.fields.items()}


@dataclass(frozen=True)
class CompiledSharingRule:
    key: str
    entity: str
    program: cel.Program
    access: str  # "read" or "edit"
    roles: frozenset[str]
    teams: frozenset[str]


@dataclass(frozen=True)
class CompiledConfig:
    version: int
    document: dict
    entities: dict[str, CompiledEntity] = field(default_factory=dict)
    roles: dict[str, dict] = field(default_factory=dict)
    # Per entity key: the sharing rules over its records.
    sharing_rules: dict[str, tuple[CompiledSharingRule, ...]] = field(default_factory=dict)
    # Automations and state machines (workflows/definitions.py).
    workflows: Any = None
    # Forms, lists, kanban boards, calendars (ui_builder/definitions.py).
    layouts: Any = None
    # Reports by key (records/reports.py) and dashboards (ui_builder/dashboards.py).
    reports: dict[str, dict] = field(default_factory=dict)
    dashboards: tuple[dict, ...] = ()

    def entity(self, key: str) -> CompiledEntity:
        return self.entities[key]

    @cached_property
    def rollups_by_source(self) -> dict[str, tuple[tuple[CompiledEntity, CompiledField], ...]]:
        """Per child entity key, the (parent entity, rollup field) pairs it feeds, in the
        order of the entities and their fields."""
        found: dict[str, list] = {}
        for entity in self.entities.values():
            for compiled in entity.fields.values():
                if compiled.options["type"] == "rollup":
                    found.setdefault(compiled.options["source"], []).append((entity, compiled))
        return {key: tuple(pairs) for key, pairs in found.items()}

    def grants(self, roles, permission: str) -> bool:
        """Whether any of ``roles`` (keys) has the special permission (export, import,
        mass_update, configure, view_audit); a role the configuration lacks grants nothing."""
        return any(
            permission in (self.roles.get(role) or {}).get("permissions", []) for role in roles
        )


def compile_entity(entity: dict) -> CompiledEntity:
    fields = {
        f["key"]: CompiledField(f["key"], field_types.get(f["type"]), f) for f in entity["fields"]
    }
    formulas = {
        key: compile_expression(f.options["expression"])
        for key, f in fields.items()
        if f.options["type"] == "formula"
    }
    graph = {
        key: fields[key].type.references(fields[key].options) & set(formulas) for key in formulas
    }
    rules = tuple(
        CompiledRule(
            r["key"], compile_expression(r["rule"]), r["message"], tuple(r.get("fields", []))
        )
        for r in entity.get("validations", [])
    )
    return CompiledEntity(
        key=entity["key"],
        plural_key=entity["plural_key"],
        options={k: v for k, v in entity.items() if k not in ("fields", "validations")},
        fields=fields,
        rules=rules,
        formulas=formulas,
        formula_order=tuple(TopologicalSorter(graph).static_order()),
    )


def compile_document(version: int, document: dict) -> CompiledConfig:
    """Compile a document that has passed validation."""
    sharing: dict[str, list[CompiledSharingRule]] = {}
    for rule in document.get("sharing_rules", []):
        sharing.setdefault(rule["entity"], []).append(
            CompiledSharingRule(
                key=rule["key"],
                entity=rule["entity"],
                program=compile_expression(rule["condition"]),
                access=rule["access"],
                roles=frozenset(rule.get("roles", [])),
                teams=frozenset(rule.get("teams", [])),
            )
        )
    return CompiledConfig(
        version=version,
        document=document,
        entities={e["key"]: compile_entity(e) for e in document["entities"]},
        roles={role["key"]: role for role in document.get("roles", [])},
        sharing_rules={key: tuple(rules) for key, rules in sharing.items()},
        workflows=compile_workflows(document),
        layouts=compile_layouts(document),
        reports={report["key"]: report for report in document.get("reports", [])},
        dashboards=tuple(document.get("dashboards", [])),
    )


class CompiledCache:
    """A bounded LRU of compiled configurations across tenants, keyed by (tenant, version)."""

    def __init__(self, size: int = CACHE_SIZE):
        self.size = size
        self._items: OrderedDict[tuple[int, int], CompiledConfig] = OrderedDict()
        self._lock = Lock()
        self.compilations = 0

    def get(self, tenant_id: int, version: int, load) -> CompiledConfig:
        key = (tenant_id, version)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        compiled = compile_document(version, load())
        with self._lock:
            self.compilations += 1
            self._items[key] = compiled
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return compiled

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


cache = CompiledCache()


def config_version(tenant: Any, number: int) -> CompiledConfig:
    """A published version of the tenant's configuration, compiled (cached like the active
    one): what an outbox event recorded, delivered after a later publish."""
    from metadata.models import ConfigVersion

    tenant_id = getattr(tenant, "pk", tenant)

    def load() -> dict:
        with tenant_context(tenant):
            return ConfigVersion.objects.values_list("document", flat=True).get(number=number)

    return cache.get(tenant_id, number, load)


def active_config(tenant: Any) -> CompiledConfig | None:
    """The tenant's active compiled configuration, or None before its first publish."""
    from metadata.models import ConfigVersion

    tenant_id = getattr(tenant, "pk", tenant)
    with tenant_context(tenant):
        # Every read and write of records asks this first: one index-only probe in plain SQL
        # (the ORM's aggregate costs more in Python than the query in PostgreSQL).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT max(number) FROM metadata_configversion WHERE tenant_id = %s", [tenant_id]
            )
            number = cursor.fetchone()[0]
        if number is None:
            return None

        def load() -> dict:
            return ConfigVersion.objects.values_list("document", flat=True).get(number=number)

        return cache.get(tenant_id, number, load)
