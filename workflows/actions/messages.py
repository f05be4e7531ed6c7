"""Actions that tell people and systems: notifications (e-mail through Django's mail backend,
and in-app) and signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import translation

from metadata.fieldtypes.base import Problem
from workflows.actions.base import Action, ActionError, register

PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
LOOKUPS = ("lookup", "multi_lookup")
WEBHOOK_TIMEOUT_S = 10


class Placeholders:
    """``{field}`` placeholders of a notification filled as the pages show values: option
    labels and dates in the reader's language, amounts with their currency, the title of the
    record a lookup points at, a user's name; empty when the field is. Titles and names are
    read once per action, for the placeholders used only."""

    def __init__(self, context, templates: list[str]):
        self.context = context
        self.keys = {key for text in templates for key in PLACEHOLDER.findall(text)}
        entity = context.entity
        self.values = {
            key: entity.fields[key].type.from_storage(stored, entity.fields[key].options)
            for key, stored in context.record.items()
            if key in self.keys and key in entity.fields and stored is not None
        }
        self.titles = self._titles()
        self.users = self._users()

    def _titles(self) -> dict[int, str]:
        from types import SimpleNamespace

        from records.service import RecordService
        from ui_builder.pages import titles_for

        entity = self.context.entity
        if not any(entity.fields[k].options["type"] in LOOKUPS for k in self.values):
            return {}
        service = RecordService.system(self.context.tenant)
        rows = [SimpleNamespace(values=self.values)]
        return titles_for(service, self.context.config, entity, rows)

    def _users(self) -> dict[int, str]:
        from tenants.models import User

        entity = self.context.entity
        ids = {v for k, v in self.values.items() if entity.fields[k].options["type"] == "user"}
        if "owner" in self.keys and self.context.system.get("owner"):
            ids.add(self.context.system["owner"])
        users = User.objects.filter(pk__in=ids) if ids else []
        return {user.pk: user.full_name or user.email for user in users}

    def text(self, key: str) -> str:
        from ui_builder.display import shown

        field = self.context.entity.fields.get(key)
        if field is None:  # a system field: the owner's name, the id, the version
            value = self.context.system.get(key)
            return self.users.get(value, "") if key == "owner" else str(value or "")
        value = self.values.get(key)
        if field.options["type"] == "user":
            return self.users.get(value, "") if value else ""
        return shown(field, value, self.titles)

    def render(self, template: str, language: str | None) -> str:
        with translation.override(language or settings.LANGUAGE_CODE):
            return PLACEHOLDER.sub(lambda match: self.text(match.group(1)), template)


def localized(label: dict, language: str | None) -> str:
    """A label object in the reader's language (zh-hans finds zh-Hans), else English."""
    from ui_builder.display import label_of

    with translation.override(language or settings.LANGUAGE_CODE):
        return label_of(label)


