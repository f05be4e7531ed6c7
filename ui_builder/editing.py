"""Create and edit forms drawn from the form layout: the inputs the user may fill for a record
(sections shown by their conditions over the values being edited), the posted values turned
into the records service's input, and its refusals placed at their fields, in the user's
language where the configuration gives one (validation rules' messages)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy

from metadata.fieldtypes import FieldValueError
from records import files
from records.errors import RecordError, RecordErrorCode
from records.values import all_hold, cel_record, stored_values
from tenants.context import tenant_context
from ui_builder.display import label_of, title_of
from ui_builder.files import FileLink, link
from ui_builder.messages import problem_message

INPUTS = {  # field-type widget -> HTML input type
    "text": "text",
    "textarea": "textarea",
    "richtext": "textarea",
    "email": "email",
    "tel": "tel",
    "url": "url",
    "number": "number",
    "percent": "number",
    "date": "date",
    "datetime": "datetime-local",
    "checkbox": "checkbox",
    "select": "select",
    "lookup": "select",
    "user": "select",
    "file": "file",
    "address": "address",  # one input per part
    "multiselect": "multiselect",
    "multilookup": "multiselect",
    "money": "money",  # the amount and its currency
}
# Inputs that are not one text: unchanged() leaves them to the records service's comparison.
COMPOSITE = ("address", "multiselect", "money", "checkbox", "file")
ADDRESS_PARTS = {
    "street": gettext_lazy("Street"),
    "city": gettext_lazy("City"),
    "state": gettext_lazy("State or province"),
    "postal_code": gettext_lazy("Postal code"),
    "country": gettext_lazy("Country (two-letter code)"),
}
LOOKUP_CHOICES = 50  # listed without JavaScript; the type-ahead searches them all
CONFLICT = gettext_lazy(
    "Someone else saved this record while you were editing it. "
    "Check the values below, then save again."
)


@dataclass
class Input:
    key: str
    label: str
    kind: str  # text, textarea, number, date, datetime-local, checkbox, select
    value: str
    required: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    help: str = ""
    lookup: str = ""  # the target entity of a lookup: its type-ahead searches there
    accept: str = ""  # a file input's accept attribute
    file: FileLink | None = None  # the file the record holds (a file input)
    remove: bool = False  # the user asked to remove it
    upload: str = ""  # an upload id: a file kept for a save that was refused
    upload_name: str = ""
    parts: list[tuple[str, str, str]] = field(default_factory=list)  # address: key, label, text
    chosen: list[str] = field(default_factory=list)  # a multi-select's chosen values
    currency: str = ""  # money: the amount's currency, one of ``currencies``
    currencies: list[str] = field(default_factory=list)


@dataclass
class FormSection:
    key: str
    label: str
    columns: int
    inputs: list[Input]


@dataclass
class EditForm:
    entity: object
    label: str
    record_id: int | None
    version: int | None
    title: str
    sections: list[FormSection]
    errors: list[str] = field(default_factory=list)  # not at a field
    conflict: list[tuple[str, str, str]] = field(default_factory=list)  # label, yours, theirs


def as_text(field_, value) -> str:
    if value is None:
        return ""
    kind = field_.options["type"]
    if kind == "boolean":
        return "on" if value else ""
    if kind == "datetime" and isinstance(value, str):
        return value.replace("Z", "")[:16]
    if kind == "currency" and isinstance(value, dict):
        return str(value.get("amount", ""))
    if kind == "file" and isinstance(value, dict):
        return str(value.get("name", ""))
    return str(value)


def editable_fields(config, entity, form, values: dict, system: dict, hidden) -> list[FormSection]:
    """The sections and fields a user fills, by the form (or every writable field); ``hidden``
    holds the fields the user may not see or may only read."""
    record = cel_record(entity, values, system)
    sections: list[FormSection] = []
    if form is None:
        keys = [
            key
            for key, f in entity.fields.items()
            if key not in hidden and not f.type.computed and not f.options.get("read_only")
        ]
        return [FormSection("main", "", 2, [Input(k, "", "text", "") for k in keys])]
    for tab in form.spec["tabs"]:
        for index, spec in enumerate(tab["sections"]):
            keys = [e if isinstance(e, str) else e["field"] for e in spec.get("fields", [])]
            shown = []
            for key in keys:
                rule = form.rules.get(key)
                f = entity.fields.get(key)
                if f is None or key in hidden or f.type.computed or f.options.get("read_only"):
                    continue
                if rule is not None and not all_hold(rule.visible_if, record):
                    continue
                if rule is not None and rule.read_only_if and all_hold(rule.read_only_if, record):
                    continue
                shown.append(Input(key, "", "text", ""))
            if shown:
                sections.append(
                    FormSection(
                        spec.get("key") or f"section_{len(sections)}_{index}",
                        label_of(spec.get("label")),
                        spec.get("columns", 1),
                        shown,
                    )
                )
    return sections


def build(service, entity_key: str, record_id: int | None = None, posted=None) -> EditForm:
    """The form for a new record or an existing one; ``posted`` (a QueryDict) overrides the
    stored values, so sections follow what the user is typing."""
    config = service.configuration()
    entity = service.entity(entity_key, config)
    access = service.permissions.access(config, entity)
    hidden = {key for key in entity.fields if access.field_access(key) != "edit"}
    form = (
        config.layouts.for_roles(entity.key, "form", service.permissions.principal.roles)
        if config.layouts
        else None
    )
    view = service.get(entity.key, record_id) if record_id is not None else None
    if view is not None:  # a record the user reads but may not change has no edit form
        check_updatable(service, config, entity, record_id)
    values = stored_values(entity, view.values) if view else {}
    held = dict(values)  # the files the record holds, before what is posted
    if posted is not None:
        values = {**values, **values_from(entity, posted)}
        values = {k: v for k, v in values.items() if v is not None}
        values = _storable(entity, values)
    system = {"id": record_id or 0, "version": view.version if view else 0, "owner": 0}
    sections = editable_fields(config, entity, form, values, system, hidden)
    for section in sections:
        for item in section.inputs:
            fill(service, config, entity, item, values, form)
            if item.kind == "file":
                fill_file(entity, item, record_id, held.get(item.key), posted)
    return EditForm(
        entity=entity,
        label=label_of(entity.options.get("label"), entity.key),
        record_id=record_id,
        version=view.version if view else None,
        title=title_of(entity, view.values, view.id) if view else "",
        sections=sections,
    )


def check_updatable(service, config, entity, record_id: int) -> None:
    """permission_denied unless the user may update the record (its Edit button, its form)."""
    with tenant_context(service.tenant, user=service.user):
        service.permissions.check_record(config, entity, record_id, "update")


def fill(service, config, entity, item: Input, values: dict, form) -> None:
    f = entity.fields[item.key]
    item.label = label_of(f.options.get("label"), item.key)
    item.help = label_of(f.options.get("help"))
    item.kind = INPUTS.get(f.type.widget, "text")
    rule = form.rules.get(item.key) if form else None
    record = cel_record(entity, values, {"id": 0, "version": 0, "owner": 0})
    item.required = bool(f.options.get("required")) or bool(
        rule and rule.required_if and all_hold(rule.required_if, record)
    )
    item.value = (
        as_text(f, f.type.from_storage(values[item.key], f.options))
        if values.get(item.key) is not None
        else ""
    )
    if f.options["type"] == "choice":
        item.choices = [("", "—")] + [
            (o["value"], label_of(o.get("label"), o["value"]))
            for o in f.options.get("options", [])
            if not o.get("inactive") or o["value"] == values.get(item.key)
        ]
    elif f.options["type"] == "multi_choice":
        item.choices = [
            (o["value"], label_of(o.get("label"), o["value"]))
            for o in f.options.get("options", [])
            if not o.get("inactive") or o["value"] in (values.get(item.key) or [])
        ]
    elif f.options["type"] in ("lookup", "multi_lookup"):
        target = config.entities[f.options["target"]]
        item.lookup = target.key
        stored = values.get(item.key)
        chosen = [] if stored is None else stored if isinstance(stored, list) else [stored]
        try:
            rows = service.query(target.key, first=LOOKUP_CHOICES).rows
            missing = [pk for pk in chosen if all(r.id != pk for r in rows)]
            if missing:
                rows += service.query(
                    target.key, filter_tree={"field": "id", "op": "in", "value": missing}
                ).rows
        except RecordError:
            rows = []
        item.choices = [(str(r.id), title_of(target, r.values, r.id)) for r in rows]
        if f.options["type"] == "lookup":
            item.choices.insert(0, ("", "—"))
    elif f.options["type"] == "currency":
        item.currencies = list(f.options.get("currencies") or ["CNY"])
        item.currency = f.options.get("default_currency", item.currencies[0])
    composite_state(item, f, values.get(item.key))


def composite_state(item: Input, f, value) -> None:
    """What a composite input shows of a value (stored, or as posted): a multi-select's
    chosen options, an address's parts, an amount's currency."""
    kind = f.options["type"]
    if kind in ("multi_choice", "multi_lookup"):
        item.chosen = [str(v) for v in value or []]
    elif kind == "address":
        parts = value if isinstance(value, dict) else {}
        item.parts = [
            (part, str(label), parts.get(part, "")) for part, label in ADDRESS_PARTS.items()
        ]
    elif kind == "currency" and isinstance(value, dict) and value.get("currency"):
        item.currency = value["currency"]


def fill_file(entity, item: Input, record_id: int | None, held, posted) -> None:
    """A file input: the record's file (a link, and a box to remove it), the types it takes,
    and a file kept for a refused save (``upload_<key>``)."""
    f = entity.fields[item.key]
    item.value = ""
    item.accept = ",".join(f.options.get("accept", []))
    if isinstance(held, dict) and record_id is not None:
        item.file = link(entity.key, record_id, item.key, held)
    if posted is None:
        return
    item.remove = bool(posted.get(f"remove_{item.key}"))
    pending = posted.get(f"upload_{item.key}", "")
    if pending:
        try:
            value = files.from_upload_id(pending)
        except FieldValueError:
            return  # an old or forged one: the save reports it
        if isinstance(value, dict):
            item.upload, item.upload_name = pending, str(value.get("name", ""))


def values_from(entity, posted) -> dict:
    """The posted inputs as the records service takes them (text; empty means none)."""
    values = {}
    for key, f in entity.fields.items():
        if f.type.computed:
            continue
        if f.options["type"] == "boolean":
            if f"present_{key}" in posted:
                values[key] = key in posted
            continue
        if f.options["type"] == "file":  # a new file comes from request.FILES (FormUploads)
            if posted.get(f"upload_{key}"):
                values[key] = posted[f"upload_{key}"]
            elif posted.get(f"remove_{key}"):
                values[key] = None
            continue
        if f.options["type"] in ("multi_choice", "multi_lookup"):
            # a form's select with nothing chosen sends only its marker; a bulk "set field" the key
            if f"present_{key}" in posted or key in posted:
                chosen = [v for v in _all(posted, key) if v.strip()]
                if f.options["type"] == "multi_lookup":
                    chosen = [int(v) if v.isdigit() else v for v in chosen]
                values[key] = chosen or None
            continue
        if f.options["type"] == "address":
            if any(f"{key}.{part}" in posted for part in ADDRESS_PARTS):
                parts = {p: posted.get(f"{key}.{p}", "").strip() for p in ADDRESS_PARTS}
                values[key] = {p: text for p, text in parts.items() if text} or None
            continue
        if key not in posted:
            continue
        text = posted.get(key, "").strip()
        if text == "":
            values[key] = None
        elif f.options["type"] in ("lookup", "user"):
            values[key] = int(text) if text.isdigit() else text
        elif f.options["type"] == "currency":
            currencies = f.options.get("currencies") or ["CNY"]
            values[key] = {
                "amount": text,
                "currency": posted.get(f"{key}.currency")
                or f.options.get("default_currency", currencies[0]),
            }
        elif f.options["type"] == "datetime":
            values[key] = text if ("+" in text or text.endswith("Z")) else f"{text}:00+00:00"
        else:
            values[key] = text
    return values


def _all(posted, key: str) -> list[str]:
    """Every value posted under ``key`` (a QueryDict's list; a plain mapping's one value)."""
    if hasattr(posted, "getlist"):
        return posted.getlist(key)
    value = posted.get(key)
    return value if isinstance(value, list) else [] if value is None else [value]


def unchanged(entity, stored: dict, posted) -> set[str]:
    """The fields whose one input still holds the text the form showed: not written again (a
    date-time shown to the minute must not lose the seconds the user never saw)."""
    same = set()
    for key, value in stored.items():
        f = entity.fields.get(key)
        if f is None or key not in posted or INPUTS.get(f.type.widget, "text") in COMPOSITE:
            continue
        if posted.get(key, "").strip() == as_text(f, value):
            same.add(key)
    return same


def _storable(entity, values: dict) -> dict:
    """Typed values normalized to their stored form where they can be (for conditions);
    what does not normalize is left out of the preview."""
    stored = {}
    for key, value in values.items():
        f = entity.fields.get(key)
        if f is None:
            continue
        try:
            stored[key] = f.type.to_storage(f.type.normalize(value, f.options), f.options)
        except Exception:  # noqa: BLE001  (the save reports it at its field)
            continue
    return stored


def place_errors(service, edit: EditForm, error: RecordError, posted_values: dict) -> None:
    """Put the service's refusal on the form: each problem at its field (rules in the
    user's language), the rest above the form; a version conflict shows both values."""
    config = service.configuration()
    entity = edit.entity
    inputs = {item.key: item for s in edit.sections for item in s.inputs}
    if error.code == RecordErrorCode.VERSION_CONFLICT:
        current = service.get(entity.key, edit.record_id)
        edit.version = current.version
        edit.errors.append(str(CONFLICT))
        for key, mine in posted_values.items():
            theirs = current.values.get(key)
            f = entity.fields.get(key)
            if f is not None and str(mine or "") != as_text(f, theirs):
                edit.conflict.append(
                    (label_of(f.options.get("label"), key), str(mine or ""), as_text(f, theirs))
                )
        return
    if not error.errors:
        edit.errors.append(error.message)
        return
    for problem in error.errors:
        message = problem_message(config.entities[entity.key], problem)
        target = inputs.get(problem.field)
        if target is not None:
            target.errors.append(message)
        else:
            edit.errors.append(message)
