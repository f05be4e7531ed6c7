"""The GraphQL-over-HTTP benchmark sends the same query text to the platform's schema and to
the hand-written one (bench/handwritten_api.py): both must accept it. No database, no server."""

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from graphql import parse, validate

from api.schema.builder import build_schema
from bench import graphql_http
from bench.baseline import BenchOpportunity
from bench.handwritten_api import decode_cursor, encode_cursor, order_keys, schema
from metadata.compiled import compile_document
from metadata.packs import load_pack


@pytest.mark.parametrize("query", [graphql_http.LIST_QUERY, graphql_http.CREATE_MUTATION])
def test_the_benchmark_queries_validate_against_both_schemas(query):
    platform = build_schema(compile_document(1, load_pack("crm")))

    document = parse(query)

    assert validate(platform.graphql_schema, document) == []
    assert validate(schema.graphql_schema, document) == []


def test_a_hand_written_cursor_decodes_to_the_values_of_its_row():
    keys = order_keys([{"field": "close_date", "direction": "desc"}])
    row = BenchOpportunity(id=7, close_date=dt.date(2024, 3, 1), amount=Decimal("10.00"))

    cursor = encode_cursor(row, keys)

    assert keys == [("close_date", True), ("id", True)]
    assert decode_cursor(cursor, keys) == [dt.date(2024, 3, 1), 7]


def test_a_platform_answer_without_the_execution_header_counts_as_resolvers():
    assert graphql_http.execution_path(Counter({None: 3})) == "resolvers"
    assert graphql_http.execution_path(Counter({"compiled": 2})) == "compiled"
