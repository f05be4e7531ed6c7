"""Parsed and validated documents, kept per schema: an integrator sends the same few queries
over and over, and parsing and validating one costs more than running it."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock

from graphql import DocumentNode, GraphQLError, parse, validate

DOCUMENTS_PER_SCHEMA = 256
MAX_QUERY_LENGTH = 100_000  # longer texts are parsed every time, not kept


@dataclass(frozen=True)
class CheckedDocument:
    document: DocumentNode | None  # None: a syntax error
    errors: list[GraphQLError]  # the syntax error, or what validation found


class DocumentCache:
    def __init__(self, size: int = DOCUMENTS_PER_SCHEMA):
        self.size = size
        self.parses = 0
        self._items: OrderedDict[str, CheckedDocument] = OrderedDict()
        self._lock = Lock()

    def get(self, schema, query: str, rules) -> CheckedDocument:
        with self._lock:
            found = self._items.get(query)
            if found is not None:
                self._items.move_to_end(query)
                return found
        checked = self.check(schema, query, rules)
        if len(query) <= MAX_QUERY_LENGTH:
            with self._lock:
                self._items[query] = checked
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return checked

    def check(self, schema, query: str, rules) -> CheckedDocument:
        self.parses += 1
        try:
            document = parse(query)
        except GraphQLError as error:
            return CheckedDocument(None, [error])
        return CheckedDocument(document, validate(schema, document, rules))
