"""Delete the files of file fields that no record holds any more (records/files.py)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from records import files
from tenants.errors import TenantError
from tenants.models import Tenant
from tenants.services import get_tenant


class Command(BaseCommand):
    help = (
        "Delete kept files no record holds (replaced, removed, purged, or uploaded for a save "
        "that never happened), once older than the upload ids that may still name them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="one tenant's slug (default: every tenant)")
        parser.add_argument(
            "--older-than-hours",
            type=float,
            default=files.UPLOAD_TTL.total_seconds() / 3600,
            help="keep files kept more recently than this (default: 24, an upload id's life)",
        )
        parser.add_argument("--dry-run", action="store_true", help="list them, delete nothing")

    def handle(self, *args, **options):
        if options["older_than_hours"] < 0:
            raise CommandError("--older-than-hours cannot be negative.")
        try:
            tenants = [get_tenant(options["tenant"])] if options["tenant"] else Tenant.objects.all()
        except TenantError as error:
            raise CommandError(f"[{error.code}] {error.message}") from error
        older_than = dt.timedelta(hours=options["older_than_hours"])
        total = 0
        for tenant in tenants:
            deleted = files.clean(tenant, older_than=older_than, dry_run=options["dry_run"])
            for path in deleted:
                self.stdout.write(path)
            total += len(deleted)
        verb = "would delete" if options["dry_run"] else "deleted"
        self.stdout.write(f"{verb} {total} file(s) no record holds")
