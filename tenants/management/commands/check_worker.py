from django.core.management.base import BaseCommand, CommandError

from tenants.services import get_tenant
from tenants.tasks import count_members


class Command(BaseCommand):
    help = "Send a task through the broker and wait for a worker to answer it."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", default="demo")
        parser.add_argument("--timeout", type=float, default=30)

    def handle(self, *args, **options):
        tenant = get_tenant(options["tenant"])
        try:
            result = count_members.delay(tenant.pk).get(timeout=options["timeout"])
        except Exception as error:
            raise CommandError(
                f"No worker answered within {options['timeout']}s: {error}"
            ) from error
        self.stdout.write(
            f"A worker answered: tenant {tenant.slug} has {result['members']} members."
        )
