"""The end-user pages drawn from the tenant's layouts (ui_builder/pages.py decides what they
show; these only render it)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from records.errors import RecordError, RecordErrorCode
from records.service import RecordService
from tenants.views import tenant_required
from ui_builder import bulk_actions, dashboards, editing, files, pages, related, saved_views
from ui_builder.display import label_of
from ui_builder.downloads import csv_download
from ui_builder.listing import ListState


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


def list_state(request, entity: str) -> tuple[ListState, object]:
    """The list's state from the query string, or from the saved view it names."""
    view_id = request.GET.get("view")
    if not view_id:
        return ListState.from_query(request.GET), None
    try:
        view = saved_views.get(request.tenant, request.user, entity, view_id)
    except saved_views.SavedViewError as error:
        raise Http404(error.message) from error
    return ListState.from_saved(view.state), view


@tenant_required
def record_list(request, entity: str):
    service = service_for(request)
    state, current_view = list_state(request, entity)
    after = request.GET.get("after") or None
    try:
        page = pages.list_page(service, entity, state=state, after=after)
    except RecordError as error:
        if error.code != RecordErrorCode.INVALID_QUERY:
            refused(error)
        try:  # a tampered cursor: from the start
            page = pages.list_page(service, entity, state=state)
        except RecordError as again:
            if again.code != RecordErrorCode.INVALID_QUERY:
                refused(again)
            page = pages.list_page(service, entity)  # conditions the service refused: none
            page.state = state
            state.problems.append(again.message)
    return render(
        request,
        "ui_builder/list.html",
        {
            "page": page,
            "saved_views": saved_views.visible(request.tenant, request.user, entity),
            "current_view": current_view,
            "teams": saved_views.teams_of(request.tenant, request.user),
        },
    )


@tenant_required
@require_POST
def save_list_view(request, entity: str):
    try:
        service_for(request).entity(entity)
    except RecordError as error:
        refused(error)
    state = ListState.from_query(QueryDict(request.POST.get("query", "")))
    try:
        view = saved_views.save(
            request.tenant,
            request.user,
            entity,
            request.POST.get("name", ""),
            state,
            request.POST.get("team") or None,
        )
    except saved_views.SavedViewError as error:
        messages.error(request, error.message)
        return redirect(f"{reverse('records:list', args=[entity])}?{state.query()}")
    messages.success(request, _("The view “%(name)s” is saved.") % {"name": view.name})
    return redirect(f"{reverse('records:list', args=[entity])}?view={view.pk}")


@tenant_required
@require_POST
def delete_list_view(request, entity: str, view_id: int):
    try:
        saved_views.delete(request.tenant, request.user, entity, view_id)
    except saved_views.SavedViewError as error:
        messages.error(request, error.message)
    return redirect("records:list", entity)


@tenant_required
@require_POST
def bulk_action(request, entity: str):
    """A bulk action on the records chosen in the list; back to the list with the outcome."""
    back = f"{reverse('records:list', args=[entity])}?{request.POST.get('query', '')}"
    ids = [int(i) for i in request.POST.getlist("record") if i.isdigit()]
    try:
        if request.POST.get("every"):  # every record of the list, not only those ticked
            state = ListState.from_query(QueryDict(request.POST.get("query", "")))
            ids = pages.matching_ids(service_for(request), entity, state, bulk_actions.MAX_RECORDS)
        outcome = bulk_actions.run(
            service_for(request), entity, request.POST.get("action", ""), ids, request.POST
        )
    except RecordError as error:
        if error.code in (RecordErrorCode.UNKNOWN_ENTITY,):
            refused(error)
        messages.error(request, error.message)
        return redirect(back)
    if outcome.done:
        messages.success(
            request,
            ngettext("%(n)d record done.", "%(n)d records done.", len(outcome.done))
            % {"n": len(outcome.done)},
        )
    skipped: dict[str, int] = {}  # reason -> how many
    for _record_id, reason in outcome.skipped:
        skipped[reason] = skipped.get(reason, 0) + 1
    for reason, count in skipped.items():
        messages.warning(
            request,
            ngettext(
                "%(n)d record skipped: %(reason)s.", "%(n)d records skipped: %(reason)s.", count
            )
            % {"n": count, "reason": reason},
        )
    for record_id, message in outcome.refused:
        messages.error(
            request, _("Record %(id)d: %(message)s") % {"id": record_id, "message": message}
        )
    return redirect(back)


