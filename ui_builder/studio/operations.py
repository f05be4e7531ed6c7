"""The studio's operating pages: workflow deliveries that gave up (with retry), "explain
access" for a user and a record, and, for platform staff, the tenants."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from metadata.compiled import active_config
from metadata.packs import available_packs
from records.errors import RecordError
from records.explain import ACTIONS, explain
from tenants.context import tenant_context
from tenants.errors import TenantError
from tenants.models import Membership, Tenant
from tenants.services import create_tenant
from ui_builder.display import label_of
from ui_builder.studio.views import tenant_of
from workflows import services as workflow_services


def dead_letters(request):
    tenant = tenant_of(request)
    return render(
        request,
        "studio/dead_letters.html",
        {"events": workflow_services.dead_letters(tenant, limit=200)},
    )


@require_POST
def retry_dead_letters(request):
    tenant = tenant_of(request)
    chosen = request.POST.getlist("event")
    ids = [int(i) for i in chosen if i.isdigit()] if chosen else None
    if chosen and not ids:
        messages.error(request, _("Choose the deliveries to retry."))
        return redirect("studio_dead_letters")
    count = workflow_services.retry(tenant, ids)
    messages.success(
        request, _("%(count)d delivery(ies) handed to the workers again.") % {"count": count}
    )
    return redirect("studio_dead_letters")


class ExplainForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("User's email"))
    entity = forms.ChoiceField(label=gettext_lazy("Entity"))
    action = forms.ChoiceField(
        label=gettext_lazy("Action"), choices=[(a, a) for a in ACTIONS], initial="read"
    )
    record = forms.IntegerField(label=gettext_lazy("Record id"), required=False, min_value=1)
    field = forms.CharField(label=gettext_lazy("Field key"), required=False)

    def __init__(self, tenant, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        config = active_config(tenant)
        entities = config.entities.values() if config else []
        self.fields["entity"].choices = [
            (e.key, label_of(e.options.get("label"), e.key)) for e in entities
        ]

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        with tenant_context(self.tenant):
            membership = (
                Membership.objects.filter(user__email__iexact=email).select_related("user").first()
            )
        if membership is None:
            raise forms.ValidationError(_("No member of this company has that email."))
        self.user = membership.user
        return email


def explain_access(request):
    tenant = tenant_of(request)
    form = ExplainForm(tenant, request.GET or None)
    explanation = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            explanation = explain(
                tenant,
                form.user,
                data["entity"],
                data["action"],
                data["record"],
                data["field"] or None,
            )
        except RecordError as error:
            form.add_error(None, error.message)
    return render(request, "studio/explain.html", {"form": form, "explanation": explanation})


class TenantForm(forms.Form):
    slug = forms.SlugField(label=gettext_lazy("Slug"))
    name = forms.CharField(max_length=200, label=gettext_lazy("Name"))
    pack = forms.ChoiceField(label=gettext_lazy("Pack"))
    admin_email = forms.EmailField(label=gettext_lazy("Administrator's email"))
    admin_password = forms.CharField(
        widget=forms.PasswordInput, label=gettext_lazy("Administrator's password")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pack"].choices = [(p, p) for p in available_packs()]


def tenants(request):
    """Platform staff only: every tenant, and a new one from a pack."""
    if not request.user.is_staff:
        raise PermissionDenied
    form = TenantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = create_tenant(**form.cleaned_data)
        except TenantError as error:
            field = error.field if error.field in form.fields else None
            form.add_error(field, error.message)
        else:
            messages.success(request, _("The company %(name)s is ready.") % {"name": created.name})
            return redirect("studio_tenants")
    return render(
        request,
        "studio/tenants.html",
        {"form": form, "tenants": Tenant.objects.order_by("name")},
        status=422 if form.errors else 200,
    )
