"""Operations on a tenant's records: schema jobs and their progress, purges, field indexes."""

from django.core.management.base import BaseCommand, CommandError

from metadata.compiled import active_config
from records.errors import RecordError
from records.models import SchemaJob
from records.schema_jobs import run_pending, schedule_purge
from tenants.context import tenant_context
from tenants.errors import TenantError
from tenants.services import get_tenant


class Command(BaseCommand):
    help = "Schema jobs (progress, resume), purges of removed fields, field indexes."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        jobs = actions.add_parser("jobs", help="List schema jobs with their progress.")
        jobs.add_argument("--tenant", required=True)
        jobs.add_argument("--failures", action="store_true", help="List unconverted values.")
        run = actions.add_parser("run-jobs", help="Run unfinished jobs here, now (resumes).")
        run.add_argument("--tenant", required=True)
        purge = actions.add_parser("purge-field", help="Delete a removed field's values.")
        purge.add_argument("--tenant", required=True)
        purge.add_argument("--entity", required=True)
        purge.add_argument("--field", required=True)
        sync = actions.add_parser(
            "sync-indexes", help="Bring the field indexes in line with the configuration, now."
        )
        sync.add_argument("--tenant", required=True)

    def handle(self, *args, **options):
        try:
            tenant = get_tenant(options["tenant"])
            getattr(self, options["action"].replace("-", "_"))(tenant, options)
        except (TenantError, RecordError) as error:
            raise CommandError(f"[{error.code}] {error.message}") from error

    def jobs(self, tenant, options):
        with tenant_context(tenant):
            jobs = list(SchemaJob.objects.order_by("id").prefetch_related("failures"))
        if not jobs:
            self.stdout.write("No schema jobs.")
        for job in jobs:
            self.stdout.write(
                f"#{job.pk:<5} {job.kind:<14} {job.entity:<20} {job.status:<8} "
                f"{job.percent:>5}%  {job.processed}/{job.total} rows, {job.failed} failed  "
                f"{job.params if job.kind != 'convert_field' else job.params['field']}"
            )
            if options["failures"]:
                for failure in job.failures.all():
                    self.stdout.write(
                        f"        record {failure.record_id}: {failure.value!r} — {failure.reason}"
                    )

    def run_jobs(self, tenant, options):
        self.stdout.write(f"Finished {run_pending(tenant.pk)} job(s).")

    def purge_field(self, tenant, options):
        job = schedule_purge(tenant, options["entity"], options["field"], active_config(tenant))
        self.stdout.write(
            f"Scheduled job #{job.pk} to purge {options['entity']}.{options['field']}."
        )

    def sync_indexes(self, tenant, options):
        from records.indexes import STATISTICS_PREFIX, sync_indexes, tenant_indexes

        done = sync_indexes(tenant.pk, active_config(tenant))
        for outcome in ("created", "dropped", "failed"):
            for name in done[outcome]:
                self.stdout.write(f"{outcome:<8} {name}")
        names = tenant_indexes(tenant.pk)
        statistics = sum(name.startswith(STATISTICS_PREFIX) for name in names)
        self.stdout.write(
            f"{len(names) - statistics} field index(es) and {statistics} statistics serve "
            f"{tenant.slug}."
        )
        if done["failed"]:
            raise CommandError("some indexes could not be built (see the log)")
