"""``/graphql/``: the tenant's schema for the request's user (API token or web session), with
GraphiQL for signed-in users in a browser."""

from __future__ import annotations

import json

import graphene
import psycopg2.extensions
import structlog
from django.conf import settings
from django.db import DatabaseError, OperationalError, connection, transaction
from django.http import HttpResponseNotAllowed, JsonResponse
from graphene.validation import depth_limit_validator
from graphene_django.views import GraphQLView, HttpError
from graphql import (
    ExecutionResult,
    GraphQLError,
    OperationType,
    execute,
    get_operation_ast,
    specified_rules,
)

from api.schema.cache import schemas
from api.schema.compiled.answer import compiled_body
from api.schema.compiled.documents import CheckedDocument
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
        request.crm = GraphContext(
            request.tenant,
            request.user,
            config,
            roles=request.membership.roles,
            base_url=request.build_absolute_uri("/").removesuffix("/"),
        )
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
            response = error_response(code, message, 200 if code == "timeout" else 500)
        response["X-GraphQL-Execution"] = getattr(request, "graphql_execution", "resolvers")
        return response

    def get_response(self, request, data, show_graphiql=False):
        """The compiled path first (one SQL statement, api/schema/compiled); the resolvers
        when it cannot answer. ``X-GraphQL-Execution`` tells which did."""
        request.graphql_execution = "resolvers"
        query, variables, operation_name, _ = self.get_graphql_params(request, data)
        if variables is not None and not isinstance(variables, dict):
            body = {
                "message": "variables must be a JSON object.",
                "extensions": {"code": "invalid_query"},
            }
            return json.dumps({"errors": [body]}), 400
        if query and not show_graphiql and not self.batch:
            checked = self.checked(query)
            refusal = self.too_costly(checked, variables, operation_name)
            self.estimated = (checked, refusal)  # execute_graphql_request reuses it
            if refusal is None:
                try:
                    body = compiled_body(
                        self.schema, request.crm, checked, variables, operation_name
                    )
                except DatabaseError as error:
                    # The transaction is aborted: dispatch answers timeout or internal_error.
                    request.graphql_execution = "compiled"
                    timeout = statement_cancelled(error)
                    if not timeout:
                        logger.exception("graphql.compiled_error")
                    code = "timeout" if timeout else "internal_error"
                    return json.dumps({"errors": [{"extensions": {"code": code}}]}), 200
                if body is not None:
                    request.graphql_execution = "compiled"
                    return body, 200
        return super().get_response(request, data, show_graphiql)

    def checked(self, query: str) -> CheckedDocument:
        return self.schema.documents.get(self.schema.graphql_schema, query, self.validation_rules)

    @staticmethod
    def too_costly(checked: CheckedDocument, variables, operation_name) -> ExecutionResult | None:
        """Refuse a query whose estimated cost is past the limit before running any of it."""
        if checked.document is None or checked.errors:
            return None
        cost = query_cost(checked.document, variables, operation_name)
        if cost <= settings.GRAPHQL_MAX_COST:
            return None
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

    def execute_graphql_request(
        self, request, data, query, variables, operation_name, show_graphiql=False
    ):
        """graphene-django's, with the document parsed and validated once per schema."""
        if not query:
            return super().execute_graphql_request(
                request, data, query, variables, operation_name, show_graphiql
            )
        checked = self.checked(query)
        if checked.document is None or checked.errors:
            return ExecutionResult(data=None, errors=checked.errors)
        operation = get_operation_ast(checked.document, operation_name)
        if (
            request.method.lower() == "get"
            and operation is not None
            and operation.operation != OperationType.QUERY
        ):
            if show_graphiql:
                return None
            raise HttpError(
                HttpResponseNotAllowed(
                    ["POST"], f"Can only perform a {operation.operation.value} from a POST."
                )
            )
        estimated = getattr(self, "estimated", None)  # by get_response, one view per request
        if estimated is not None and estimated[0] is checked:
            refused = estimated[1]
        else:
            refused = self.too_costly(checked, variables, operation_name)
        if refused is not None:
            return refused
        try:
            return execute(
                self.schema.graphql_schema,
                checked.document,
                root_value=self.get_root_value(request),
                context_value=self.get_context(request),
                variable_values=variables,
                operation_name=operation_name,
                middleware=self.get_middleware(request),
            )
        except Exception as error:  # noqa: BLE001  (graphene-django reports it the same way)
            return ExecutionResult(errors=[error])

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
            elif isinstance(
                getattr(error, "original_error", None), OperationalError
            ) and statement_cancelled(error.original_error):
                extensions["code"] = "timeout"
                formatted["message"] = "The query took too long and was stopped."
            else:
                logger.exception("graphql.internal_error", exc_info=error.original_error)
                extensions["code"] = "internal_error"
                formatted["message"] = "Internal error; it has been logged."
        formatted["extensions"] = extensions
        return formatted


def statement_cancelled(error: DatabaseError) -> bool:
    """Whether PostgreSQL cancelled the statement (SQLSTATE 57014). The request's own
    ``statement_timeout`` is the only canceller here; PostgreSQL may still word it "due to
    user request" when the timer fires just as a statement ends, so the message is not read."""
    cause = error.__cause__
    return (getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)) == "57014"


def graphql_view():
    return TenantGraphQLView.as_view(
        schema=PLACEHOLDER,
        # graphene-django replaces GraphQL's standard rules with these: keep them all.
        validation_rules=(
            *specified_rules,
            depth_limit_validator(max_depth=settings.GRAPHQL_MAX_DEPTH),
        ),
    )
