"""Who may do what: explain a decision, and keep teams and reporting lines."""

from django.core.management.base import BaseCommand, CommandError

from records.errors import RecordError
from records.explain import ACTIONS, explain
from tenants import organisation
from tenants.context import tenant_context
from tenants.errors import TenantError
from tenants.models import Membership
from tenants.services import get_tenant


class Command(BaseCommand):
    help = "Explain access decisions; manage teams and reporting lines."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="command", required=True)
        why = actions.add_parser("explain", help="Why a user may or may not do something.")
        why.add_argument("--tenant", required=True)
        why.add_argument("--user", required=True, help="the user's e-mail")
        why.add_argument("--entity", required=True)
        why.add_argument("--action", required=True, choices=ACTIONS)
        why.add_argument("--record", type=int)
        why.add_argument("--field")
        team = actions.add_parser("create-team", help="Create a team.")
        team.add_argument("--tenant", required=True)
        team.add_argument("--key", required=True)
        team.add_argument("--name", required=True)
        for name, text in (("add-to-team", "Add"), ("remove-from-team", "Remove")):
            member = actions.add_parser(name, help=f"{text} a member.")
            member.add_argument("--tenant", required=True)
            member.add_argument("--team", required=True)
            member.add_argument("--user", required=True)
        manager = actions.add_parser("set-manager", help="Set whom a user reports to.")
        manager.add_argument("--tenant", required=True)
        manager.add_argument("--user", required=True)
        manager.add_argument("--manager", help="the manager's e-mail; omit for nobody")

    def handle(self, *args, **options):
        try:
            tenant = get_tenant(options["tenant"])
            getattr(self, options["command"].replace("-", "_"))(tenant, options)
        except (TenantError, RecordError) as error:
            raise CommandError(f"[{error.code}] {error.message}") from error

    def explain(self, tenant, options):
        with tenant_context(tenant):
            membership = (
                Membership.objects.select_related("user")
                .filter(user__email__iexact=options["user"])
                .first()
            )
        if membership is None:
            raise CommandError(f"{options['user']} is not a member of {tenant.slug}.")
        result = explain(
            tenant,
            membership.user,
            options["entity"],
            options["action"],
            options["record"],
            options["field"],
        )
        self.stdout.write(result.text())

    def create_team(self, tenant, options):
        team = organisation.create_team(tenant, options["key"], options["name"])
        self.stdout.write(f"Created the team {team.key} ({team.name}).")

    def add_to_team(self, tenant, options):
        organisation.add_to_team(tenant, options["team"], options["user"])
        self.stdout.write(f"{options['user']} is in the team {options['team']}.")

    def remove_from_team(self, tenant, options):
        removed = organisation.remove_from_team(tenant, options["team"], options["user"])
        self.stdout.write(
            f"{options['user']} {'left' if removed else 'was not in'} the team {options['team']}."
        )

    def set_manager(self, tenant, options):
        organisation.set_manager(tenant, options["user"], options.get("manager"))
        self.stdout.write(f"{options['user']} reports to {options.get('manager') or 'nobody'}.")
