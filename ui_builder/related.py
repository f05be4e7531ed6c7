"""Related lists on a record page: the child records pointing at it through a lookup (a
section's ``related`` in the form layout), and, for line items (``editable``), their inline
editing: every changed line, the removed ones and a new one saved through the records service
together, all or nothing."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from django.db import transaction

from records.errors import RecordError, RecordErrorCode
from ui_builder.display import label_of, shown, title_of
from ui_builder.editing import ADDRESS_PARTS, Input, as_text, composite_state, fill, values_from
from ui_builder.messages import problem_message

RELATED_ROWS = 100
DEFAULT_COLUMNS = 4


@dataclass
class RelatedRow:
    id: int | None  # None: the line being added
    title: str
    version: int | None
    cells: list[str]
    inputs: list[Input] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class RelatedList:
    key: str  # the section's place in the form ("t0s1"): names its inputs
    label: str
    entity: object
    via: str
    columns: list[tuple[str, str]]  # (field key, label)
    rows: list[RelatedRow]
    total: int
    editable: bool
    can_create: bool
    errors: list[str] = field(default_factory=list)


def section_key(tab_index: int, section_index: int) -> str:
    return f"t{tab_index}s{section_index}"


def related_specs(form) -> dict[str, dict]:
    """The related lists of a form layout, by their section key."""
    if form is None:
        return {}
    return {
        section_key(t, s): spec["related"]
        for t, tab in enumerate(form.spec["tabs"])
        for s, spec in enumerate(tab["sections"])
        if spec.get("related")
    }


def spec_for(service, config, entity_key: str, key: str) -> dict | None:
    """The related list ``key`` of the entity's form as the user's roles get it, if any."""
    roles = service.permissions.principal.roles
    form = config.layouts.for_roles(entity_key, "form", roles) if config.layouts else None
    return related_specs(form).get(key)


def _columns(child, spec, hidden) -> list[str]:
    keys = spec.get("columns") or [k for k in child.fields if k != spec["via"]][:DEFAULT_COLUMNS]
    return [k for k in keys if k in child.fields and k not in hidden]


def related_list(
    service, config, parent_id: int, key: str, spec: dict, posted=None, errors=None
) -> RelatedList | None:
    """The list (None when the user may not read the child entity); ``posted`` and ``errors``
    redraw a refused inline save with what the user typed."""
    child = config.entities[spec["entity"]]
    access = service.permissions.access(config, child)
    if not access.scopes.get("read"):
        return None
    hidden = service.permissions.hidden_fields(config, child)
    keys = _columns(child, spec, hidden)
    page = service.query(
        child.key,
        filter_tree={"field": spec["via"], "op": "eq", "value": parent_id},
        first=RELATED_ROWS,
        with_total=True,
    )
    from ui_builder.pages import titles_for

    titles = titles_for(service, config, child, page.rows)
    editable = bool(spec.get("editable")) and bool(access.scopes.get("update") or access.create)
    writable = [
        k
        for k in keys
        if not child.fields[k].type.computed
        and not child.fields[k].options.get("read_only")
        and child.fields[k].type.widget != "file"  # uploaded on the record's own form
        and access.field_access(k) == "edit"
    ]
    templates = {}
    if editable:
        for k in writable:  # labels, kinds and choices once, not per line
            templates[k] = Input(k, "", "text", "")
            fill(service, config, child, templates[k], {}, None)

    def inputs(prefix: str, values: dict) -> list[Input]:
        made = []
        for k in writable:
            item = copy.copy(templates[k])
            item.errors = []
            item.key = f"{key}-{prefix}-{k}"
            name = item.key
            if posted is not None and (name in posted or f"present_{name}" in posted):
                item.value = posted.get(name, "")
                shown_value = _row_values(child, key, prefix, [k], posted).get(k)
            else:
                item.value = as_text(child.fields[k], values.get(k))
                shown_value = values.get(k)
            composite_state(item, child.fields[k], shown_value)
            made.append(item)
        return made

    rows = []
    for view in page.rows:
        row = RelatedRow(
            view.id,
            title_of(child, view.values, view.id),
            view.version,
            [shown(child.fields[k], view.values.get(k), titles) for k in keys],
        )
        if editable:
            row.inputs = inputs(str(view.id), view.values)
        row.errors = (errors or {}).get(str(view.id), [])
        rows.append(row)
    if editable and access.create:
        rows.append(
            RelatedRow(None, "", None, [], inputs("new", {}), (errors or {}).get("new", []))
        )
    return RelatedList(
        key=key,
        label=label_of(spec.get("label") or child.options.get("plural_label"), child.plural_key),
        entity=child,
        via=spec["via"],
        columns=[(k, label_of(child.fields[k].options.get("label"), k)) for k in keys],
        rows=rows,
        total=page.total,
        editable=editable,
        can_create=access.create,
        errors=(errors or {}).get("*", []),
    )


def _row_values(child, key: str, prefix: str, columns: list[str], posted) -> dict:
    """One line's inputs (named ``<list>-<line>-<field>``) as values_from reads a form's."""
    given = {}
    for k in columns:
        name = f"{key}-{prefix}-{k}"
        kind = child.fields[k].options["type"]
        if name in posted:
            given[k] = posted.getlist(name) if kind in MULTIPLE else posted[name]
        for part in (*ADDRESS_PARTS, "currency"):  # an address's parts, an amount's currency
            if f"{name}.{part}" in posted:
                given[f"{k}.{part}"] = posted[f"{name}.{part}"]
        if f"present_{name}" in posted:
            given[f"present_{k}"] = "1"
            if name in posted and kind == "boolean":
                given[k] = "on"
    return values_from(child, given)


MULTIPLE = ("multi_choice", "multi_lookup")


def _messages(child, error: RecordError) -> list[str]:
    if not error.errors:
        return [error.message]
    found = []
    for problem in error.errors:
        message = problem_message(child, problem)
        field_ = child.fields.get(problem.field) if problem.field else None
        found.append(
            f"{label_of(field_.options.get('label'), problem.field)}: {message}"
            if field_
            else message
        )
    return found


def save_related(service, config, parent_id: int, key: str, spec: dict, posted) -> dict:
    """Save the posted lines of one related list: changed lines updated, ticked ones deleted,
    a filled new line created. Returns the problems by line ({} when saved); with any
    problem nothing is saved."""
    child = config.entities[spec["entity"]]
    access = service.permissions.access(config, child)
    if not spec.get("editable"):
        raise RecordError(RecordErrorCode.PERMISSION_DENIED, "This list is not edited inline.")
    hidden = service.permissions.hidden_fields(config, child)
    columns = [
        k
        for k in _columns(child, spec, hidden)
        if not child.fields[k].type.computed
        and not child.fields[k].options.get("read_only")
        and child.fields[k].type.widget != "file"  # uploaded on the record's own form
        and access.field_access(k) == "edit"
    ]
    problems: dict[str, list[str]] = {}
    with transaction.atomic():
        for row_id in posted.getlist(f"{key}-row"):
            if not row_id.isdigit():
                continue
            try:
                current = service.get(child.key, int(row_id))
                if current.values.get(spec["via"]) != parent_id:
                    raise RecordError(RecordErrorCode.NOT_FOUND, "Not a line of this record.")
                if f"{key}-{row_id}-delete" in posted:
                    service.delete(child.key, int(row_id))
                    continue
                values = _row_values(child, key, row_id, columns, posted)
                changed = {
                    k: v
                    for k, v in values.items()
                    if as_text(child.fields[k], current.values.get(k))
                    != as_text(child.fields[k], v)
                }
                if changed:
                    version = posted.get(f"{key}-{row_id}-version", "")
                    service.update(
                        child.key,
                        int(row_id),
                        changed,
                        version=int(version) if version.isdigit() else None,
                    )
            except RecordError as error:
                problems[row_id] = _messages(child, error)
        new = _row_values(child, key, "new", columns, posted)
        if any(v not in (None, "", False) for v in new.values()):
            try:
                service.create(child.key, {**new, spec["via"]: parent_id})
            except RecordError as error:
                problems["new"] = _messages(child, error)
        if problems:
            transaction.set_rollback(True)
    return problems
