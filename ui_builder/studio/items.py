"""Editing one item of the draft (an entity, a field, a role, a layout, a workflow, a sharing
rule) with the django-jsonform editor: the schema it is drawn from, the data it shows and what
comes back from it.

A save that leaves problems at the item (the JSON Schema's or the meaning checks') is refused
and they are shown at the elements they name; problems elsewhere in the draft do not block it
(they block the publish, which lists them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django import forms
from django_jsonform.widgets import JSONFormWidget

from metadata.schema_builder import build_schema
from ui_builder.studio import choices
from ui_builder.studio.drafts import Collection, problems_of, replaced
from ui_builder.studio.editor_schema import (
    EditorProblems,
    editor_schema,
    error_map,
    from_editor,
    to_editor,
)


@cache
def config_schema() -> dict:
    return build_schema()


LOCALE_TITLES = {"en": "English", "zh-Hans": "中文（简体）"}


def humanized(schema: dict) -> dict:
    """Titles from the keys (``title_field`` -> "Title field"), all the way down."""
    for key, child in schema.get("properties", {}).items():
        if child.get("title") == key:
            child["title"] = LOCALE_TITLES.get(key) or key.replace("_", " ").capitalize()
        humanized(child)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            humanized(schema[key])
    for option in schema.get("oneOf", []):
        humanized(option)
    return schema


def item_schema(collection: Collection, document: dict, item: dict, entity_key: str | None):
    root = config_schema()
    schema = editor_schema(root["$defs"][collection.definition], root, item)
    if collection.name == "entities":
        schema["properties"].pop("fields", None)  # one by one, on their own pages
        schema["required"] = [k for k in schema["required"] if k != "fields"]
    for starter in collection.starter:  # chosen before the editor opened
        if starter in schema["properties"]:
            schema["properties"][starter]["readonly"] = True
    own_entity = entity_key if collection.name == "fields" else item.get("entity")
    if collection.name == "entities":
        own_entity = item.get("key")
    choices.offer(schema, document, own_entity, fields=collection.name != "fields")
    return humanized(schema)


class ItemForm(forms.Form):
    item = forms.JSONField(label="")

    def __init__(self, schema: dict, *args, errors: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        widget = JSONFormWidget(schema=schema)
        if errors:
            widget.add_error(errors)
        self.fields["item"].widget = widget
        self.schema = schema


@dataclass
class Outcome:
    """What a save produced: the new document, or the problems that refused it."""

    document: dict | None = None
    item: dict | None = None
    problems: list[tuple[tuple, str]] = field(default_factory=list)


def edited(
    collection: Collection,
    document: dict,
    path: tuple,
    index: int | None,
    posted: Any,
    schema: dict,
    keep: dict | None = None,
    rename_of: str | None = None,
) -> Outcome:
    """The document with the posted item in place, unless the item has problems.

    ``keep``: values the editor does not show, kept as they are; ``rename_of``: the item's
    published key, recorded as ``renamed_from`` when the key changes."""
    problems = EditorProblems()
    item = from_editor(posted, schema, problems)
    if not isinstance(item, dict):
        return Outcome(problems=[((), "The editor sent no item.")])
    if keep:
        item = {**item, **keep}
    if rename_of and item.get("key") != rename_of and "renamed_from" not in item:
        item["renamed_from"] = rename_of
    changed, position = replaced(document, path, index, item)
    found = problems_of(changed, (*path, position))
    mine = problems.items + found.mine
    if mine:
        return Outcome(item=item, problems=mine)
    return Outcome(document=changed, item=item)


def editor_data(item: dict, schema: dict) -> Any:
    return to_editor(item, schema)


def editor_errors(problems: list[tuple[tuple, str]], schema: dict) -> dict:
    return error_map(problems, schema)
