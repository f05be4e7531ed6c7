"""The roles matrix: what every role may do on every entity at a glance, and one role's row
of grants edited with check boxes and scope drop-downs instead of JSON."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from metadata.errors import ConfigError
from metadata.schema_builder import SCOPES
from ui_builder.display import label_of
from ui_builder.studio import drafts
from ui_builder.studio.views import tenant_of

ACTIONS = ("read", "update", "delete")
EVERY = "*"  # the grant for entities a role does not name


def grant_of(role: dict, entity_key: str) -> dict:
    entities = role.get("entities", {})
    return entities.get(entity_key) or entities.get(EVERY) or {}


def summary(grant: dict) -> str:
    if not grant:
        return "—"
    parts = [_("create") if grant.get("create") else ""]
    parts += [f"{action[0].upper()}:{grant[action]}" for action in ACTIONS if grant.get(action)]
    return " ".join(p for p in parts if p)


def posted_grant(post, entity_key: str) -> dict | None:
    """The grant the form posted for one entity; None when it names nothing (inherits "*")."""
    grant: dict = {}
    if post.get(f"{entity_key}.create"):
        grant["create"] = True
    for action in ACTIONS:
        scope = post.get(f"{entity_key}.{action}", "")
        if scope:
            if scope not in SCOPES:
                raise ValueError(scope)
            grant[action] = scope
    return grant or None


def roles_matrix(request):
    tenant = tenant_of(request)
    work = drafts.working(tenant)
    roles = work.document.get("roles", [])
    entities = work.document.get("entities", [])
    chosen_key = request.GET.get("role") or request.POST.get("role")
    index = drafts.index_of(roles, chosen_key) if chosen_key else None
    if chosen_key and index is None:
        raise Http404(chosen_key)
    rows_keys = [EVERY] + [e["key"] for e in entities]
    if request.method == "POST" and index is not None:
        role = dict(roles[index])
        named = dict(role.get("entities", {}))
        try:
            for key in rows_keys:
                grant = posted_grant(request.POST, key)
                if grant is None:
                    named.pop(key, None)
                else:
                    # field-level access set in the role editor stays as it was
                    fields = named.get(key, {}).get("fields")
                    named[key] = {**grant, **({"fields": fields} if fields else {})}
        except ValueError as bad:
            messages.error(request, _("Unknown scope %(scope)s.") % {"scope": bad})
            return redirect(f"{request.path}?role={chosen_key}")
        role["entities"] = named
        document, _position = drafts.replaced(work.document, ("roles",), index, role)
        problems = drafts.problems_of(document, ("roles", index)).mine
        if problems:
            for path, message in problems:
                messages.error(request, f"{'.'.join(map(str, path))}: {message}")
        else:
            try:
                drafts.save(tenant, request.user, document, request.POST.get("etag") or None)
            except ConfigError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("Saved to the draft."))
        return redirect(f"{request.path}?role={chosen_key}")
    labels = {EVERY: _("Every other entity")} | {
        e["key"]: label_of(e.get("label"), e["key"]) for e in entities
    }
    matrix = [
        {
            "key": key,
            "label": labels[key],
            "cells": [summary((r.get("entities") or {}).get(key, {})) for r in roles],
        }
        for key in rows_keys
    ]
    editing = None
    if index is not None:
        named = roles[index].get("entities", {})
        editing = {
            "role": roles[index],
            "label": label_of(roles[index].get("label"), chosen_key),
            "rows": [
                {
                    "key": key,
                    "label": labels[key],
                    "create": bool(named.get(key, {}).get("create")),
                    "scopes": [(action, named.get(key, {}).get(action, "")) for action in ACTIONS],
                }
                for key in rows_keys
            ],
        }
    return render(
        request,
        "studio/roles_matrix.html",
        {
            "work": work,
            "roles": [(r["key"], label_of(r.get("label"), r["key"])) for r in roles],
            "matrix": matrix,
            "editing": editing,
            "scopes": SCOPES,
            "actions": ACTIONS,
        },
    )
