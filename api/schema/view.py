"""``/graphql/``: the tenant's schema for the request's user (API token or web session), with
GraphiQL for signed-in users in a browser."""

from __future__ import annotations

import graphene
import structlog
from django.http import JsonResponse
from graphene_django.views import GraphQLView
from graphql import GraphQLError

from api.schema.cache import schemas
from api.schema.context import GraphContext
from metadata.compiled import active_config


class _Empty(graphene.ObjectType):
    ok = graphene.Boolean()


PLACEHOLDER = graphene.Schema(query=_Empty)
logger = structlog.get_logger("crm.graphql")


def error_response(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status=status
    )


class TenantGraphQLView(GraphQLView):
    graphiql = True

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated or getattr(request, "tenant", None) is None:
            return error_response(
                "not_authenticated", "Send Authorization: Bearer <token> or sign in.", 401
            )
        if getattr(request, "membership", None) is None:
            return error_response("not_a_member", "You are not a member of this tenant.", 403)
        config = active_config(request.tenant)
        if config is None:
            return error_response(
                "no_configuration", f"{request.tenant.slug} has no published configuration.", 409
            )
        self.schema = schemas.get(request.tenant.pk, config)
        request.crm = GraphContext(request.tenant, request.user, config)
        return super().dispatch(request, *args, **kwargs)

    @staticmethod
    def format_error(error):
        """Every error carries a stable ``extensions.code``: the records service's own, or
        ``invalid_query`` for what parsing and validation refuse; anything else is a fault of
        ours (``internal_error``), logged, with no details."""
        formatted = GraphQLView.format_error(error)
        extensions = dict(formatted.get("extensions") or {})
        if "code" not in extensions:
            if isinstance(error, GraphQLError) and error.path is None:
                extensions["code"] = "invalid_query"
            elif isinstance(error, GraphQLError) and error.original_error is None:
                extensions["code"] = "invalid_query"  # raised on purpose, e.g. a bad id
            else:
                logger.exception("graphql.internal_error", exc_info=error.original_error)
                extensions["code"] = "internal_error"
                formatted["message"] = "Internal error; it has been logged."
        formatted["extensions"] = extensions
        return formatted


def graphql_view():
    return TenantGraphQLView.as_view(schema=PLACEHOLDER)
