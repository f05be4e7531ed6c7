"""The navigation every page of the app shows: the entities the user may read."""

from records.errors import RecordError


def navigation(request):
    tenant = getattr(request, "tenant", None)
    if tenant is None or not request.user.is_authenticated or request.membership is None:
        return {}
    from records.service import RecordService
    from ui_builder.pages import navigation as entities

    try:
        return {"navigation": entities(RecordService(tenant, request.user))}
    except RecordError:  # no configuration yet
        return {"navigation": []}
