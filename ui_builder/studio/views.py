"""The studio's pages for editing the draft: the lists of items and the item editors.

Wagtail wraps every studio URL in its admin-access check (ui_builder/studio/access.py says who
passes it); these views then act on the tenant chosen for the session.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from metadata.errors import ConfigError
from ui_builder.display import label_of
from ui_builder.studio import choices, drafts, items
from ui_builder.studio.drafts import COLLECTIONS, Collection


def tenant_of(request):
    if request.tenant is None:
        raise Http404(_("Choose a company first."))
    return request.tenant


def collection_of(name: str) -> Collection:
    if name not in COLLECTIONS or name == "fields":
        raise Http404(name)
    return COLLECTIONS[name]


def item_url(collection: Collection, key: str, parent: str | None = None) -> str:
    if collection.parent:
        return reverse("studio_field", args=[parent, key])
    return reverse("studio_item", args=[collection.name, key])


def list_url(collection: Collection, parent: str | None = None) -> str:
    if collection.parent:
        return reverse("studio_item", args=[collection.parent, parent])
    return reverse("studio_collection", args=[collection.name])


def summary(item: dict, column: str) -> str:
    value = item.get(column)
    if isinstance(value, dict):
        return label_of(value)
    if isinstance(value, list):
        return str(len(value)) if value and isinstance(value[0], dict) else ", ".join(value)
    return "" if value is None else str(value)


def rows(collection: Collection, found: list[dict]) -> list[dict]:
    return [
        {
            "key": item.get("key"),
            "cells": [summary(item, column) for column in collection.columns],
        }
        for item in found
    ]


def collection_list(request, name: str):
    collection = collection_of(name)
    work = drafts.working(tenant_of(request))
    found = drafts.items(work.document, collection.path(work.document))
    return render(
        request,
        "studio/collection.html",
        {
            "collection": collection,
            "columns": [c.replace("_", " ").capitalize() for c in collection.columns],
            "rows": rows(collection, found),
            "work": work,
        },
    )


class StarterForm(forms.Form):
    """What decides an item's shape, asked before its editor opens."""

    def __init__(self, collection: Collection, document: dict, *args, **kwargs):
        super().__init__(*args, **kwargs)
        schema = items.config_schema()["$defs"][collection.definition]
        if "entity" in collection.starter:
            self.fields["entity"] = forms.ChoiceField(
                label=gettext_lazy("Entity"),
                choices=[(c["value"], c["title"]) for c in choices.entity_choices(document)],
            )
        if "type" in collection.starter:
            self.fields["type"] = forms.ChoiceField(
                label=gettext_lazy("Type"),
                choices=[(t, t.replace("_", " ")) for t in schema["properties"]["type"]["enum"]],
            )


class NewEntityForm(forms.Form):
    key = forms.RegexField(
        regex=r"^[a-z][a-z0-9_]{0,62}$",
        label=gettext_lazy("Key"),
        help_text=gettext_lazy(
            "API name: lower case letters, digits and _, stable once published."
        ),
    )
    plural_key = forms.RegexField(regex=r"^[a-z][a-z0-9_]{0,62}$", label=gettext_lazy("Plural key"))
    label_en = forms.CharField(max_length=200, label=gettext_lazy("Label (English)"))
    label_zh = forms.CharField(max_length=200, required=False, label=gettext_lazy("Label (中文)"))


def _label(english: str, chinese: str) -> dict:
    return {"en": english, **({"zh-Hans": chinese} if chinese else {})}


def new_entity(request):
    """A new entity starts with a required text field ``name`` as its title."""
    tenant = tenant_of(request)
    work = drafts.working(tenant)
    form = NewEntityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        label = _label(data["label_en"], data["label_zh"])
        entity = {
            "key": data["key"],
            "plural_key": data["plural_key"],
            "label": label,
            "title_field": "name",
            "fields": [
                {"key": "name", "type": "text", "label": {"en": "Name", "zh-Hans": "名称"}}
                | {"required": True}
            ],
        }
        outcome = items.edited(
            COLLECTIONS["entities"],
            work.document,
            ("entities",),
            None,
            entity,
            {"type": "object", "properties": {}},
        )
        if outcome.problems:
            for path, message in outcome.problems:
                form.add_error(None, f"{'.'.join(map(str, path)) or data['key']}: {message}")
        elif _saved(request, tenant, outcome.document, request.POST.get("etag") or None):
            messages.success(request, _("The entity %(key)s was added.") % {"key": data["key"]})
            return redirect("studio_item", "entities", data["key"])
    return render(
        request,
        "studio/starter.html",
        {"collection": COLLECTIONS["entities"], "form": form, "work": work, "method": "post"},
    )


