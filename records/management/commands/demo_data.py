"""Fill a tenant with a made-up dataset through the records service (records/demo_data.py)."""

import time

from django.core.management.base import BaseCommand, CommandError

from records.demo_data import SCALES, fill
from records.errors import RecordError
from tenants.errors import TenantError
from tenants.services import get_tenant


class Command(BaseCommand):
    help = "Fill a tenant with realistic demo records of every entity of its configuration."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--scale", choices=list(SCALES), default="small")
        parser.add_argument("--seed", type=int, default=7, help="The same seed, the same data.")

    def handle(self, *args, **options):
        try:
            tenant = get_tenant(options["tenant"])
        except TenantError as error:
            raise CommandError(error.message) from error
        started = time.monotonic()
        try:
            report = fill(tenant, scale=options["scale"], seed=options["seed"])
        except RecordError as error:
            raise CommandError(error.message) from error
        for entity in {**report.created, **report.refused}:
            refused = report.refused.get(entity)
            why = ", ".join(f"{r} {n}" for r, n in report.reasons.get(entity, {}).items())
            self.stdout.write(
                f"{entity}\t{report.created.get(entity, 0)}"
                + (f"\t({refused} refused by the rules: {why})" if refused else "")
            )
        self.stdout.write(
            f"{sum(report.created.values())} records and {report.transitions} state changes "
            f"in {time.monotonic() - started:.1f} s."
        )
