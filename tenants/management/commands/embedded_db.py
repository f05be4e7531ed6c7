"""Status, start and stop of the embedded PostgreSQL under VAR_DIR."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config import embedded_db


class Command(BaseCommand):
    help = "Manage the embedded PostgreSQL (used when DATABASE_URL is unset)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["status", "stop", "url"])

    def handle(self, *args, **options):
        if os.environ.get("DATABASE_URL"):
            raise CommandError("DATABASE_URL is set: the embedded PostgreSQL is not in use.")
        action = options["action"]
        if action == "stop":
            stopped = embedded_db.stop(settings.VAR_DIR)
            self.stdout.write("stopped" if stopped else "not running")
            return
        server = embedded_db.status(settings.VAR_DIR)
        if server is None:
            self.stdout.write("not running")
        elif action == "url":
            database = settings.DATABASES["default"]
            self.stdout.write(
                f"postgresql://{database['USER']}@/{database['NAME']}"
                f"?host={server.socket_dir}&port={server.port}"
            )
        else:
            self.stdout.write(f"running, socket in {server.socket_dir}, port {server.port}")
