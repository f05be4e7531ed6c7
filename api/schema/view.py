"""``/graphql/``: the tenant's schema for the request's user (API token or web session), with
GraphiQL for signed-in users in a browser."""

from __future__ import annotations

import json

import graphene
import psycopg2.extensions
import structlog
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.http import JsonResponse
from graphene.validation import depth_limit_validator
from graphene_django.views import GraphQLView
from graphql import ExecutionResult, GraphQLError, parse, specified_rules

from api.schema.cache import schemas
from api.schema.context import GraphContext
from api.schema.limits import query_cost, rate_exceeded
from metadata.compiled import active_config


class _Empty(graphene.ObjectType):
    ok = graphene.Boolean()


PLACEHOLDER = graphene.Schema(query=_Empty)
logger = structlog.get_logger("crm.graphql")


def transaction_aborted() -> bool:
    raw = connection.connection
    return (
        raw is not None
        and raw.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INERROR
    )


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
        token = getattr(request, "api_token", None)
        if token is not None and rate_exceeded(token.pk):
            return error_response(
                "rate_limited",
                f"More than {settings.GRAPHQL_RATE_PER_MINUTE} requests this minute; slow down.",
                429,
            )
        config = active_config(request.tenant)
        if config is None:
            return error_response(
                "no_configuration", f"{request.tenant.slug} has no published configuration.", 409
            )
        self.schema = schemas.get(request.tenant.pk, config)
        request.crm = GraphContext(request.tenant, request.user, config)
        # The request runs in the tenant's transaction (tenants.middleware): a statement
        # timeout for it, so no query can hold the database.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, true)",
                [f"{settings.GRAPHQL_STATEMENT_TIMEOUT_MS}ms"],
            )
        response = super().dispatch(request, *args, **kwargs)
        if transaction_aborted():
            # A statement failed (a timeout, say): PostgreSQL refuses everything after it, so
            # the request's writes are rolled back and its answer replaced by the error.
            transaction.set_rollback(True)
            codes = {
                (error.get("extensions") or {}).get("code")
                for error in json.loads(response.content or b"{}").get("errors") or []
            }
            code = "timeout" if "timeout" in codes else "internal_error"
            message = (
                "The query took too long and was stopped; nothing was written."
                if code == "timeout"
                else "Internal error; it has been logged. Nothing was written."
            )
            return error_response(code, message, 200 if code == "timeout" else 500)
        return response

    def execute_graphql_request(self, request, data, query, variables, operation_name, *args):
        """Refuse a query whose estimated cost is past the limit before running any of it."""
        if query:
            try:
                document = parse(query)
            except GraphQLError:
                document = None  # graphene-django reports the syntax error itself
            if document is not None:
                cost = query_cost(document, variables, operation_name)
                if cost > settings.GRAPHQL_MAX_COST:
                    return ExecutionResult(
                        data=None,
                        errors=[
                            GraphQLError(
                                f"The query may touch {cost:,} values, more than the limit of "
                                f"{settings.GRAPHQL_MAX_COST:,}; ask for fewer rows or fields.",
                                extensions={"code": "too_costly"},
                            )
                        ],
                    )
        return super().execute_graphql_request(
            request, data, query, variables, operation_name, *args
        )

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
            elif isinstance(getattr(error, "original_error", None), OperationalError) and (
                "statement timeout" in str(error.original_error)
            ):
                extensions["code"] = "timeout"
                formatted["message"] = "The query took too long and was stopped."
            else:
                logger.exception("graphql.internal_error", exc_info=error.original_error)
                extensions["code"] = "internal_error"
                formatted["message"] = "Internal error; it has been logged."
        formatted["extensions"] = extensions
        return formatted


def graphql_view():
    return TenantGraphQLView.as_view(
        schema=PLACEHOLDER,
        # graphene-django replaces GraphQL's standard rules with these: keep them all.
        validation_rules=(
            *specified_rules,
            depth_limit_validator(max_depth=settings.GRAPHQL_MAX_DEPTH),
        ),
    )
