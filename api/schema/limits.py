"""Limits of a GraphQL request beyond depth and time: the estimated number of records a query
may touch (its cost), and requests per minute per API token."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    VariableNode,
)

DEFAULT_FIRST = 50


def _first(node: FieldNode, variables: dict) -> int | None:
    for argument in node.arguments or ():
        if argument.name.value != "first":
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            return given if isinstance(given, int) else DEFAULT_FIRST
    return None


def query_cost(document, variables: dict | None, operation_name: str | None) -> int:
    """Fields weighted by how many times they may resolve: a field under ``first: 100`` inside
    ``first: 50`` counts 5,000 times. Lists without ``first`` count as the default page."""
    variables = variables or {}
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        operations = [o for o in operations if o.name and o.name.value == operation_name]

    def cost(selection_set, multiplier: int, seen: frozenset) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += multiplier
                if selection.selection_set:
                    first = _first(selection, variables)
                    inner = multiplier * (first if first else 1)
                    total += cost(selection.selection_set, inner, seen)
            elif isinstance(selection, InlineFragmentNode):
                total += cost(selection.selection_set, multiplier, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in fragments and name not in seen:
                    total += cost(fragments[name].selection_set, multiplier, seen | {name})
        return total

    return max((cost(o.selection_set, 1, frozenset()) for o in operations), default=0)


def rate_exceeded(token_id: int) -> bool:
    """Count the request in the token's current minute; True past the limit. The count lives
    in Django's cache (shared across processes when CACHE_URL names Redis)."""
    window = int(time.time() // 60)
    key = f"graphql-rate:{token_id}:{window}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    return count > settings.GRAPHQL_RATE_PER_MINUTE
