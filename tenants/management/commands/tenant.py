from django.core.management.base import BaseCommand, CommandError

from tenants.errors import TenantError
from tenants.services import set_tenant_status


class Command(BaseCommand):
    help = "Suspend or reactivate a tenant."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["suspend", "activate"])
        parser.add_argument("slug")

    def handle(self, *args, **options):
        status = "suspended" if options["action"] == "suspend" else "active"
        try:
            tenant = set_tenant_status(options["slug"], status)
        except TenantError as error:
            raise CommandError(f"[{error.code}] {error.message}") from error
        self.stdout.write(f"Tenant {tenant.slug} is now {tenant.status}.")
