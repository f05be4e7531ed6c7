from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.http import require_POST

from records import files
from records.errors import RecordError, RecordErrorCode
from records.permissions import Permissions
from records.service import RecordService

MB = 1024 * 1024
# What a multipart body holds besides the file (boundaries, headers, entity and field).
ENVELOPE = 64 * 1024
STATUS = {
    RecordErrorCode.PERMISSION_DENIED: 403,
    RecordErrorCode.UNKNOWN_ENTITY: 404,
    RecordErrorCode.NO_CONFIGURATION: 409,
}


def errors(status: int, *items: dict) -> JsonResponse:
    return JsonResponse({"errors": list(items)}, status=status)


def not_authenticated() -> JsonResponse:
    return errors(
        401, {"code": "not_authenticated", "message": "Send Authorization: Bearer <token>."}
    )


def whoami(request):
    """Who a token (or session) acts as, in which tenant: integrators check their set-up here."""
    if not request.user.is_authenticated or request.tenant is None:
        return not_authenticated()
    return JsonResponse(
        {
            "tenant": request.tenant.slug,
            "user": request.user.email,
            "roles": request.membership.roles,
        }
    )


@require_POST
def upload_file(request):
    """``POST /api/files/`` (multipart: ``entity``, ``field``, ``file``): keep a file for a
    file field through the records service and answer its upload id, which a create or update
    mutation's input then names (docs/graphql.md#files). Refused, with nothing kept, when the
    field does not take the file."""
    if not request.user.is_authenticated or request.tenant is None:
        return not_authenticated()
    limit = settings.FILE_MAX_SIZE_MB * MB
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit + ENVELOPE:  # before reading it
        return errors(
            413,
            {
                "code": "file_too_large",
                "field": None,
                "message": f"Files are at most {settings.FILE_MAX_SIZE_MB:g} MB.",
            },
        )
    upload = request.FILES.get("file")
    if upload is None:
        return errors(
            400,
            {
                "code": "no_file",
                "field": "file",
                "message": "Send the file as multipart/form-data, named file.",
            },
        )
    service = RecordService(
        request.tenant,
        request.user,
        permissions=Permissions(request.tenant, request.user, roles=request.membership.roles),
    )
    try:
        value = service.store_file(request.POST.get("entity"), request.POST.get("field"), upload)
    except RecordError as error:
        problems = [problem.as_dict() for problem in error.errors]
        return errors(
            STATUS.get(error.code, 400),
            *(problems or [{"code": str(error.code), "field": None, "message": error.message}]),
        )
    return JsonResponse(
        {
            "upload": files.upload_id(request.tenant.pk, value),
            "name": value["name"],
            "size": value["size"],
            "contentType": value["content_type"],
        },
        status=201,
    )
