"""Drop-downs instead of typed keys: entity and field names offered where the editor asks for
one, labelled in the consultant's language. The layout editor thus arranges tabs, sections and
the entity's fields by choosing and moving them, without typing a key."""

from __future__ import annotations

from typing import Any

from ui_builder.display import label_of

# Properties that name an entity, anywhere in an item.
ENTITY_PROPERTIES = {"entity", "target"}
# Properties that name roles.
ROLE_PROPERTIES = {"roles"}
# Properties that name a field of the item's own entity.
FIELD_PROPERTIES = {
    "field",
    "fields",
    "columns",
    "card_fields",
    "start_field",
    "end_field",
    "title_field",
    "duplicate_check",
    "owner_fields",
}
# Below these, keys belong to another entity (a related list, a record created elsewhere).
OTHER_ENTITY = {"related", "actions", "values"}


def entity_choices(document: dict) -> list[dict]:
    return [
        {"title": f"{label_of(e.get('label'), e['key'])} ({e['key']})", "value": e["key"]}
        for e in document.get("entities", [])
    ]


def field_choices(document: dict, entity_key: str | None) -> list[dict]:
    entity = next((e for e in document.get("entities", []) if e["key"] == entity_key), None)
    if entity is None:
        return []
    return [
        {"title": f"{label_of(f.get('label'), f['key'])} ({f['key']})", "value": f["key"]}
        for f in entity.get("fields", [])
    ]


def offer(schema: dict, document: dict, entity_key: str | None, *, fields: bool = True) -> None:
    """Put the choices into ``schema`` (the editor's schema of one item), in place."""
    entities = entity_choices(document)
    own_fields = field_choices(document, entity_key) if fields else []
    roles = [
        {"title": f"{label_of(r.get('label'), r['key'])} ({r['key']})", "value": r["key"]}
        for r in document.get("roles", [])
    ]
    _walk(schema, {"entities": entities, "fields": own_fields, "roles": roles}, False)


def _choose(node: dict, options: list[dict]) -> None:
    if not options:
        return
    if node.get("type") == "string" and "enum" not in node and not node.get("x-json"):
        node["choices"] = options
    for option in node.get("oneOf", []):
        _choose(option, options)
    if node.get("type") == "array" and isinstance(node.get("items"), dict):
        _choose(node["items"], options)


def _walk(node: Any, offered: dict[str, list[dict]], inside_other: bool) -> None:
    if not isinstance(node, dict):
        return
    for name, child in node.get("properties", {}).items():
        if name in ENTITY_PROPERTIES:
            _choose(child, offered["entities"])
        elif name in ROLE_PROPERTIES:
            _choose(child, offered["roles"])
        elif name in FIELD_PROPERTIES and not inside_other:
            _choose(child, offered["fields"])
        _walk(child, offered, inside_other or name in OTHER_ENTITY)
    for key in ("items", "additionalProperties"):
        _walk(node.get(key), offered, inside_other)
    for option in node.get("oneOf", []):
        _walk(option, offered, inside_other)
