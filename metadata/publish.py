"""Drafts, publishing, rollback: the only code that writes configuration versions.

Publishing checks, in order, the JSON Schema, the document's meaning, and the impact report;
it writes nothing when a step fails, and otherwise creates the next immutable version in one
transaction (the active version is always the highest number).
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass

import structlog
from django.db import connection
from django.db.models import Max

from metadata.diff import diff_documents, is_empty
from metadata.errors import ConfigError, ConfigErrorCode
from metadata.impact import STRATEGIES, ImpactReport, impact_report, publish_hooks
from metadata.models import ConfigDraft, ConfigVersion
from metadata.semantics import validate_document
from tenants.context import tenant_context

logger = structlog.get_logger("crm.config")


def _refuse_constant(name: str):
    raise json.JSONDecodeError(f"{name} is not valid JSON", name, 0)


def render(document: dict) -> str:
    """The document as text, keys in the author's order (jsonb keeps its own order)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def document_of(row) -> dict:
    """A draft's or version's document with its keys in the author's order."""
    return json.loads(row.source)


def parse_document(text: str) -> dict:
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise ConfigError(
            ConfigErrorCode.INVALID_JSON,
            f"Malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}",
        ) from error
    if not isinstance(document, dict):
        raise ConfigError(ConfigErrorCode.INVALID_JSON, "The configuration must be a JSON object.")
    return document


def _unstorable(node, path: str = "") -> tuple[str, str] | None:
    """The path and reason of a value PostgreSQL's jsonb cannot store (a NUL character, a
    number that is not finite), or None."""
    if isinstance(node, str):
        return (path, "contains a NUL character (\\u0000)") if "\x00" in node else None
    if isinstance(node, float) and not math.isfinite(node):
        return path, f"holds {node}, not a finite number"
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in items:
        if isinstance(key, str) and "\x00" in key:
            return (f"{path}.{key!r}" if path else repr(key)), "has a NUL character in its name"
        child = f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else key)
        found = _unstorable(value, child)
        if found is not None:
            return found
    return None


def check_storable(document: dict) -> None:
    if not isinstance(document, dict):
        raise ConfigError(ConfigErrorCode.INVALID_JSON, "The configuration must be a JSON object.")
    found = _unstorable(document)
    if found is not None:
        path, reason = found
        raise ConfigError(
            ConfigErrorCode.INVALID_JSON, f"{path}: {reason}, which cannot be stored."
        )


def _lock_configuration(tenant) -> None:
    # Serializes saves and publishes of one tenant's configuration.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('crm.config'), %s)", [tenant.pk])


def active_version(tenant) -> ConfigVersion | None:
    with tenant_context(tenant):
        return ConfigVersion.objects.order_by("-number").first()


def get_version(tenant, number: int) -> ConfigVersion:
    with tenant_context(tenant):
        version = ConfigVersion.objects.filter(number=number).first()
    if version is None:
        raise ConfigError(
            ConfigErrorCode.VERSION_UNKNOWN, f"The tenant {tenant.slug} has no version {number}."
        )
    return version


def get_draft(tenant) -> ConfigDraft | None:
    with tenant_context(tenant):
        return ConfigDraft.objects.filter().first()


def draft_has_changes(draft: ConfigDraft | None, active: ConfigVersion | None) -> bool:
    if draft is None:
        return False
    return active is None or draft.document != active.document


def check_configure(tenant, user) -> None:
    """A user changing the configuration needs a role with the ``configure`` permission in the
    active version (platform staff may too). Without a user (an operator's command) or before
    the first version (a pack being applied) there is nobody to ask."""
    if user is None or getattr(user, "is_staff", False):
        return
    from metadata.compiled import active_config
    from tenants.models import Membership

    with tenant_context(tenant):
        config = active_config(tenant)
        if config is None:
            return
        held = (
            Membership.objects.filter(user=user, is_active=True)
            .values_list("roles", flat=True)
            .first()
        ) or []
    if not config.grants(held, "configure"):
        raise ConfigError(
            ConfigErrorCode.CONFIGURE_DENIED,
            f"{getattr(user, 'email', user)} may not change the configuration of {tenant.slug}: "
            "no role of theirs has the configure permission.",
        )


def save_draft(
    tenant, document: dict, *, user=None, etag: str | None = None, overwrite: bool = False
) -> ConfigDraft:
    """Replace the tenant's draft.

    ``etag`` is the draft's etag when the caller read it; a different current etag means someone
    saved in between and the save is refused. Without an etag, a draft that holds unpublished
    changes is only replaced with ``overwrite``.
    """
    check_storable(document)
    check_configure(tenant, user)
    with tenant_context(tenant):
        _lock_configuration(tenant)
        draft = ConfigDraft.objects.filter().first()
        active = ConfigVersion.objects.order_by("-number").first()
        if draft is not None:
            if etag is not None and etag != draft.etag:
                raise ConfigError(
                    ConfigErrorCode.ETAG_CONFLICT,
                    f"The draft changed since you read it (now etag {draft.etag}, "
                    f"saved by {draft.updated_by or 'the system'} at "
                    f"{draft.updated_at:%Y-%m-%d %H:%M} UTC). Export it again and "
                    "reapply your changes.",
                )
            if etag is None and not overwrite and draft_has_changes(draft, active):
                raise ConfigError(
                    ConfigErrorCode.ETAG_CONFLICT,
                    "The draft holds unpublished changes by "
                    f"{draft.updated_by or 'the system'}; pass its etag "
                    f"({draft.etag}) to replace it knowingly, or overwrite it.",
                )
        else:
            draft = ConfigDraft(tenant=tenant)
        draft.document = document
        draft.source = render(document)
        draft.etag = uuid.uuid4().hex
        draft.updated_by = user
        draft.base_version = active.number if active else None
        draft.save()
        return draft


