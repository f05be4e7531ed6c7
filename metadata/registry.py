"""Registries of small classes keyed by a type name (field types, workflow actions, approver
kinds), and the JSON Schema branches that give each type its own options."""

from __future__ import annotations


class Registry:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._types: dict[str, object] = {}

    def register(self, cls):
        if cls.key in self._types:
            raise ValueError(f"{self.kind} {cls.key!r} is registered twice")
        self._types[cls.key] = cls()
        return cls

    def get(self, key: str):
        return self._types[key]

    def __contains__(self, key: object) -> bool:
        return key in self._types

    def keys(self) -> list[str]:
        return list(self._types)

    def items(self):
        return self._types.items()


def type_branches(registry: Registry, options: str, required: str) -> list[dict]:
    """``if type is X then these options (and these required)`` for every registered type;
    ``options`` and ``required`` name the class attributes holding them."""
    branches = []
    for key, item in registry.items():
        then: dict = {"properties": dict(getattr(item, options))}
        if getattr(item, required):
            then["required"] = list(getattr(item, required))
        branches.append(
            {"if": {"properties": {"type": {"const": key}}, "required": ["type"]}, "then": then}
        )
    return branches
