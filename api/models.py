from django.db import models

from tenants.models import TenantOwned, User


class ApiToken(TenantOwned):
    """A secret an integrator sends as ``Authorization: Bearer <slug>.<secret>``.

    Only a SHA-256 hash of the secret is stored; the slug in front names the tenant, so the token
    is looked up under that tenant's row-level security.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    key_prefix = models.CharField(max_length=8)
    key_hash = models.CharField(max_length=64)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)
    expires = models.DateTimeField(null=True, blank=True)  # None: until revoked

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key_hash"], name="api_token_unique_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"
