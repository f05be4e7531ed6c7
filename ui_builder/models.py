from django.conf import settings
from django.db import models

from tenants.models import Team, TenantOwned


class SavedView(TenantOwned):
    """A list as a user left it (search, conditions, sort), kept under a name: private to its
    owner, or shared with one of the owner's teams."""

    entity = models.CharField(max_length=63)
    name = models.CharField(max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="saved_views"
    )
    state = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "owner", "entity", "name"], name="saved_view_unique_name"
            )
        ]
        indexes = [models.Index(fields=["tenant", "entity"], name="saved_view_entity")]
