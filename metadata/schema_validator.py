"""The compiled validator of the configuration JSON Schema, built once per registry state.

The schema gives every field type, workflow action, approver kind and layout kind its own
options as ``allOf`` branches of ``if type is X then …``, closed by ``unevaluatedProperties``.
Evaluated literally, every item tries every branch's ``if``; ``unevaluatedProperties`` tries them
all once more and validates the matching ``then`` again, and again for each object around it
(an action inside a workflow: four times). That was most of the time of a large document.

:class:`ConfigValidator` keeps the literal results and skips the work that cannot change them:

- a branch whose ``if`` is a plain discriminator (``{"properties": {P: {"const": C}},
  "required": [P]}``, no ``else``) that the object does not match gives no error and evaluates
  no property, so neither ``allOf`` nor ``unevaluatedProperties`` looks at it;
- within :func:`config_errors`, whether an object satisfied a branch is remembered from
  ``allOf`` for the ``unevaluatedProperties`` that follows it instead of being validated again.

Errors, their order, messages and paths are those of ``Draft202012Validator``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

import jsonschema
from jsonschema._utils import equal, extras_msg, find_evaluated_property_keys_by_schema

from metadata.schema_builder import build_schema, schema_sources

# (id(object), id(branch)) -> (the object, whether it failed the branch), during one validation.
_verdicts: ContextVar[dict | None] = ContextVar("config_schema_verdicts", default=None)


def _discriminator(branch: Any) -> tuple[str, Any] | None:
    """``(P, C)`` when ``branch`` is ``{"if": {"properties": {P: {"const": C}}, "required":
    [P]}}`` with at most a ``then`` beside it."""
    if not isinstance(branch, dict) or "if" not in branch or not branch.keys() <= {"if", "then"}:
        return None
    condition = branch["if"]
    if not isinstance(condition, dict) or condition.keys() != {"properties", "required"}:
        return None
    properties = condition["properties"]
    if not isinstance(properties, dict) or len(properties) != 1:
        return None
    [(name, value_schema)] = properties.items()
    if condition["required"] != [name] or not isinstance(value_schema, dict):
        return None
    if value_schema.keys() != {"const"}:
        return None
    return name, value_schema["const"]


# id(an allOf list) -> (the list, the discriminator of each branch); emptied with the schema.
_discriminators: dict[int, tuple[list, list]] = {}


def _branches(validator, branches: list, instance: Any) -> Iterator[tuple[int, Any, bool]]:
    """``(index, branch, matched)`` for each branch that can apply to ``instance``: ``matched``
    when its ``if`` is a discriminator that ``instance`` is known to satisfy."""
    cached = _discriminators.get(id(branches))
    if cached is None or cached[0] is not branches:
        cached = _discriminators[id(branches)] = (branches, [_discriminator(b) for b in branches])
    is_object = validator.is_type(instance, "object")
    for index, (branch, discriminator) in enumerate(zip(branches, cached[1], strict=True)):
        if discriminator is None or not is_object:
            yield index, branch, False  # `properties` and `required` hold for a non-object
            continue
        name, value = discriminator
        if name in instance and equal(instance[name], value):
            yield index, branch, True


def all_of(validator, branches, instance, schema) -> Iterator[jsonschema.ValidationError]:
    verdicts = _verdicts.get()
    for index, branch, matched in _branches(validator, branches, instance):
        if matched:  # the errors of `if`, which holds: those of `then`
            errors = validator.descend(instance, branch.get("then", True), schema_path="then")
        else:
            errors = validator.descend(instance, branch)
        failed = False
        for error in errors:
            error.schema_path.appendleft(index)
            if verdicts is not None and not failed:
                verdicts[id(instance), id(branch)] = (instance, True)
            failed = True
            yield error
        if verdicts is not None and not failed:
            verdicts[id(instance), id(branch)] = (instance, False)


def _evaluated_keys(validator, instance, schema) -> list:
    """jsonschema's ``find_evaluated_property_keys_by_schema`` without the branches that cannot
    apply, and without validating again a branch whose verdict ``allOf`` left."""
    branches = schema.get("allOf")
    if not isinstance(branches, list):
        return find_evaluated_property_keys_by_schema(validator, instance, schema)
    verdicts = _verdicts.get() or {}
    unknown, passed = [], []
    for _, branch, _ in _branches(validator, branches, instance):
        verdict = verdicts.get((id(instance), id(branch)))
        if verdict is None:
            unknown.append(branch)
        elif not verdict[1]:
            passed.append(branch)
    keys = find_evaluated_property_keys_by_schema(validator, instance, {**schema, "allOf": unknown})
    for branch in passed:
        keys += find_evaluated_property_keys_by_schema(validator, instance, branch)
    return keys


def unevaluated_properties(validator, unevaluated, instance, schema):
    """jsonschema's ``unevaluatedProperties`` (4.26) over :func:`_evaluated_keys`."""
    if not validator.is_type(instance, "object"):
        return
    evaluated_keys = _evaluated_keys(validator, instance, schema)
    unevaluated_keys = []
    for name in instance:
        if name not in evaluated_keys:
            for _ in validator.descend(instance[name], unevaluated, path=name, schema_path=name):
                unevaluated_keys.append(name)
    if unevaluated_keys:
        if unevaluated is False:
            error = "Unevaluated properties are not allowed (%s %s unexpected)"
            extras = sorted(unevaluated_keys, key=str)
            yield jsonschema.ValidationError(error % extras_msg(extras))
        else:
            error = (
                "Unevaluated properties are not valid under "
                "the given schema (%s %s unevaluated and invalid)"
            )
            yield jsonschema.ValidationError(error % extras_msg(unevaluated_keys))


ConfigValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    {"allOf": all_of, "unevaluatedProperties": unevaluated_properties},
)


@lru_cache(maxsize=1)
def _compiled(sources: tuple) -> jsonschema.protocols.Validator:
    _discriminators.clear()
    return ConfigValidator(build_schema())


def config_validator() -> jsonschema.protocols.Validator:
    """The validator of the current schema, rebuilt only when a registry has changed."""
    return _compiled(schema_sources())


def config_errors(document: Any) -> list[jsonschema.ValidationError]:
    """Every schema error of ``document``, in the validator's order."""
    token = _verdicts.set({})
    try:
        return list(config_validator().iter_errors(document))
    finally:
        _verdicts.reset(token)
