from django.http import JsonResponse


def whoami(request):
    """Who a token (or session) acts as, in which tenant: integrators check their set-up here."""
    if not request.user.is_authenticated or request.tenant is None:
        return JsonResponse(
            {
                "errors": [
                    {"code": "not_authenticated", "message": "Send Authorization: Bearer <token>."}
                ]
            },
            status=401,
        )
    return JsonResponse(
        {
            "tenant": request.tenant.slug,
            "user": request.user.email,
            "roles": request.membership.roles,
        }
    )
