"""Preview the draft as a role would see it, before publishing: the form a user of that role
fills for a new record and the list they see, drawn by the same code as the end-user app from
the draft compiled on the fly. The list shows sample rows made from each field type's sample
values; no record is read or written."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin

from metadata.compiled import compile_document
from metadata.semantics import validate_document
from records.permissions import Permissions
from records.service import RecordService
from ui_builder import editing
from ui_builder.display import label_of, shown
from ui_builder.studio import drafts
from ui_builder.studio.views import tenant_of

DRAFT_VERSION = 0  # never a published number: nothing cached under it is mistaken for one
SAMPLE_ROWS = 3
KINDS = (("form", gettext_lazy("Form")), ("list", gettext_lazy("List")))


class PreviewForm(forms.Form):
    entity = forms.ChoiceField(label=gettext_lazy("Entity"))
    role = forms.ChoiceField(label=gettext_lazy("As the role"))
    kind = forms.ChoiceField(label=gettext_lazy("Page"), choices=KINDS)

    def __init__(self, document: dict, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entity"].choices = [
            (e["key"], label_of(e.get("label"), e["key"])) for e in document.get("entities", [])
        ]
        self.fields["role"].choices = [
            (r["key"], label_of(r.get("label"), r["key"])) for r in document.get("roles", [])
        ]


@dataclass
class ListPreview:
    columns: list[str]
    rows: list[list[str]]


def preview_service(tenant, user, document: dict, role: str) -> RecordService:
    config = compile_document(DRAFT_VERSION, document)
    permissions = Permissions(tenant, user, roles=[role])
    return RecordService(tenant, user, permissions=permissions, config=config)


def sample_value(field, row: int):
    """A stored value of the field's type for sample row ``row`` (None when it has none)."""
    options = field.options
    if options["type"] in ("text", "long_text", "rich_text"):
        return f"{label_of(options.get('label'), field.key)} {row + 1}"
    try:
        return field.type.from_cel(field.type.cel_sample(options, row % 2), options)
    except Exception:  # a type without samples (lookups, computed values): left empty
        return None


def list_preview(service: RecordService, entity_key: str) -> ListPreview:
    config = service.configuration()
    entity = service.entity(entity_key, config)
    roles = service.permissions.principal.roles
    layout = config.layouts.for_roles(entity.key, "list", roles) if config.layouts else None
    hidden = service.permissions.hidden_fields(config, entity)
    keys = layout.spec["columns"] if layout is not None else list(entity.fields)[:5]
    keys = [k for k in keys if k in entity.fields and k not in hidden]
    return ListPreview(
        columns=[label_of(entity.fields[k].options.get("label"), k) for k in keys],
        rows=[
            [shown(entity.fields[k], sample_value(entity.fields[k], row)) for k in keys]
            for row in range(SAMPLE_ROWS)
        ],
    )


def preview(request):
    """The chooser (entity, role, form or list) and the page, framed below it."""
    work = drafts.working(tenant_of(request))
    form = PreviewForm(work.document, request.GET or None)
    problems = [(p.path, p.message) for p in validate_document(work.document)]
    return render(
        request,
        "studio/preview.html",
        {
            "form": form,
            "work": work,
            "problems": problems,
            "ready": form.is_bound and form.is_valid() and not problems,
            "query": request.GET.urlencode(),
        },
    )


@xframe_options_sameorigin
def preview_page(request):
    """The page itself, in the end-user app's look, for the frame."""
    tenant = tenant_of(request)
    work = drafts.working(tenant)
    form = PreviewForm(work.document, request.GET)
    if not form.is_valid() or validate_document(work.document):
        return render(request, "studio/preview_page.html", {"invalid": True}, status=400)
    data = form.cleaned_data
    service = preview_service(tenant, request.user, work.document, data["role"])
    entity = service.entity(data["entity"])
    context = {
        "kind": data["kind"],
        "entity_label": label_of(entity.options.get("label"), entity.key),
        "role": data["role"],
    }
    if data["kind"] == "form":
        context["edit"] = editing.build(service, entity.key)
    else:
        context["listing"] = list_preview(service, entity.key)
    return render(request, "studio/preview_page.html", context)
