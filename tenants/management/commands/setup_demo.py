"""Create the demo tenant once, with the CRM pack, sign-ins for an administrator, a consultant, a
sales manager and a rep, and the small demo dataset; print how to sign in. Later runs reuse it."""

import json
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from records.demo_data import fill
from tenants.models import Tenant
from tenants.services import add_member, create_tenant

DEMO_SLUG = "demo"
DEMO_EMAIL = "admin@demo.example.com"
# (e-mail, roles, reports to): the people a demo needs
PEOPLE = (
    ("consultant@demo.example.com", ["consultant"], None),
    ("manager@demo.example.com", ["sales_manager"], None),
    ("rep@demo.example.com", ["sales_rep"], "manager@demo.example.com"),
)


class Command(BaseCommand):
    help = "Create the demo tenant (CRM pack, people, demo data) once and print the sign-ins."

    def handle(self, *args, **options):
        credentials_file = settings.VAR_DIR / "demo-admin.json"
        if credentials_file.exists():
            credentials = json.loads(credentials_file.read_text())
        else:
            credentials = {"email": DEMO_EMAIL, "password": secrets.token_urlsafe(12)}
        if not Tenant.objects.filter(slug=DEMO_SLUG).exists():
            tenant = create_tenant(
                slug=DEMO_SLUG,
                name="Demo Company",
                pack="crm",
                admin_email=credentials["email"],
                admin_password=credentials["password"],
            )
            users = {}
            for email, roles, manager in PEOPLE:
                users[email] = add_member(
                    tenant,
                    email=email,
                    password=credentials["password"],
                    roles=roles,
                    manager=users.get(manager),
                )
            credentials_file.write_text(json.dumps(credentials))
            credentials_file.chmod(0o600)
            report = fill(tenant, scale="small")
            self.stdout.write(
                f"Created the demo tenant with {sum(report.created.values())} demo records."
            )
        people = [credentials["email"], *(email for email, _roles, _manager in PEOPLE)]
        self.stdout.write(
            f"\n  Sign in at  {settings.PUBLIC_URL}/app/login/ (the studio: /studio/)\n"
            + "".join(f"  e-mail      {email}\n" for email in people)
            + f"  password    {credentials['password']} (the same for each)\n"
        )
