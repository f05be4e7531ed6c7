"""What a publish would break for integrators: the GraphQL schemas of the active and the new
version compared by graphql-core (``find_breaking_changes``), as items of the impact report.

They inform rather than block (the structural items already ask for ``breaking-api`` and the
other decisions); ``config publish --dry-run`` and the version's stored impact list them.
"""

from __future__ import annotations

from graphql import find_breaking_changes

from api.schema.builder import build_schema
from metadata.compiled import compile_document
from metadata.impact import ImpactItem


def graphql_impact(tenant, old: dict | None, new: dict, diff: dict) -> list[ImpactItem]:
    if old is None:
        return []
    before = build_schema(compile_document(0, old)).graphql_schema
    after = build_schema(compile_document(1, new)).graphql_schema
    return [
        ImpactItem(
            "graphql_breaking",
            change.type.name.lower(),
            change.description,
            "breaking-api",
            blocking=False,
            breaks_api=True,
        )
        for change in find_breaking_changes(before, after)
    ]