@tenant_required
def record_lookup(request, entity: str):
    """A lookup's type-ahead: matching records as JSON."""
    try:
        found = pages.lookup_matches(service_for(request), entity, request.GET.get("q", "").strip())
    except RecordError as error:
        refused(error)
    return JsonResponse({"results": [{"id": i, "title": title} for i, title in found]})


@tenant_required
def record_detail(request, entity: str, record_id: int):
    try:
        page = pages.record_page(service_for(request), entity, record_id)
    except RecordError as error:
        refused(error)
    return render(request, "ui_builder/record.html", {"page": page})


@tenant_required
@require_POST
def related_save(request, entity: str, record_id: int, key: str):
    """The inline edit of a related list (line items): saved together, or the page again with
    the problems at their lines and nothing saved."""
    service = service_for(request)
    try:
        config = service.configuration()
        service.get(service.entity(entity, config).key, record_id)  # out of scope: missing
        spec = related.spec_for(service, config, entity, key)
        if spec is None:
            raise Http404(key)
        problems = related.save_related(service, config, record_id, key, spec, request.POST)
    except RecordError as error:
        refused(error)
    if problems:
        page = pages.record_page(
            service, entity, record_id, posted=request.POST, related_errors={key: problems}
        )
        return render(request, "ui_builder/record.html", {"page": page}, status=400)
    messages.success(request, _("Saved."))
    return redirect("records:detail", entity, record_id)


def _save(request, service, entity: str, record_id: int | None):
    """Create or update from the posted form; (the saved record's id, or the form with the
    refusal at its fields)."""
    config_entity = service.entity(entity, service.configuration())
    posted_values = editing.values_from(config_entity, request.POST)
    if record_id is not None:  # only what the user changed is written
        shown = service.get(entity, record_id).values
        for key in editing.unchanged(config_entity, shown, request.POST):
            posted_values.pop(key, None)
    uploads = files.FormUploads(service, config_entity, request.FILES)
    try:
        posted_values.update(uploads.values())  # kept first: a refused file saves nothing
        if record_id is None:
            view = service.create(entity, posted_values)
        else:
            version = request.POST.get("version")
            view = service.update(
                entity,
                record_id,
                posted_values,
                version=int(version) if version and version.isdigit() else None,
            )
        return view.id, None
    except RecordError as error:
        if error.code not in (
            RecordErrorCode.INVALID,
            RecordErrorCode.VERSION_CONFLICT,
            RecordErrorCode.RECORD_LOCKED,
        ):
            raise
        edit = editing.build(service, entity, record_id, posted=uploads.pending(request.POST))
        editing.place_errors(service, edit, error, {k: request.POST.get(k) for k in posted_values})
        return None, edit


def record_form(request, entity: str, record_id: int | None):
    """A create (no ``record_id``) or edit form: shown, or saved and then the record shown."""
    service = service_for(request)
    try:
        if request.method == "POST":
            saved, edit = _save(request, service, entity, record_id)
            if saved is not None:
                return redirect("records:detail", entity, saved)
            return render(request, "ui_builder/edit.html", {"edit": edit}, status=400)
        # a new record may start from values in the address (a related list's "add": the
        # parent already chosen)
        prefilled = request.GET if record_id is None and request.GET else None
        edit = editing.build(service, entity, record_id, posted=prefilled)
    except RecordError as error:
        refused(error)
    return render(request, "ui_builder/edit.html", {"edit": edit})


@tenant_required
def record_new(request, entity: str):
    return record_form(request, entity, None)


@tenant_required
def record_edit(request, entity: str, record_id: int):
    return record_form(request, entity, record_id)


@tenant_required
@require_POST
def form_preview(request, entity: str, record_id: int | None = None):
    """The form's sections again for the values being typed (conditions follow them), saving
    nothing: the page swaps them in as the user types."""
    try:
        edit = editing.build(service_for(request), entity, record_id, posted=request.POST)
    except RecordError as error:
        refused(error)
    return render(request, "ui_builder/_sections.html", {"edit": edit})


