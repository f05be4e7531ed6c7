from django.core.management.base import BaseCommand, CommandError

from api.errors import ApiError
from api.tokens import issue_token, revoke_tokens
from tenants.errors import TenantError
from tenants.models import User
from tenants.services import get_tenant


class Command(BaseCommand):
    help = "Issue an API token for a member of a tenant and print it (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="integration")
        parser.add_argument(
            "--expires-in", type=int, metavar="DAYS", help="expire after DAYS (default: never)"
        )
        parser.add_argument(
            "--revoke", action="store_true", help="revoke the user's tokens instead of issuing"
        )

    def handle(self, *args, **options):
        try:
            tenant = get_tenant(options["tenant"])
        except TenantError as error:
            raise CommandError(f"[{error.code}] {error.message}") from error
        user = User.objects.filter(email=options["email"].strip().lower()).first()
        if user is None:
            raise CommandError(f"[user_unknown] No user has the e-mail {options['email']!r}.")
        if options["revoke"]:
            revoked = revoke_tokens(tenant, user)
            self.stdout.write(f"Revoked {revoked} token(s) of {user.email} in {tenant.slug}.")
            return
        try:
            token = issue_token(
                tenant, user, options["name"], expires_in_days=options["expires_in"]
            )
        except ApiError as error:
            raise CommandError(f"[{error.code}] {error.message}") from error
        self.stdout.write(token)
