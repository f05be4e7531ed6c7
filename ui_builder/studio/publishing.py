"""The studio's pages around publishing: the overview of the draft, the review before a publish
(problems, diff, impact, breaking API changes), the version history with its rollback, and the
schema-evolution jobs a publish started."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from metadata import publish as publishing
from metadata.diff import diff_documents, diff_text
from metadata.errors import ConfigError
from metadata.impact import STRATEGIES
from metadata.semantics import validate_document
from records.models import SchemaJob
from tenants.context import tenant_context
from ui_builder.studio import drafts
from ui_builder.studio.views import tenant_of

STRATEGY_LABELS = {
    "remove-entities": gettext_lazy(
        "Remove the entities the draft no longer has, with their records"
    ),
    "remove-fields": gettext_lazy("Remove the fields the draft no longer has, with their values"),
    "convert-types": gettext_lazy("Convert values to the new field types (what fails is reported)"),
    "breaking-api": gettext_lazy("Accept GraphQL changes that break integrators"),
    "accept-violations": gettext_lazy("Publish although existing records break a new rule"),
}


def overview(request):
    tenant = tenant_of(request)
    work = drafts.working(tenant)
    problems = [(p.path, p.message) for p in validate_document(work.document)]
    counts = {
        name: len(drafts.items(work.document, (name,)))
        for name, collection in drafts.COLLECTIONS.items()
        if collection.parent is None
    }
    return render(
        request,
        "studio/overview.html",
        {"work": work, "problems": problems, "counts": counts, "tenant": tenant},
    )


class PublishForm(forms.Form):
    comment = forms.CharField(max_length=500, required=False, label=gettext_lazy("Comment"))
    strategies = forms.MultipleChoiceField(
        choices=[(s, STRATEGY_LABELS[s]) for s in STRATEGIES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Decisions"),
    )


def review(request):
    """What publishing the draft would do, and the publish itself."""
    tenant = tenant_of(request)
    work = drafts.working(tenant)
    form = PublishForm(request.POST or None)
    refused: ConfigError | None = None
    if request.method == "POST" and form.is_valid():
        try:
            version = publishing.publish(
                tenant,
                user=request.user,
                strategies=form.cleaned_data["strategies"],
                comment=form.cleaned_data["comment"],
            )
        except ConfigError as error:
            refused = error
        else:
            messages.success(
                request, _("Version %(number)d is published.") % {"number": version.number}
            )
            return redirect("studio_version", version.number)
    preview = publishing.preview(tenant, work.document)
    items = preview.report.items
    changes = preview.diff
    if preview.problems:  # no impact for an invalid draft, but its changes still show
        active = publishing.active_version(tenant)
        old = publishing.document_of(active) if active else None
        changes = diff_documents(old, work.document)
    return render(
        request,
        "studio/publish.html",
        {
            "work": work,
            "form": form,
            "problems": [(p.path, p.message) for p in preview.problems],
            "diff": diff_text(changes) if changes else "",
            "breaking": [i for i in items if i.breaks_api],
            "impact": [i for i in items if not i.breaks_api],
            "refused": refused,
            "strategy_labels": STRATEGY_LABELS,
        },
        status=422 if refused else 200,
    )


def versions(request):
    tenant = tenant_of(request)
    with tenant_context(tenant):
        found = list(
            publishing.ConfigVersion.objects.select_related("published_by").order_by("-number")
        )
    active = found[0].number if found else None
    return render(request, "studio/versions.html", {"versions": found, "active": active})


def version(request, number: int):
    tenant = tenant_of(request)
    try:
        shown = publishing.get_version(tenant, number)
    except ConfigError as error:
        raise Http404(error.message) from error
    previous = None
    if shown.based_on:
        previous = publishing.get_version(tenant, shown.based_on)
    active = publishing.active_version(tenant)
    against_active = (
        diff_text(diff_documents(publishing.document_of(active), publishing.document_of(shown)))
        if active and active.number != number
        else ""
    )
    with tenant_context(tenant):
        jobs = list(SchemaJob.objects.filter(config_version=number).order_by("id"))
    return render(
        request,
        "studio/version.html",
        {
            "version": shown,
            "previous": previous,
            "diff": diff_text(shown.diff) if shown.diff else "",
            "against_active": against_active,
            "is_active": active is not None and active.number == number,
            "jobs": jobs,
            "form": PublishForm(),
        },
    )


@require_POST
def rollback(request, number: int):
    tenant = tenant_of(request)
    strategies = [s for s in request.POST.getlist("strategies") if s in STRATEGIES]
    try:
        created = publishing.rollback(tenant, number, user=request.user, strategies=strategies)
    except ConfigError as error:
        messages.error(request, error.message)
        for item in error.report or []:
            messages.error(request, f"{item.path}: {item.message}")
        for problem in error.problems:
            messages.error(request, f"{problem.path}: {problem.message}")
        return redirect("studio_version", number)
    messages.success(
        request,
        _("Version %(number)d is published with the content of version %(old)d.")
        % {"number": created.number, "old": number},
    )
    return redirect("studio_version", created.number)


def jobs(request):
    tenant = tenant_of(request)
    with tenant_context(tenant):
        found = list(SchemaJob.objects.order_by("-id")[:100])
    return render(request, "studio/jobs.html", {"jobs": found})