@register
class Notify(Action):
    key = "notify"
    description = (
        "Tell people, by e-mail and/or in the app: the record's owner, members holding roles, "
        "the users named in user fields, fixed addresses. Subject and message take {field}."
    )
    params_schema = {
        "to": {
            "type": "object",
            "properties": {
                "owner": {"type": "boolean"},
                "roles": {"type": "array", "items": {"$ref": "#/$defs/key"}},
                "user_fields": {"type": "array", "items": {"$ref": "#/$defs/key"}},
                "emails": {"type": "array", "items": {"type": "string", "format": "email"}},
                "email_fields": {
                    "type": "array",
                    "items": {
                        "type": "string",
                        "pattern": "^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)?$",
                    },
                    "description": "e-mail fields of the record (email) or of the records a "
                    "lookup or multi-lookup points at (attendees.email): people outside",
                },
            },
            "additionalProperties": False,
            "minProperties": 1,
        },
        "subject": {"$ref": "#/$defs/label"},
        "message": {"$ref": "#/$defs/label"},
        "channels": {
            "type": "array",
            "items": {"enum": ["email", "in_app"]},
            "minItems": 1,
            "uniqueItems": True,
        },
    }
    required_params = ("to", "subject")

    def check(self, spec, path, ctx, entity):
        yield from ctx.unknown_roles(spec["to"].get("roles"), f"{path}.to.roles")
        fields = {f["key"]: f for f in entity.get("fields", [])}
        for index, key in enumerate(spec["to"].get("user_fields") or []):
            if key not in fields or fields[key]["type"] != "user":
                yield Problem(
                    f"{path}.to.user_fields[{index}]",
                    "not_a_user_field",
                    f"{key!r} is not a user field of {entity['key']}",
                )
        yield from self.check_email_fields(spec, path, ctx, entity)
        for group in ("subject", "message"):
            for locale, text in (spec.get(group) or {}).items():
                for key in PLACEHOLDER.findall(text):
                    if key not in fields and key not in ("id", "owner", "version"):
                        yield Problem(
                            f"{path}.{group}.{locale}",
                            "unknown_field",
                            f"{{{key}}} is not a field of {entity['key']}",
                        )

    @staticmethod
    def check_email_fields(spec, path, ctx, entity) -> list[Problem]:
        """Each e-mail field names an e-mail field, of the record or through a lookup."""
        problems = []
        fields = {f["key"]: f for f in entity.get("fields", [])}
        for index, name in enumerate(spec["to"].get("email_fields") or []):
            head, _, tail = name.partition(".")
            field, target = fields.get(head), entity
            if tail and field is not None and field["type"] in ("lookup", "multi_lookup"):
                target = ctx.entities.get(field["target"], {})
                field = next((f for f in target.get("fields", []) if f["key"] == tail), None)
            elif tail:
                field = None
            if field is None or field["type"] != "email":
                problems.append(
                    Problem(
                        f"{path}.to.email_fields[{index}]",
                        "not_an_email_field",
                        f"{name!r} is not an e-mail field of {entity['key']} or of a record it "
                        "points at",
                    )
                )
        return problems

    @staticmethod
    def addresses(spec, context) -> list[str]:
        """The addresses the record's e-mail fields hold, directly or through its lookups."""
        from records.related_values import fetch

        found: list[str] = []
        through: dict[str, list[str]] = {}
        for name in spec["to"].get("email_fields") or []:
            head, _, tail = name.partition(".")
            if not tail:
                found.append(context.record.get(head))
            else:
                through.setdefault(head, []).append(tail)
        ids = {}
        for head in through:
            value = context.record.get(head)
            ids[head] = set(value if isinstance(value, list) else [value] if value else [])
        records = fetch(context.config, context.entity, ids) if ids else {}
        for head, tails in through.items():
            for pk in sorted(ids[head]):
                for tail in tails:
                    found.append((records.get(pk) or {}).get(tail))
        return sorted({address for address in found if address})

    def recipients(self, spec, context):
        from tenants.models import Membership, User

        to = spec["to"]
        ids: set[int] = set()
        if to.get("owner") and context.system.get("owner"):
            ids.add(context.system["owner"])
        for key in to.get("user_fields") or []:
            if context.record.get(key):
                ids.add(int(context.record[key]))
        if to.get("roles"):
            for membership in Membership.objects.filter(is_active=True):
                if set(membership.roles) & set(to["roles"]):
                    ids.add(membership.user_id)
        active = set(
            Membership.objects.filter(user_id__in=ids, is_active=True).values_list(
                "user_id", flat=True
            )
        )
        return list(User.objects.filter(pk__in=active, is_active=True).order_by("pk"))

    def run(self, spec, context):
        from workflows.models import Notification

        channels = spec.get("channels") or ["email", "in_app"]
        users = self.recipients(spec, context)
        message = spec.get("message") or spec["subject"]
        fill = Placeholders(context, [*spec["subject"].values(), *message.values()])
        sent = []
        for user in users:
            language = user.language or None
            subject = fill.render(localized(spec["subject"], language), language)
            body = fill.render(localized(message, language), language)
            if "in_app" in channels:
                Notification.objects.get_or_create(
                    tenant=context.tenant,
                    user=user,
                    key=context.idempotency_key,
                    defaults={
                        "entity": context.entity.key,
                        "record_id": context.record_id,
                        "subject": subject,
                        "body": body,
                    },
                )
            if "email" in channels:
                self.mail(subject, body, user.email, context)
            sent.append(user.pk)
        emails = sorted({*(spec["to"].get("emails") or []), *self.addresses(spec, context)})
        if emails and "email" in channels:  # addresses outside: the platform's language
            body = fill.render(localized(message, None), None)
            subject = fill.render(localized(spec["subject"], None), None)
            for address in emails:  # one message each: customers do not see each other
                self.mail(subject, body, address, context)
        return {"users": sent, "emails": len(emails)}

    @staticmethod
    def mail(subject: str, body: str, to: str, context) -> None:
        # The same Message-ID on a redelivery (one per recipient): mail systems can drop the
        # duplicate.
        digest = hashlib.sha256(to.lower().encode()).hexdigest()[:12]
        message_id = f"<{context.idempotency_key.replace(':', '.')}.{digest}@crm.workflows>"
        try:
            EmailMessage(subject, body, to=[to], headers={"Message-ID": message_id}).send()
        except OSError as error:  # the mail server unreachable: try again later
            raise ActionError(f"e-mail not sent: {error}", retry=True) from error

    def describe(self, spec, context):
        return f"notify {', '.join(sorted(spec['to']))}"


@register
class Webhook(Action):
    key = "webhook"
    description = (
        "POST the event as JSON to a URL, signed with the tenant's webhook secret "
        "(X-CRM-Signature: sha256=HMAC of the body); retried with backoff on failure."
    )
    params_schema = {
        "url": {"type": "string", "pattern": "^https?://", "maxLength": 2000},
        "fields": {
            "type": "array",
            "items": {"$ref": "#/$defs/key"},
            "description": "the fields sent (default: all)",
        },
    }
    required_params = ("url",)

    def check(self, spec, path, ctx, entity):
        fields = {f["key"] for f in entity.get("fields", [])}
        for index, key in enumerate(spec.get("fields") or []):
            if key not in fields:
                yield Problem(
                    f"{path}.fields[{index}]",
                    "unknown_field",
                    f"{key!r} is not a field of {entity['key']}",
                )

    def run(self, spec, context):
        from workflows.models import webhook_secret

        wanted = spec.get("fields")
        values = {k: v for k, v in context.record.items() if wanted is None or k in wanted}
        body = json.dumps(
            {
                "event": context.kind,
                "workflow": context.workflow,
                "entity": context.entity.key,
                "record_id": context.record_id,
                "values": values,
                "idempotency_key": context.idempotency_key,
            },
            sort_keys=True,
            default=str,
        ).encode()
        signature = hmac.new(webhook_secret(context.tenant).encode(), body, hashlib.sha256)
        request = urllib.request.Request(
            spec["url"],
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-CRM-Signature": f"sha256={signature.hexdigest()}",
                "Idempotency-Key": context.idempotency_key,
                "User-Agent": "crm-workflows/1",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            # 4xx but 408/429: the receiver refuses this event; anything else may pass later.
            retry = error.code >= 500 or error.code in (408, 429)
            raise ActionError(f"{spec['url']} answered {error.code}", retry=retry) from error
        except (urllib.error.URLError, OSError) as error:
            raise ActionError(f"{spec['url']} unreachable: {error}", retry=True) from error
        return {"status": status}

    def describe(self, spec, context):
        return f"POST to {spec['url']}"
