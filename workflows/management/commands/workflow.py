"""Workflows from the command line: the dead-letter list, retrying it, simulating a workflow on
a record, the tenant's webhook secret."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from records.errors import RecordError
from tenants.context import tenant_context
from tenants.errors import TenantError
from tenants.services import get_tenant
from workflows import services
from workflows.models import WebhookSecret, webhook_secret


class Command(BaseCommand):
    help = "Dead letters, retries, simulation and the webhook secret of a tenant's workflows."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        dead = commands.add_parser("deadletters", help="Events whose delivery gave up.")
        dead.add_argument("--tenant", required=True)
        again = commands.add_parser("retry", help="Deliver dead events again.")
        again.add_argument("--tenant", required=True)
        which = again.add_mutually_exclusive_group(required=True)
        which.add_argument("--event", type=int, action="append", help="an event id (repeatable)")
        which.add_argument("--all", action="store_true")
        sim = commands.add_parser("simulate", help="What a workflow would do, changing nothing.")
        sim.add_argument("--tenant", required=True)
        sim.add_argument("--workflow", required=True)
        sim.add_argument("--record", type=int, required=True)
        away = commands.add_parser("delegate", help="Let someone decide a user's approvals.")
        away.add_argument("--tenant", required=True)
        away.add_argument("--user", required=True, help="who is away (e-mail)")
        away.add_argument("--to", required=True, help="who stands in (e-mail)")
        away.add_argument("--from", dest="starts", required=True, help="YYYY-MM-DD, inclusive")
        away.add_argument("--until", dest="ends", required=True, help="YYYY-MM-DD, inclusive")
        secret = commands.add_parser("webhook-secret", help="The key webhooks are signed with.")
        secret.add_argument("--tenant", required=True)
        secret.add_argument("--rotate", action="store_true", help="replace it with a new one")

    def handle(self, *args, **options):
        try:
            tenant = get_tenant(options["tenant"])
            getattr(self, options["command"].replace("-", "_"))(tenant, options)
        except (TenantError, RecordError) as error:
            raise CommandError(f"[{error.code}] {error.message}") from error

    def deadletters(self, tenant, options):
        events = services.dead_letters(tenant)
        if not events:
            self.stdout.write("No dead letters.")
        for event in events:
            self.stdout.write(
                f"{event.pk}\t{event.finished_at:%Y-%m-%d %H:%M:%S}\t{event.kind}\t"
                f"{event.entity} {event.record_id}\t{event.attempts} attempt(s)\t{event.last_error}"
            )

    def retry(self, tenant, options):
        count = services.retry(tenant, None if options["all"] else options["event"])
        if not count:
            raise CommandError("No such dead letter.")
        self.stdout.write(f"{count} event(s) handed to the workers again.")

    def simulate(self, tenant, options):
        result = services.simulate(tenant, options["workflow"], options["record"])
        self.stdout.write(f"{result.workflow} ({result.kind}) on record {options['record']}:")
        for line in result.lines:
            self.stdout.write(f"  {line}")
        self.stdout.write("Nothing was changed.")

    def delegate(self, tenant, options):
        try:
            starts = dt.datetime.fromisoformat(options["starts"]).replace(tzinfo=dt.UTC)
            ends = dt.datetime.fromisoformat(options["ends"]).replace(tzinfo=dt.UTC)
        except ValueError as error:
            raise CommandError(f"Dates are YYYY-MM-DD: {error}") from error
        services.delegate(
            tenant, options["user"], options["to"], starts, ends + dt.timedelta(days=1)
        )
        self.stdout.write(
            f"{options['to']} decides {options['user']}'s approvals from {options['starts']} "
            f"to {options['ends']}."
        )

    def webhook_secret(self, tenant, options):
        with tenant_context(tenant):
            if options["rotate"]:
                WebhookSecret.objects.filter(tenant=tenant).delete()
            self.stdout.write(webhook_secret(tenant))
