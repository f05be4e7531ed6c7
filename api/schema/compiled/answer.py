"""The compiled path's entry: a request's response body from one SQL statement, or None when
the resolvers must answer it."""

from __future__ import annotations

import structlog
from django.conf import settings
from graphql import get_operation_ast
from graphql.execution.values import get_variable_values

from api.schema.compiled import statements
from api.schema.compiled.documents import CheckedDocument
from api.schema.compiled.planner import Planner
from api.schema.compiled.sql import Unsupported

logger = structlog.get_logger("crm.graphql")


def compiled_body(
    tenant_schema, context, checked: CheckedDocument, variables, operation_name
) -> str | None:
    if not settings.GRAPHQL_COMPILED or checked.document is None or checked.errors:
        return None
    operation = get_operation_ast(checked.document, operation_name)
    if operation is None:
        return None
    schema = tenant_schema.graphql_schema
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list):  # the resolvers' execution reports these errors
        return None
    planner = Planner(schema, tenant_schema.names, context, checked.document, coerced)
    try:
        statement = planner.response(operation)
    except Unsupported as reason:
        logger.debug("graphql.resolvers", reason=str(reason))
        return None
    return statements.run(statement.text, statement.params)
