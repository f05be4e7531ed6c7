"""``migrate`` as the owner role, then grant the runtime role its privileges (and mark the
leakproof functions when the owner is a superuser, see tenants/leakproof.py).

The runtime role (the ``default`` alias) owns nothing and cannot run DDL, so migrations default
to the ``owner`` alias.
"""

from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

from tenants import leakproof
from tenants.database import ensure_database_exists
from tenants.migrating import default_is
from tenants.privileges import grant_runtime_privileges


class Command(DjangoMigrate):
    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(database="owner")

    def execute(self, *args, **options):
        if options.get("database", "owner") == "owner" and ensure_database_exists("owner"):
            self.stdout.write("Created the database.")
        return super().execute(*args, **options)

    def handle(self, *args, **options):
        with default_is(options["database"]):
            super().handle(*args, **options)
        if options["database"] == "owner" and not options.get("plan"):
            role = grant_runtime_privileges()
            if options["verbosity"] >= 1:
                self.stdout.write(f"Granted the runtime role {role!r} its privileges.")
            owner = connections["owner"]
            with owner.cursor() as cursor:
                marked = leakproof.mark_if_superuser(cursor)
            if not marked and owner.settings_dict.get("EMBEDDED"):
                from config.embedded_db import mark_leakproof

                settings = owner.settings_dict
                marked = mark_leakproof(settings["HOST"], settings["PORT"], settings["NAME"])
            if not marked and options["verbosity"] >= 1:
                self.stdout.write(
                    "Not a superuser: the leakproof marks are missing (check tenants.W001)."
                )