ACTIONS = ("submit", "approve", "reject", "recall")


@tenant_required
@require_POST
def approval_action(request, entity: str, record_id: int):
    """The record page's approval panel: submit, approve, reject or recall, with a comment."""
    from django.contrib import messages
    from django.utils.translation import gettext as _

    from workflows import approvals

    service = service_for(request)
    action = request.POST.get("action")
    comment = request.POST.get("comment", "").strip()
    request_id = request.POST.get("request", "")
    try:
        if action == "submit":
            approvals.submit(service, entity, record_id, request.POST.get("process", ""), comment)
            messages.success(request, _("Submitted for approval."))
        elif action in ("approve", "reject") and request_id.isdigit():
            approvals.decide(service, int(request_id), action, comment)
            messages.success(request, _("Your decision is recorded."))
        elif action == "recall" and request_id.isdigit():
            approvals.recall(service, int(request_id), comment)
            messages.success(request, _("The approval request is recalled."))
        else:
            messages.error(request, _("Unknown approval action."))
    except RecordError as error:
        if error.code in (RecordErrorCode.NOT_FOUND, RecordErrorCode.UNKNOWN_ENTITY):
            refused(error)
        messages.error(request, error.message)
    return redirect("records:detail", entity, record_id)


@tenant_required
def approval_inbox(request):
    from workflows import approvals

    tasks = approvals.inbox(service_for(request))
    return render(request, "ui_builder/inbox.html", {"tasks": tasks})


@tenant_required
def record_board(request, entity: str):
    try:
        board = pages.board_page(service_for(request), entity)
    except RecordError as error:
        refused(error)
    return render(request, "ui_builder/board.html", {"board": board})


@tenant_required
@require_POST
def board_move(request, entity: str, record_id: int):
    """A card moved to another column: the records service changes the field (state machines
    and rules apply); a refusal is said in words and nothing moves."""
    from django.contrib import messages

    service = service_for(request)
    try:
        board = pages.board_page(service, entity)
        service.update(entity, record_id, {board.field: request.POST.get("to", "")})
    except RecordError as error:
        if error.code in (RecordErrorCode.NOT_FOUND, RecordErrorCode.UNKNOWN_ENTITY):
            refused(error)
        problems = "; ".join(e.message for e in error.errors) or error.message
        messages.error(request, problems)
    return redirect("records:board", entity)


@tenant_required
def record_calendar(request, entity: str):
    try:
        calendar = pages.calendar_page(service_for(request), entity, request.GET.get("month"))
    except RecordError as error:
        refused(error)
    return render(request, "ui_builder/calendar.html", {"calendar": calendar})


@tenant_required
def record_export(request, entity: str):
    """The list as CSV (the list layout's columns, every page, the user's scope), for users
    whose roles grant ``export``."""
    service = service_for(request)
    try:
        rows = pages.export_rows(service, entity, state=list_state(request, entity)[0])
    except RecordError as error:
        refused(error)
    return csv_download(rows, entity)


@tenant_required
def notifications(request):
    """The user's in-app notifications, newest first; opening the page marks them read."""
    from workflows import services as flows

    found = flows.notifications(request.tenant, request.user, limit=100)
    flows.mark_read(request.tenant, request.user, None)
    return render(request, "ui_builder/notifications.html", {"notifications": found})


@tenant_required
def dashboard_page(request, key: str | None = None):
    try:
        mine, current, widgets = dashboards.dashboard(service_for(request), key)
    except RecordError as error:
        refused(error)
    return render(
        request,
        "ui_builder/dashboard.html",
        {
            "dashboards": [(d["key"], label_of(d.get("label"), d["key"])) for d in mine],
            "current": current,
            "current_label": label_of(current.get("label"), current["key"]) if current else "",
            "widgets": widgets,
        },
    )


@tenant_required
def report_page(request, key: str):
    service = service_for(request)
    try:
        shown_widget = dashboards.widget(service, dashboards.report_spec(service, key), 4)
    except RecordError as error:
        refused(error)
    return render(request, "ui_builder/report.html", {"widget": shown_widget})


@tenant_required
def report_export(request, key: str):
    try:
        rows = dashboards.export_rows(service_for(request), key)
    except RecordError as error:
        refused(error)
    return csv_download(rows, key)
