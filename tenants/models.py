from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.context import current_tenant_id


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        if not email:
            raise ValueError("Users need an e-mail address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in. Users are global; what they may do lives in their memberships."""

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        choices=[("en", "English"), ("zh-hans", "简体中文")],
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    def __str__(self) -> str:
        return self.email


class Tenant(models.Model):
    """A company. Its slug names it in URLs, subdomains and API tokens."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        SUSPENDED = "suspended", _("suspended")

    slug = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    pack = models.CharField(
        max_length=64,
        blank=True,
        help_text="The configuration pack the tenant was provisioned from.",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "suspended"]), name="tenant_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED


class TenantOwned(models.Model):
    """Base of every tenant-owned table: a ``tenant_id`` column under row-level security.

    Its migration must apply ``tenants.rls.EnableTenantIsolation``; a test reads the catalog and
    fails for any table with a ``tenant_id`` column that lacks forced row-level security.
    """

    tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, default=current_tenant_id, related_name="+"
    )

    class Meta:
        abstract = True


class TenantLed(TenantOwned):
    """A high-volume tenant-owned table (the records engine's, thousands of rows a second in
    bulk) whose own indexes and unique keys all begin with ``tenant_id``.

    Those indexes serve every lookup by tenant, so the foreign key gets no index of its own;
    and no database constraint either: the row-level security policy's ``WITH CHECK`` already
    pins ``tenant_id`` to the transaction's tenant, which ``tenant_context`` only sets to a
    tenant that exists, so the constraint's per-row check at commit proved nothing more while
    costing a lookup per row. Tenants are never deleted while they own rows: ``PROTECT`` is
    still applied by Django when a tenant is deleted through the ORM."""

    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.PROTECT,
        default=current_tenant_id,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        abstract = True


class Membership(TenantOwned):
    """A user's place in one tenant, with the keys of the roles they hold there."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    roles = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    # The reporting line: whom this user reports to in this tenant ("subordinates" scopes).
    manager = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in tenant {self.tenant_id}"


class Team(TenantOwned):
    """A group of users in one tenant ("team" scopes, sharing with a team)."""

    key = models.CharField(max_length=63)
    name = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="team_unique_key")]

    def __str__(self) -> str:
        return self.name


class TeamMember(TenantOwned):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "team", "user"], name="team_member_unique"),
        ]
        indexes = [models.Index(fields=["tenant", "user"], name="team_member_user")]

    def __str__(self) -> str:
        return f"{self.user_id} in team {self.team_id}"
