"""The studio's view of the draft: the document a consultant edits, item by item.

The draft is the tenant's one ``ConfigDraft`` (metadata/publish.py); before the first edit it
is a copy of the active version. Every save names the etag the consultant's page was drawn
from, so two consultants never overwrite each other silently.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from metadata.publish import active_version, document_of, get_draft, save_draft
from metadata.semantics import validate_document
from ui_builder.studio.editor_schema import parse_path


@dataclass
class Working:
    """The document being edited and the etag to save it with (None: no draft yet)."""

    document: dict
    etag: str | None
    version: int | None  # the active version
    has_changes: bool


def working(tenant) -> Working:
    draft = get_draft(tenant)
    active = active_version(tenant)
    number = active.number if active else None
    if draft is not None:
        document = document_of(draft)
        changed = active is None or document != document_of(active)
        return Working(document, draft.etag, number, changed)
    document = document_of(active) if active else {"format": 1, "locales": ["en"], "entities": []}
    return Working(document, None, number, False)


def save(tenant, user, document: dict, etag: str | None) -> str:
    """Save ``document`` as the draft; the new etag (etag_conflict when someone saved since)."""
    return save_draft(tenant, document, user=user, etag=etag).etag


@dataclass(frozen=True)
class Collection:
    """A list of keyed items in the document: entities, an entity's fields, roles, ..."""

    name: str
    label: Any
    definition: str  # the item's entry in the schema's $defs
    columns: tuple[str, ...] = ("key", "label")
    starter: tuple[str, ...] = ()  # chosen before the editor opens: its branch depends on them
    parent: str | None = None
    renamable: bool = False  # a published key changing is a rename (values move with it)

    def path(self, document: dict, parent_key: str | None = None) -> tuple:
        if self.parent is None:
            return (self.name,)
        parent = COLLECTIONS[self.parent]
        index = index_of(items(document, parent.path(document)), parent_key)
        if index is None:
            raise LookupError(parent_key)
        return (*parent.path(document), index, self.name)


COLLECTIONS: dict[str, Collection] = {
    c.name: c
    for c in (
        Collection("entities", _("Entities"), "entity", ("key", "label", "fields"), renamable=True),
        Collection(
            "fields",
            _("Fields"),
            "field",
            ("key", "label", "type"),
            ("type",),
            "entities",
            renamable=True,
        ),
        Collection("roles", _("Roles"), "role", ("key", "label", "permissions")),
        Collection(
            "layouts", _("Layouts"), "layout", ("key", "entity", "type"), ("entity", "type")
        ),
        Collection(
            "workflows", _("Workflows"), "workflow", ("key", "entity", "type"), ("entity", "type")
        ),
        Collection(
            "sharing_rules", _("Sharing rules"), "sharing_rule", ("key", "entity", "access")
        ),
    )
}


def published_keys(tenant, collection: Collection, parent_key: str | None = None) -> set[str]:
    """The keys of the collection's items in the active version."""
    active = active_version(tenant)
    if active is None:
        return set()
    document = document_of(active)
    try:
        found = items(document, collection.path(document, parent_key))
    except LookupError:
        return set()
    return {item.get("key") for item in found}


def items(document: dict, path: tuple) -> list[dict]:
    node: Any = document
    for part in path:
        node = node[part] if isinstance(part, int) else node.setdefault(part, [])
    return node


def index_of(found: list[dict], key: str | None) -> int | None:
    return next((i for i, item in enumerate(found) if item.get("key") == key), None)


def replaced(document: dict, path: tuple, index: int | None, item: dict) -> tuple[dict, int]:
    """A copy of ``document`` with ``item`` at ``index`` of the list at ``path`` (appended when
    ``index`` is None), and the index it has."""
    changed = copy.deepcopy(document)
    found = items(changed, path)
    if index is None:
        found.append(item)
        return changed, len(found) - 1
    found[index] = item
    return changed, index


def removed(document: dict, path: tuple, index: int) -> dict:
    changed = copy.deepcopy(document)
    del items(changed, path)[index]
    return changed


def moved(document: dict, path: tuple, index: int, step: int) -> dict:
    changed = copy.deepcopy(document)
    found = items(changed, path)
    target = index + step
    if 0 <= target < len(found):
        found[index], found[target] = found[target], found[index]
    return changed


@dataclass
class Problems:
    """The document's problems, split into those of one item (paths relative to it) and the
    rest."""

    mine: list[tuple[tuple, str]] = field(default_factory=list)
    others: list[tuple[str, str]] = field(default_factory=list)


def problems_of(document: dict, item_path: tuple) -> Problems:
    result = Problems()
    for problem in validate_document(document):
        path = parse_path(problem.path)
        if path[: len(item_path)] == item_path:
            result.mine.append((path[len(item_path) :], problem.message))
        else:
            result.others.append((problem.path, problem.message))
    return result
