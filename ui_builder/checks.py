"""Meaning checks of the ``layouts`` section at publish: conditions that compile to a boolean,
kanban and calendar fields of the right types, related lists through a real lookup, sorts on
sortable fields, at most one default per entity and kind, roles that exist. Field names in
general are checked by metadata's reference checks."""

from __future__ import annotations

from collections.abc import Iterator

from metadata.cel_check import ExpressionError
from metadata.fieldtypes import field_types
from metadata.fieldtypes.base import Problem
from ui_builder.schema import CONDITIONS

DATE_TYPES = ("date", "datetime")
SYSTEM_FIELDS = ("id", "owner", "created_at", "updated_at", "created_by", "version")


def check_layouts(ctx) -> Iterator[Problem]:
    defaults: dict[tuple, str] = {}
    for index, layout in enumerate(ctx.document.get("layouts", [])):
        entity = ctx.entities.get(layout.get("entity"))
        if entity is None:
            continue  # named by the reference checks
        path = f"layouts[{index}]"
        fields = {f["key"]: f for f in entity.get("fields", [])}
        yield from ctx.unknown_roles(layout.get("roles"), f"{path}.roles")
        if layout.get("default"):
            slot = (layout["entity"], layout["type"])
            if slot in defaults:
                yield Problem(
                    f"{path}.default",
                    "two_defaults",
                    f"{defaults[slot]} is already the default {layout['type']} of "
                    f"{layout['entity']}",
                )
            defaults.setdefault(slot, layout["key"])
        kind = layout["type"]
        for name in ("columns", "card_fields"):
            for column_index, key in enumerate(layout.get(name, [])):
                if key not in fields and key not in SYSTEM_FIELDS:
                    yield Problem(
                        f"{path}.{name}[{column_index}]",
                        "unknown_field",
                        f"{key!r} is not a field of {entity['key']}",
                    )
        if layout.get("title_field") and layout["title_field"] not in fields:
            yield Problem(
                f"{path}.title_field",
                "unknown_field",
                f"{layout['title_field']!r} is not a field of {entity['key']}",
            )
        if kind == "form":
            yield from check_form(ctx, layout, path, entity)
        elif kind == "kanban":
            field = fields.get(layout["field"])
            if field is not None and field["type"] != "choice":
                yield Problem(
                    f"{path}.field",
                    "not_a_choice",
                    f"{field['key']} is {field['type']}, not a choice",
                )
        elif kind == "calendar":
            for name in ("start_field", "end_field"):
                field = fields.get(layout.get(name))
                if field is not None and field["type"] not in DATE_TYPES:
                    yield Problem(
                        f"{path}.{name}",
                        "not_a_date",
                        f"{field['key']} is {field['type']}, not a date",
                    )
                elif layout.get(name) and field is None:
                    yield Problem(
                        f"{path}.{name}",
                        "unknown_field",
                        f"{layout[name]!r} is not a field of {entity['key']}",
                    )
        elif kind == "list":
            for sort_index, sort in enumerate(layout.get("sort", [])):
                field = fields.get(sort["field"])
                if field is not None and not field_types.get(field["type"]).sortable:
                    yield Problem(
                        f"{path}.sort[{sort_index}].field",
                        "not_sortable",
                        f"{field['key']} cannot be sorted",
                    )


def check_form(ctx, layout: dict, path: str, entity: dict) -> Iterator[Problem]:
    for tab_index, tab in enumerate(layout["tabs"]):
        tab_path = f"{path}.tabs[{tab_index}]"
        yield from check_conditions(ctx, tab, tab_path, entity)
        for section_index, section in enumerate(tab["sections"]):
            where = f"{tab_path}.sections[{section_index}]"
            yield from check_conditions(ctx, section, where, entity)
            for field_index, element in enumerate(section.get("fields", [])):
                if isinstance(element, dict):
                    yield from check_conditions(
                        ctx, element, f"{where}.fields[{field_index}]", entity
                    )
            related = section.get("related")
            if related is not None:
                yield from check_related(ctx, related, f"{where}.related", entity)


def check_conditions(ctx, element: dict, path: str, entity: dict) -> Iterator[Problem]:
    for name in CONDITIONS:
        if name in element:
            try:
                ctx.check_cel(element[name], expect="bool", entity=entity)
            except ExpressionError as error:
                yield Problem(f"{path}.{name}", "invalid_expression", str(error))


def check_related(ctx, related: dict, path: str, entity: dict) -> Iterator[Problem]:
    child = ctx.entities.get(related["entity"])
    if child is None:
        return  # named by the reference checks
    via = next((f for f in child.get("fields", []) if f["key"] == related["via"]), None)
    if via is None or via["type"] != "lookup" or via.get("target") != entity["key"]:
        yield Problem(
            f"{path}.via",
            "not_a_link",
            f"{related['via']!r} is not a lookup of {child['key']} to {entity['key']}",
        )
    columns = {f["key"] for f in child.get("fields", [])}
    for index, column in enumerate(related.get("columns", [])):
        if column not in columns:
            yield Problem(
                f"{path}.columns[{index}]",
                "unknown_field",
                f"{column!r} is not a field of {child['key']}",
            )


def check_dashboards(ctx) -> Iterator[Problem]:
    reports = {report.get("key") for report in ctx.document.get("reports", [])}
    seen: set[str] = set()
    default = None
    for index, dashboard in enumerate(ctx.document.get("dashboards", [])):
        path = f"dashboards[{index}]"
        if dashboard["key"] in seen:
            yield Problem(
                f"{path}.key",
                "duplicate_key",
                f"the dashboard {dashboard['key']!r} is defined twice",
            )
        seen.add(dashboard["key"])
        if dashboard.get("default"):
            if default is not None:
                yield Problem(
                    f"{path}.default", "two_defaults", f"{default} is already the default"
                )
            default = default or dashboard["key"]
        yield from ctx.unknown_roles(dashboard.get("roles"), f"{path}.roles")
        for widget_index, widget in enumerate(dashboard["widgets"]):
            if widget["report"] not in reports:
                yield Problem(
                    f"{path}.widgets[{widget_index}].report",
                    "unknown_report",
                    f"there is no report {widget['report']!r}",
                )
