"""The end-user pages drawn from the tenant's layouts (ui_builder/pages.py decides what they
show; these only render it)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from records.errors import RecordError, RecordErrorCode
from records.service import RecordService
from tenants.views import tenant_required
from ui_builder import pages


def service_for(request) -> RecordService:
    return RecordService(request.tenant, request.user)


def refused(error: RecordError):
    """A record or entity the user may not read looks exactly like a missing one."""
    if error.code in (
        RecordErrorCode.NOT_FOUND,
        RecordErrorCode.UNKNOWN_ENTITY,
        RecordErrorCode.PERMISSION_DENIED,
    ):
        raise Http404(error.message) from error
    raise error


@tenant_required
def record_list(request, entity: str):
    try:
        page = pages.list_page(
            service_for(request),
            entity,
            search=request.GET.get("q", "").strip(),
            after=request.GET.get("after") or None,
        )
    except RecordError as error:
        if error.code == RecordErrorCode.INVALID_QUERY:  # a tampered cursor: start again
            page = pages.list_page(service_for(request), entity)
        else:
            refused(error)
    return render(request, "ui_builder/list.html", {"page": page})


@tenant_required
def record_detail(request, entity: str, record_id: int):
    try:
        page = pages.record_page(service_for(request), entity, record_id)
    except RecordError as error:
        refused(error)
    return render(request, "ui_builder/record.html", {"page": page})
