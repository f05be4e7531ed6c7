from django.core.management.base import BaseCommand, CommandError

from tenants.errors import TenantError
from tenants.services import create_tenant


class Command(BaseCommand):
    help = "Create a tenant (company) with its first administrator."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--pack", default="crm", help="Configuration pack to provision from (default: crm)."
        )
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-password", required=True)

    def handle(self, *args, **options):
        try:
            tenant = create_tenant(
                slug=options["slug"],
                name=options["name"],
                pack=options["pack"],
                admin_email=options["admin_email"],
                admin_password=options["admin_password"],
            )
        except TenantError as error:
            raise CommandError(f"[{error.code}] {error.message}") from error
        self.stdout.write(
            f"Created tenant {tenant.slug} ({tenant.name}); administrator "
            f"{options['admin_email'].strip().lower()}."
        )
