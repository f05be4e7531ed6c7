"""Record storage: one table of typed JSON documents, and the side tables that keep it honest.

See ``docs/decisions/0003-record-storage.md`` for why records live in one ``jsonb`` table.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from tenants.models import TenantLed, TenantOwned

USER = settings.AUTH_USER_MODEL


class Record(TenantLed):
    """One record of any entity. ``data`` holds the field values in their stored form."""

    entity = models.CharField(max_length=63)
    data = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)
    owner = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The team the record belongs to, if any ("team" scopes).
    team = models.ForeignKey(
        "tenants.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # scopes filter a tenant's records by it; never looked up alone
    )
    # Keys of the configuration's sharing rules whose condition the record meets, kept by the
    # records service on every write (a condition in CEL cannot be evaluated in SQL).
    shared_by_rules = ArrayField(models.CharField(max_length=63), default=list, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "entity", "id"], name="record_entity_id"),
            models.Index(fields=["tenant", "entity", "updated_at"], name="record_entity_updated"),
        ]


class UniqueValue(TenantLed):
    """One row per value of a unique field: PostgreSQL's unique constraint makes it race-free."""

    entity = models.CharField(max_length=63)
    field = models.CharField(max_length=63)
    value = models.TextField()
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "entity", "field", "value"], name="unique_value_per_field"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "record"], name="unique_value_record")]


class Reference(TenantLed):
    """A lookup from one record to another, so deletes can find what points at a record."""

    source = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    field = models.CharField(max_length=63)
    target = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "source", "field", "target"], name="reference_unique"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "target"], name="reference_target")]


class Counter(TenantLed):
    """The last number issued by an autonumber field, per period (``YYYY`` patterns restart)."""

    entity = models.CharField(max_length=63)
    field = models.CharField(max_length=63)
    period = models.CharField(max_length=16, blank=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "entity", "field", "period"], name="counter_unique"
            ),
        ]


class AuditEntry(TenantLed):
    """Who changed what and when, field by field, for entities with ``track_history``.

    ``record_id`` is not a foreign key: the history outlives a purged record.
    """

    record_id = models.BigIntegerField()
    entity = models.CharField(max_length=63)
    action = models.CharField(max_length=16)
    user = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    changes = models.JSONField(default=list)

    class Meta:
        indexes = [models.Index(fields=["tenant", "record_id", "at"], name="audit_record")]
        ordering = ["at", "id"]


class SchemaJob(TenantOwned):
    """A data migration a publish started: a rename, a type conversion or a purge of a field.

    Runs in batches from a Celery worker; ``last_id`` is committed with each batch, so a worker
    that dies resumes where the last batch ended.
    """

    class Kind(models.TextChoices):
        RENAME_FIELD = "rename_field"
        CONVERT_FIELD = "convert_field"
        PURGE_FIELD = "purge_field"
        RENAME_ENTITY = "rename_entity"
        RESHARE = "reshare"  # sharing rules changed: re-evaluate them over the records

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    entity = models.CharField(max_length=63)
    params = models.JSONField(default=dict)
    config_version = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    last_id = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    @property
    def percent(self) -> float:
        return 100.0 if not self.total else round(100.0 * self.processed / self.total, 1)


class SchemaJobFailure(TenantOwned):
    """A value a conversion could not convert: removed from the record, kept here."""

    job = models.ForeignKey(SchemaJob, on_delete=models.CASCADE, related_name="failures")
    record_id = models.BigIntegerField()
    value = models.JSONField(null=True)
    reason = models.TextField()

    class Meta:
        indexes = [models.Index(fields=["tenant", "job"], name="schema_job_failure_job")]


class FieldIndex(models.Model):
    """A field index shared by every tenant whose configuration indexes the same field of the
    same entity key with the same SQL expression, and the tenants that asked for it; or, with
    ``kind`` statistics, extended statistics on a grouping field's expression.

    A platform table (no tenant column, no row-level security): only the owner role writes it,
    from ``records.indexes.sync_indexes``; the index is dropped when no tenant wants it any more.
    """

    INDEX, STATISTICS = "index", "statistics"

    name = models.CharField(primary_key=True, max_length=63)
    kind = models.CharField(
        max_length=16, choices=[(INDEX, "index"), (STATISTICS, "statistics")], default=INDEX
    )
    entity = models.CharField(max_length=63)
    field_key = models.CharField(max_length=63)
    statement = models.TextField()
    tenant_ids = ArrayField(models.BigIntegerField(), default=list)

    def __str__(self):
        return f"{self.name} ({self.entity}.{self.field_key})"


class RecordShare(TenantLed):
    """One record shared with one user or one team, to read or to edit."""

    READ, EDIT = "read", "edit"

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(
        "tenants.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    access = models.CharField(max_length=8, choices=[(READ, "read"), (EDIT, "edit")])
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=True) ^ models.Q(team__isnull=True),
                name="share_user_xor_team",
            ),
            models.UniqueConstraint(
                fields=["tenant", "record", "user"],
                condition=models.Q(user__isnull=False),
                name="share_unique_user",
            ),
            models.UniqueConstraint(
                fields=["tenant", "record", "team"],
                condition=models.Q(team__isnull=False),
                name="share_unique_team",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "user"], name="share_user"),
            models.Index(fields=["tenant", "team"], name="share_team"),
        ]

    def __str__(self) -> str:
        return f"record {self.record_id} shared ({self.access})"
