"""The navigation every page of the app shows: the entities the user may read, and whether
they have dashboards."""

from records.errors import RecordError


def navigation(request):
    tenant = getattr(request, "tenant", None)
    if tenant is None or not request.user.is_authenticated or request.membership is None:
        return {}
    from records.service import RecordService
    from tenants.context import tenant_context
    from ui_builder.dashboards import dashboards_for
    from ui_builder.pages import navigation as entities
    from workflows.models import Notification

    with tenant_context(tenant, user=request.user):
        unread = Notification.objects.filter(user=request.user, read_at__isnull=True).count()
    try:
        service = RecordService(tenant, request.user)
        return {
            "navigation": entities(service),
            "unread_notifications": unread,
            "has_dashboards": bool(
                dashboards_for(service.configuration(), service.permissions.principal.roles)
            ),
        }
    except RecordError:  # no configuration yet
        return {"navigation": [], "unread_notifications": unread}
