"""Print a tenant's GraphQL schema (SDL) for its active or a given configuration version."""

from django.core.management.base import BaseCommand, CommandError

from api.schema.builder import build_schema
from metadata.compiled import compile_document
from metadata.errors import ConfigError
from metadata.publish import active_version, document_of, get_version
from tenants.errors import TenantError
from tenants.services import get_tenant


class Command(BaseCommand):
    help = "Print the tenant's GraphQL SDL."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version names a configuration version here, not Django's own version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--version", type=int, help="default: the active version")

    def handle(self, *args, **options):
        try:
            tenant = get_tenant(options["tenant"])
            version = (
                get_version(tenant, options["version"])
                if options["version"]
                else active_version(tenant)
            )
        except (TenantError, ConfigError) as error:
            raise CommandError(f"[{error.code}] {error.message}") from error
        if version is None:
            raise CommandError(f"[no_configuration] {tenant.slug} has published nothing.")
        schema = build_schema(compile_document(version.number, document_of(version)))
        self.stdout.write(str(schema))