def _saved(request, tenant, document: dict, etag: str | None) -> bool:
    try:
        drafts.save(tenant, request.user, document, etag)
    except ConfigError as error:
        messages.error(request, error.message)
        return False
    return True


def item_editor(request, name: str, key: str | None = None, parent: str | None = None):
    """Edit the item ``key`` of a collection (``parent``: the entity of a field), or a new one."""
    collection = COLLECTIONS["fields"] if parent is not None else collection_of(name)
    if collection.name == "entities" and key is None:
        return new_entity(request)
    tenant = tenant_of(request)
    work = drafts.working(tenant)
    try:
        path = collection.path(work.document, parent)
    except LookupError as missing:
        raise Http404(str(missing)) from missing
    found = drafts.items(work.document, path)
    index = drafts.index_of(found, key) if key is not None else None
    if key is not None and index is None:
        raise Http404(key)
    if index is not None:
        item = found[index]
    else:
        starter = StarterForm(collection, work.document, request.GET or None)
        if not starter.is_bound or not starter.is_valid():
            return render(
                request,
                "studio/starter.html",
                {"collection": collection, "form": starter, "work": work, "method": "get"},
            )
        item = dict(starter.cleaned_data)
    schema = items.item_schema(collection, work.document, item, parent)
    problems: list = []
    shown = item
    if request.method == "POST":
        etag = request.POST.get("etag") or None
        try:
            posted = json.loads(request.POST.get("item") or "null")
        except json.JSONDecodeError:
            posted = None
        keep = {"fields": item.get("fields", [])} if collection.name == "entities" else None
        published = key is not None and collection.renamable
        outcome = items.edited(
            collection,
            work.document,
            path,
            index,
            posted,
            schema,
            keep,
            rename_of=key
            if published and key in drafts.published_keys(tenant, collection, parent)
            else None,
        )
        problems = outcome.problems
        if outcome.document is not None and _saved(request, tenant, outcome.document, etag):
            messages.success(request, _("Saved to the draft."))
            return redirect(item_url(collection, outcome.item["key"], parent))
        if outcome.item is not None:
            shown = outcome.item
        work = drafts.working(tenant) if outcome.document is not None else work
    form = items.ItemForm(
        schema,
        initial={"item": items.editor_data(shown, schema)},
        errors=items.editor_errors(problems, schema),
    )
    context = {
        "collection": collection,
        "item": item,
        "key": key,
        "parent": parent,
        "form": form,
        "work": work,
        "problems": [(".".join(map(str, p)), m) for p, m in problems],
        "back": list_url(collection, parent),
    }
    if collection.name == "entities":
        fields = COLLECTIONS["fields"]
        context["fields"] = rows(fields, item.get("fields", []))
        context["field_columns"] = [c.capitalize() for c in fields.columns]
    return render(request, "studio/editor.html", context, status=422 if problems else 200)


def _located(request, name: str, key: str, parent: str | None):
    """The collection, tenant, working draft, list path and index of an existing item."""
    collection = COLLECTIONS["fields"] if parent is not None else collection_of(name)
    tenant = tenant_of(request)
    work = drafts.working(tenant)
    try:
        path = collection.path(work.document, parent)
    except LookupError as missing:
        raise Http404(str(missing)) from missing
    index = drafts.index_of(drafts.items(work.document, path), key)
    if index is None:
        raise Http404(key)
    return collection, tenant, work, path, index


@require_POST
def item_delete(request, name: str, key: str, parent: str | None = None):
    collection, tenant, work, path, index = _located(request, name, key, parent)
    document = drafts.removed(work.document, path, index)
    if _saved(request, tenant, document, request.POST.get("etag") or None):
        messages.success(request, _("%(key)s was removed from the draft.") % {"key": key})
        left = drafts.problems_of(document, ()).mine
        if left:
            messages.warning(
                request,
                _("The draft now has %(count)d problem(s); the overview lists them.")
                % {"count": len(left)},
            )
    return redirect(list_url(collection, parent))


@require_POST
def item_move(request, name: str, key: str, parent: str | None = None):
    collection, tenant, work, path, index = _located(request, name, key, parent)
    step = -1 if request.POST.get("direction") == "up" else 1
    document = drafts.moved(work.document, path, index, step)
    if document != work.document:
        _saved(request, tenant, document, request.POST.get("etag") or None)
    return redirect(list_url(collection, parent))
