"""Schemas cached per (tenant, configuration version), a bounded LRU across tenants: a schema
is built once per version and process, and a publish is seen on the next request."""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock

import graphene

from api.schema.builder import build_schema
from metadata.compiled import CompiledConfig

CACHE_SIZE = 64


class SchemaCache:
    def __init__(self, size: int = CACHE_SIZE):
        self.size = size
        self.builds = 0
        self._items: OrderedDict[tuple[int, int], graphene.Schema] = OrderedDict()
        self._lock = Lock()

    def get(self, tenant_id: int, config: CompiledConfig) -> graphene.Schema:
        key = (tenant_id, config.version)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        schema = build_schema(config)
        with self._lock:
            self.builds += 1
            self._items[key] = schema
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return schema


schemas = SchemaCache()
