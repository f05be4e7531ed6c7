"""The action registry. An action type owns the JSON Schema of its parameters (merged into the
configuration's schema), its meaning checks at publish and what it does when a workflow runs.

Actions run in a worker, inside the transaction that records they ran (workflows/delivery.py):
what they write through the records service commits with that record, or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from metadata.fieldtypes.base import Problem
from metadata.registry import Registry


class ActionError(Exception):
    """An action that cannot be carried out (a dead letter after the retries); ``retry`` says
    whether trying again may help (a webhook's server down) or not (a deleted record)."""

    def __init__(self, message: str, *, retry: bool = False):
        super().__init__(message)
        self.message = message
        self.retry = retry


@dataclass
class ActionContext:
    """What an action sees: the tenant, the configuration, the record the event is about (its
    values when the event happened, and its id), and a key unique to this action of this
    event (idempotency key for external systems)."""

    tenant: Any
    config: Any
    entity: Any
    record_id: int
    record: dict  # the values the event carries (after the change; before it for a delete)
    system: dict  # id, owner, created_by…
    event_id: int
    kind: str  # the event: created, updated, deleted, restored, transition, started
    workflow: str  # the key of the workflow running the action
    idempotency_key: str
    depth: int  # how many workflow steps led here (loops stop at workflows.delivery.MAX_DEPTH)
    results: dict = field(default_factory=dict)


class Action:
    key: ClassVar[str]
    description: ClassVar[str]
    params_schema: ClassVar[dict] = {}
    required_params: ClassVar[tuple[str, ...]] = ()

    def check(self, spec: dict, path: str, ctx, entity: dict) -> Iterator[Problem]:
        """Meaning checks at publish (fields exist, expressions compile…)."""
        return iter(())

    def run(self, spec: dict, context: ActionContext) -> dict:
        """Do it; return what to keep in the action's run record."""
        raise NotImplementedError

    def describe(self, spec: dict, context: ActionContext) -> str:
        """What it would do, in one line (simulation)."""
        return f"{self.key}"


actions = Registry("action")
register = actions.register
