"""Bearer-token authentication for integrators; the token names its tenant."""

from django.http import JsonResponse

from api.errors import ApiError
from api.tokens import authenticate


class ApiTokenMiddleware:
    """Turns ``Authorization: Bearer <slug>.<secret>`` into ``request.user`` and a tenant.

    Sits after Django's authentication and before the tenant middleware, which then takes the
    token's tenant as the request's tenant.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.api_tenant = None
        request.api_token = None
        request.api_membership = None
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return self.get_response(request)
        try:
            auth = authenticate(header.removeprefix("Bearer "))
        except ApiError as error:
            # "extensions.code" as GraphQL clients read it; "code" as the REST endpoints have it.
            return JsonResponse(
                {
                    "errors": [
                        {
                            "code": error.code.value,
                            "message": error.message,
                            "extensions": {"code": error.code.value},
                        }
                    ]
                },
                status=401,
            )
        request.user = auth.user
        request.api_tenant = auth.tenant
        request.api_token = auth.token
        request.api_membership = auth.membership  # read with the token: no second transaction
        # A bearer token is not a cookie a browser sends by itself: no CSRF to guard against.
        request._dont_enforce_csrf_checks = True
        return self.get_response(request)
