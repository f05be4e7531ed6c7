"""Configuration as code: export, import, validate, diff, publish, rollback, history, schema."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from metadata import publish as service
from metadata.diff import diff_documents, diff_text
from metadata.errors import ConfigError, ConfigErrorCode
from metadata.impact import STRATEGIES
from metadata.schema_builder import SCHEMA_PATH, schema_text
from tenants.errors import TenantError
from tenants.models import User
from tenants.services import get_tenant


class Command(BaseCommand):
    help = "Work with a tenant's configuration: export, import, validate, diff, publish, rollback."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)

        def command(name, help_text, tenant=True):
            sub = commands.add_parser(name, help=help_text)
            if tenant:
                sub.add_argument("--tenant", required=True)
            return sub

        export = command("export", "Print a version's document (default: the active one).")
        export.add_argument("--version", type=int)
        export.add_argument("--draft", action="store_true", help="Print the draft instead.")

        load = command("import", "Save a file (or - for standard input) as the draft.")
        load.add_argument("file")
        load.add_argument("--etag", help="The draft's etag when you exported it.")
        load.add_argument(
            "--overwrite",
            action="store_true",
            help="Replace a draft with unpublished changes without its etag.",
        )
        load.add_argument("--publish", action="store_true", help="Publish it right away.")
        load.add_argument("--force", action="append", default=[], choices=STRATEGIES)
        load.add_argument("--as", dest="as_user", help="E-mail of the consultant acting.")

        validate = command("validate", "Check the draft (or a file) without publishing.")
        validate.add_argument("file", nargs="?")

        diff = command("diff", "Differences between two versions: numbers, 'draft' or 'active'.")
        diff.add_argument("a")
        diff.add_argument("b")
        diff.add_argument("--json", action="store_true")

        publish = command("publish", "Publish the draft as the next version.")
        publish.add_argument("--force", action="append", default=[], choices=STRATEGIES)
        publish.add_argument(
            "--dry-run", action="store_true", help="Show the diff and the impact report only."
        )
        publish.add_argument("--comment", default="")
        publish.add_argument("--as", dest="as_user")

        rollback = command("rollback", "Publish the content of version N as a new version.")
        rollback.add_argument("number", type=int)
        rollback.add_argument("--force", action="append", default=[], choices=STRATEGIES)
        rollback.add_argument("--as", dest="as_user")

        command("history", "List the published versions.")

        adopt = command(
            "adopt-roles", "Publish the active version with the roles of a pack it lacks."
        )
        adopt.add_argument("--pack", required=True)
        adopt.add_argument("--as", dest="as_user")

        schema = command("schema", "Print the configuration JSON Schema.", tenant=False)
        schema.add_argument("--write", action="store_true", help=f"Write it to {SCHEMA_PATH}.")

    def handle(self, *args, **options):
        try:
            getattr(self, f"do_{options['action'].replace('-', '_')}")(options)
        except (ConfigError, TenantError) as error:
            message = (
                error.details()
                if isinstance(error, ConfigError)
                else (f"[{error.code}] {error.message}")
            )
            raise CommandError(message) from error

    def tenant(self, options):
        return get_tenant(options["tenant"])

    def user(self, options):
        email = options.get("as_user")
        if not email:
            return None
        user = User.objects.filter(email=email.strip().lower()).first()
        if user is None:
            raise CommandError(f"[user_unknown] No user has the e-mail {email!r}.")
        return user

    def document_named(self, tenant, name: str) -> dict:
        if name == "draft":
            draft = service.get_draft(tenant)
            if draft is None:
                raise CommandError(f"[no_draft] {tenant.slug} has no draft.")
            return service.document_of(draft)
        if name == "active":
            active = service.active_version(tenant)
            return service.document_of(active) if active else {}
        try:
            return service.document_of(service.get_version(tenant, int(name)))
        except ValueError as error:
            raise CommandError(f"Not a version: {name!r} (a number, draft or active).") from error

    def read_file(self, path: str) -> dict:
        try:
            text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from error
        return service.parse_document(text)

    def do_export(self, options):
        tenant = self.tenant(options)
        if options["draft"]:
            draft = service.get_draft(tenant)
            if draft is None:
                raise CommandError(f"[no_draft] {tenant.slug} has no draft.")
            self.stderr.write(f"etag {draft.etag}")
            self.stdout.write(draft.source, ending="")
            return
        version = (
            service.get_version(tenant, options["version"])
            if options["version"]
            else service.active_version(tenant)
        )
        if version is None:
            raise CommandError(f"[version_unknown] {tenant.slug} has no published version.")
        self.stdout.write(version.source, ending="")

    def do_import(self, options):
        tenant, user = self.tenant(options), self.user(options)
        document = self.read_file(options["file"])
        service.check_storable(document)
        result = service.preview(tenant, document)
        if result.problems:
            raise ConfigError(
                ConfigErrorCode.INVALID_CONFIG,
                f"{len(result.problems)} problem(s); the draft was not changed.",
                problems=result.problems,
            )
        draft = service.save_draft(
            tenant, document, user=user, etag=options["etag"], overwrite=options["overwrite"]
        )
        self.stdout.write(f"Saved the draft of {tenant.slug} (etag {draft.etag}).")
        if options["publish"]:
            self.publish(tenant, user, options)
        else:
            self.report(result)

    def do_validate(self, options):
        tenant = self.tenant(options)
        document = (
            self.read_file(options["file"])
            if options["file"]
            else self.document_named(tenant, "draft")
        )
        service.check_storable(document)
        result = service.preview(tenant, document)
        self.report(result)
        if result.problems:
            raise CommandError(f"[invalid_config] {len(result.problems)} problem(s).")

    def do_diff(self, options):
        tenant = self.tenant(options)
        diff = diff_documents(
            self.document_named(tenant, options["a"]) or None,
            self.document_named(tenant, options["b"]),
        )
        self.stdout.write(
            json.dumps(diff, indent=2, ensure_ascii=False) if options["json"] else diff_text(diff)
        )

    def do_publish(self, options):
        tenant, user = self.tenant(options), self.user(options)
        if options["dry_run"]:
            self.report(service.preview(tenant, self.document_named(tenant, "draft")))
            return
        self.publish(tenant, user, options)

    def publish(self, tenant, user, options):
        version = service.publish(
            tenant, user=user, strategies=options["force"], comment=options.get("comment", "")
        )
        self.stdout.write(diff_text(version.diff))
        self.stdout.write(f"Published version {version.number} of {tenant.slug}.")

    def do_rollback(self, options):
        tenant, user = self.tenant(options), self.user(options)
        version = service.rollback(
            tenant, options["number"], user=user, strategies=options["force"]
        )
        self.stdout.write(diff_text(version.diff))
        self.stdout.write(
            f"Published version {version.number} of {tenant.slug} with the "
            f"content of version {options['number']}."
        )

    def do_adopt_roles(self, options):
        from metadata.packs import adopt_pack_roles

        tenant = self.tenant(options)
        version = adopt_pack_roles(tenant, options["pack"], user=self.user(options))
        if version is None:
            self.stdout.write(f"{tenant.slug} has every role of the pack {options['pack']}.")
            return
        self.stdout.write(diff_text(version.diff))
        self.stdout.write(f"Published version {version.number} of {tenant.slug}.")

    def do_history(self, options):
        from metadata.models import ConfigVersion
        from tenants.context import tenant_context

        tenant = self.tenant(options)
        with tenant_context(tenant):
            versions = list(ConfigVersion.objects.select_related("published_by"))
        for v in versions:
            origin = (
                f"rollback of {v.rollback_of}"
                if v.rollback_of
                else f"from {v.based_on}"
                if v.based_on
                else "first"
            )
            self.stdout.write(
                f"{v.number:>4}  {v.published_at:%Y-%m-%d %H:%M}  "
                f"{str(v.published_by or '-'):<30}  {origin:<18}  {v.comment}"
            )

    def do_schema(self, options):
        if options["write"]:
            SCHEMA_PATH.write_text(schema_text())
            self.stdout.write(f"Wrote {SCHEMA_PATH}.")
        else:
            self.stdout.write(schema_text(), ending="")

    def report(self, result):
        if result.problems:
            self.stdout.write(f"{len(result.problems)} problem(s):")
            for problem in result.problems:
                self.stdout.write(f"  {problem}")
            return
        self.stdout.write("Valid. Changes against the active version:")
        self.stdout.write(diff_text(result.diff))
        if result.report.items:
            self.stdout.write("Impact:")
            for item in result.report.items:
                flag = "BLOCKING" if item.blocking else "note"
                self.stdout.write(
                    f"  {flag} {item.path}: {item.message} (accept with --force {item.strategy})"
                )
