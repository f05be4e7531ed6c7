"""Create the demo tenant once and print how to sign in; later runs reuse it."""

import json
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from tenants.models import Tenant
from tenants.services import create_tenant

DEMO_SLUG = "demo"
DEMO_EMAIL = "admin@demo.example.com"


class Command(BaseCommand):
    help = "Create the demo tenant with an administrator (once) and print the sign-in details."

    def handle(self, *args, **options):
        credentials_file = settings.VAR_DIR / "demo-admin.json"
        if credentials_file.exists():
            credentials = json.loads(credentials_file.read_text())
        else:
            credentials = {"email": DEMO_EMAIL, "password": secrets.token_urlsafe(12)}
        if not Tenant.objects.filter(slug=DEMO_SLUG).exists():
            create_tenant(
                slug=DEMO_SLUG,
                name="Demo Company",
                pack="crm",
                admin_email=credentials["email"],
                admin_password=credentials["password"],
            )
            credentials_file.write_text(json.dumps(credentials))
            credentials_file.chmod(0o600)
            self.stdout.write("Created the demo tenant.")
        self.stdout.write(
            f"\n  Sign in at  {settings.PUBLIC_URL}/app/login/\n"
            f"  e-mail      {credentials['email']}\n"
            f"  password    {credentials['password']}\n"
        )