@dataclass
class PublishPreview:
    problems: list
    diff: dict
    report: ImpactReport
    based_on: int | None


def preview(tenant, document: dict) -> PublishPreview:
    """Validation, diff against the active version and impact report; writes nothing."""
    problems = validate_document(document)
    active = active_version(tenant)
    old = active.document if active else None
    based_on = active.number if active else None
    if problems:  # a diff and an impact only mean something for a valid document
        return PublishPreview(problems, {}, ImpactReport([]), based_on)
    diff = diff_documents(old, document)
    return PublishPreview([], diff, impact_report(tenant, old, document, diff), based_on)


def _check_strategies(strategies) -> frozenset[str]:
    unknown = sorted(set(strategies) - set(STRATEGIES))
    if unknown:
        raise ConfigError(
            ConfigErrorCode.STRATEGY_UNKNOWN,
            f"Unknown strategy {unknown[0]!r}; use one of: {', '.join(STRATEGIES)}.",
        )
    return frozenset(strategies)


def publish(
    tenant,
    *,
    user=None,
    strategies=(),
    comment: str = "",
    document: dict | None = None,
    rollback_of: int | None = None,
) -> ConfigVersion:
    """Publish ``document`` (by default the draft) as the tenant's next version."""
    strategies = _check_strategies(strategies)
    check_configure(tenant, user)
    with tenant_context(tenant):
        _lock_configuration(tenant)
        if document is None:
            draft = ConfigDraft.objects.filter().first()
            if draft is None:
                raise ConfigError(
                    ConfigErrorCode.NOTHING_TO_PUBLISH,
                    f"The tenant {tenant.slug} has no draft to publish.",
                )
            document = document_of(draft)
        check_storable(document)
        active = ConfigVersion.objects.order_by("-number").first()
        old_document = document_of(active) if active else None
        result = preview(tenant, document)
        if result.problems:
            raise ConfigError(
                ConfigErrorCode.INVALID_CONFIG,
                f"The configuration has {len(result.problems)} problem(s); nothing was published.",
                problems=result.problems,
            )
        if result.based_on is not None and is_empty(result.diff):
            raise ConfigError(
                ConfigErrorCode.NOTHING_TO_PUBLISH,
                f"The document equals the active version {result.based_on}.",
            )
        blocking = result.report.blocking(strategies)
        if blocking:
            raise ConfigError(
                ConfigErrorCode.PUBLISH_BLOCKED,
                f"Publishing needs {len(blocking)} decision(s); nothing was published.",
                report=blocking,
            )
        number = (ConfigVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
        version = ConfigVersion.objects.create(
            tenant=tenant,
            number=number,
            document=document,
            source=render(document),
            published_by=user,
            based_on=result.based_on,
            rollback_of=rollback_of,
            diff=result.diff,
            impact=result.report.as_dict(),
            strategies=sorted(strategies),
            comment=comment,
        )
        for hook in publish_hooks:
            hook(tenant, old_document, document, result.diff, version)
    logger.info(
        "config.published",
        tenant=tenant.slug,
        version=number,
        based_on=result.based_on,
        rollback_of=rollback_of,
        user=getattr(user, "email", None),
        strategies=sorted(strategies),
    )
    return version


def rollback(tenant, number: int, *, user=None, strategies=()) -> ConfigVersion:
    """Publish the content of version ``number`` again, as a new version, through every check.

    Renames made since that version are declared in reverse (``renamed_from``), so values move
    back instead of being dropped. The draft is left as it is: a consultant's unpublished work is
    never thrown away.
    """
    old = get_version(tenant, number)
    with tenant_context(tenant):
        later = list(ConfigVersion.objects.filter(number__gt=number).order_by("number"))
    document = reverse_renames(document_of(old), [version.diff for version in later])
    return publish(
        tenant,
        user=user,
        strategies=strategies,
        document=document,
        rollback_of=number,
        comment=f"rollback to version {number}",
    )


def reverse_renames(document: dict, later_diffs: list[dict]) -> dict:
    """``document`` with ``renamed_from`` set where later versions renamed its entities or
    fields, so that publishing it again renames them back."""
    entity_names = {e["key"]: e["key"] for e in document["entities"]}  # original -> current
    field_names = {
        (e["key"], f["key"]): f["key"] for e in document["entities"] for f in e["fields"]
    }
    for diff in later_diffs:
        entities = diff.get("entities", {})
        for rename in entities.get("renamed", []):
            for original, current in entity_names.items():
                if current == rename["from"]:
                    entity_names[original] = rename["to"]
        for entity_key, entry in entities.get("changed", {}).items():
            for rename in entry.get("fields", {}).get("renamed", []):
                for (entity, original), current in field_names.items():
                    if entity_names[entity] == entity_key and current == rename["from"]:
                        field_names[(entity, original)] = rename["to"]
    document = json.loads(json.dumps(document))  # a copy, keys in the same order
    for entity in document["entities"]:
        if entity_names[entity["key"]] != entity["key"]:
            entity["renamed_from"] = entity_names[entity["key"]]
        for field in entity["fields"]:
            current = field_names[(entity["key"], field["key"])]
            if current != field["key"]:
                field["renamed_from"] = current
    return document
