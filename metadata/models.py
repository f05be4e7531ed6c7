from django.conf import settings
from django.db import models

from tenants.models import TenantOwned


class ConfigDraft(TenantOwned):
    """The one configuration a tenant's consultants edit before publishing it.

    ``etag`` changes with every save; a save that names an older etag is refused, so two
    consultants never overwrite each other silently.
    """

    document = models.JSONField()
    source = models.TextField(help_text="The document as written, keys in the author's order.")
    etag = models.CharField(max_length=32)
    base_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="The version the draft started from."
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="config_draft_one")]


class ConfigVersion(TenantOwned):
    """A published configuration: immutable (a trigger refuses updates and deletes).

    The active version of a tenant is its highest number; rolling back publishes an old
    document as a new number. Each row is also the audit of its publish: who, when, from which
    version, the diff and the impact report.
    """

    number = models.PositiveIntegerField()
    document = models.JSONField()
    source = models.TextField(help_text="The document as written, keys in the author's order.")
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(auto_now_add=True)
    based_on = models.PositiveIntegerField(null=True, blank=True)
    rollback_of = models.PositiveIntegerField(null=True, blank=True)
    diff = models.JSONField(default=dict)
    impact = models.JSONField(default=dict)
    strategies = models.JSONField(default=list)
    comment = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="config_version_number"),
        ]
        ordering = ["number"]
