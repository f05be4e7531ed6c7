"""The single place where the records service asks what a user may do.

Roles come from the configuration (``roles``: per entity ``create`` and a scope for ``read``,
``update`` and ``delete``; per field ``hidden``, ``read`` or ``edit``; special permissions), the
user's roles, teams and reporting line from the tenant's data. A user holding several roles gets
the most permissive of each: the union of their scopes, the widest access per field.

Scopes become SQL over the records table (``scope_sql``), so lists, counts, aggregates, search
and single-record checks all apply the very same condition:

- ``own``: records the user owns;
- ``team``: records owned by the user or anyone sharing a team with them, or assigned to one of
  their teams;
- ``subordinates``: records owned by the user or anyone reporting to them, however indirectly;
- ``all`` / ``none``.

Sharing widens what the object-level permission allows, never beyond it (as in Salesforce): a
record shared with the user (or one of their teams), or matching a sharing rule for one of their
roles or teams, is readable when the user may read some records of the entity, and editable
(``edit`` shares and rules) when they may update some.

Records the user may not read do not exist for them: the errors are the same as for a missing
record, so nothing leaks whether a record exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from records.errors import RecordError, RecordErrorCode

ACTIONS = ("read", "update", "delete")
FIELD_RANK = {"hidden": 0, "read": 1, "edit": 2}


@dataclass(frozen=True)
class Grant:
    """What one role grants on one entity."""

    role: str
    create: bool
    scopes: dict[str, str]  # action -> scope
    fields: dict[str, str]  # field key -> hidden / read / edit (others: edit)


@dataclass
class EntityAccess:
    """What the user's roles grant together on one entity."""

    grants: list[Grant]
    create: bool = False
    scopes: dict[str, set[str]] = field(default_factory=dict)  # action -> scopes (no "none")
    fields: dict[str, str] = field(default_factory=dict)  # field key -> widest access
    hidden: frozenset[str] = frozenset()  # the entity's fields the user may not see

    def field_access(self, key: str) -> str:
        if not self.grants:
            return "hidden"
        return self.fields.get(key, "edit")


class Principal:
    """Who the user is in the tenant. The roles come with the first question; teams,
    teammates and the reporting tree only when a scope or a share needs them (an
    administrator's "all" never does)."""

    def __init__(self, user_id: int | None, roles: tuple[str, ...] = ()):
        self.user_id = user_id
        self.roles = roles
        self._details: tuple | None = None

    @classmethod
    def load(cls, user) -> Principal:
        user_id = getattr(user, "pk", user)
        if user_id is None:
            return cls(None)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT roles FROM tenants_membership WHERE user_id = %s AND is_active",
                [user_id],
            )
            row = cursor.fetchone()
        # Not (or no longer) a member: no role, no access.
        return cls(user_id, tuple(row[0]) if row else ())

    @property
    def team_ids(self) -> tuple[int, ...]:
        return self._load_details()[0]

    @property
    def team_keys(self) -> tuple[str, ...]:
        return self._load_details()[1]

    @property
    def teammate_ids(self) -> tuple[int, ...]:
        """The user and everyone sharing a team with them."""
        return self._load_details()[2]

    @property
    def subordinate_ids(self) -> tuple[int, ...]:
        """The user and everyone reporting to them, however indirectly."""
        return self._load_details()[3]

    def _load_details(self) -> tuple:
        if self._details is None:
            self._details = ((), (), (self.user_id,), (self.user_id,))
            if self.user_id is not None:
                with connection.cursor() as cursor:
                    cursor.execute(DETAILS_SQL, [self.user_id] * 3)
                    teams, keys, teammates, reports = cursor.fetchone()
                self._details = (tuple(teams), tuple(keys), tuple(teammates), tuple(reports))
        return self._details


# One query, inside the tenant's transaction (row-level security keeps it to the tenant).
DETAILS_SQL = """
WITH RECURSIVE reports(user_id) AS (
    SELECT %s::bigint
    UNION
    SELECT m.user_id FROM tenants_membership m JOIN reports ON m.manager_id = reports.user_id
     WHERE m.is_active
), my_teams AS (
    SELECT t.id, t.key FROM tenants_team t JOIN tenants_teammember tm ON tm.team_id = t.id
     WHERE tm.user_id = %s
)
SELECT ARRAY(SELECT id FROM my_teams ORDER BY id),
       ARRAY(SELECT key FROM my_teams ORDER BY key),
       ARRAY(SELECT tm.user_id FROM tenants_teammember tm
              WHERE tm.team_id IN (SELECT id FROM my_teams) UNION SELECT %s::bigint ORDER BY 1),
       ARRAY(SELECT user_id FROM reports ORDER BY 1)
"""


def entity_access(config, roles: tuple[str, ...], entity_key: str) -> EntityAccess:
    grants = []
    for role_key in roles:
        role = config.roles.get(role_key)
        if role is None:
            continue  # a role the configuration no longer has grants nothing
        entities = role.get("entities") or {}
        spec = entities.get(entity_key, entities.get("*"))
        if spec is None:
            continue
        grants.append(
            Grant(
                role=role_key,
                create=bool(spec.get("create", False)),
                scopes={action: spec.get(action, "none") for action in ACTIONS},
                fields=dict(spec.get("fields") or {}),
            )
        )
    access = EntityAccess(grants=grants)
    access.create = any(grant.create for grant in grants)
    for action in ACTIONS:
        access.scopes[action] = {
            grant.scopes[action] for grant in grants if grant.scopes[action] != "none"
        }
    for grant in grants:
        for key in grant.fields:
            widest = max((g.fields.get(key, "edit") for g in grants), key=FIELD_RANK.__getitem__)
            access.fields[key] = widest
    return access


class Permissions:
    """The user's permissions in one tenant, resolved once per service (a request or a task)
    and per configuration version."""

    def __init__(self, tenant, user, *, roles: list[str] | None = None):
        """``roles``: the user's roles when the caller has just read their membership."""
        self.tenant = tenant
        self.user = user
        self._principal: Principal | None = None
        if roles is not None and user is not None:
            self._principal = Principal(getattr(user, "pk", user), tuple(roles))
        self._access: dict[tuple[int, str], EntityAccess] = {}

    # -- who ------------------------------------------------------------------------------

    @property
    def principal(self) -> Principal:
        if self._principal is None:
            self._principal = Principal.load(self.user)
        return self._principal

    def access(self, config, entity) -> EntityAccess:
        key = (config.version, entity.key)
        if key not in self._access:
            access = entity_access(config, self.principal.roles, entity.key)
            access.hidden = frozenset(
                k for k in entity.fields if access.field_access(k) == "hidden"
            )
            self._access[key] = access
        return self._access[key]

    def has(self, config, permission: str) -> bool:
        """A special permission (export, import, mass_update, configure, view_audit)."""
        return config.grants(self.principal.roles, permission)

    # -- records --------------------------------------------------------------------------

    def scope_sql(self, config, entity, action: str, alias: str = "r") -> tuple[str, list]:
        """SQL over ``alias`` true for the records the user may ``action``; for ``update`` and
        ``delete`` it includes the read scope (what cannot be read cannot be changed)."""
        access = self.access(config, entity)
        if action != "read":
            sql, params = self.scope_sql(config, entity, "read", alias)
            own_sql, own_params = self._action_sql(config, entity, access, action, alias)
            return f"({sql}) AND ({own_sql})", [*params, *own_params]
        return self._action_sql(config, entity, access, action, alias)

    def _action_sql(self, config, entity, access: EntityAccess, action, alias) -> tuple:
        if "all" in access.scopes[action]:
            return "TRUE", []
        parts = self.scope_parts(config, entity, action, alias, access)
        if not parts:
            return "FALSE", []
        if any(sql == "TRUE" for _, sql, _ in parts):
            return "TRUE", []
        return (
            " OR ".join(f"({sql})" for _, sql, _ in parts),
            [param for _, _, params in parts for param in params],
        )

    def scope_parts(self, config, entity, action: str, alias: str = "r", access=None) -> list:
        """(why, SQL, params) for each way the user may ``action`` records of the entity (not
        including the read scope for update and delete): what ``explain`` names."""
        access = access or self.access(config, entity)
        scopes = access.scopes[action]
        if not scopes:
            return []
        me = self.principal
        roles = {
            scope: sorted(g.role for g in access.grants if g.scopes[action] == scope)
            for scope in scopes
        }
        owners = owner_columns(entity, alias)
        parts = []
        for scope in sorted(scopes):
            why = f"scope {scope} of {action} (role {', '.join(roles[scope])})"
            if scope == "all":
                parts.append((why, "TRUE", []))
            elif scope == "own":
                sql = " OR ".join(f"{owner} = %s" for owner in owners)
                parts.append((why, sql, [me.user_id] * len(owners)))
            elif scope == "team":
                sql = " OR ".join(f"{owner} = ANY(%s)" for owner in owners)
                parts.append(
                    (
                        why,
                        f"({sql} OR {alias}.team_id = ANY(%s))",
                        [*[list(me.teammate_ids)] * len(owners), list(me.team_ids)],
                    )
                )
            elif scope == "subordinates":
                sql = " OR ".join(f"{owner} = ANY(%s)" for owner in owners)
                parts.append((why, sql, [list(me.subordinate_ids)] * len(owners)))
        if action in ("read", "update"):
            edit = "" if action == "read" else " AND s.access = 'edit'"
            parts.append(
                (
                    "the record is shared with the user or one of their teams"
                    + (" to edit" if action == "update" else ""),
                    f"{alias}.id IN (SELECT s.record_id FROM records_recordshare s WHERE "
                    f"(s.user_id = %s OR s.team_id = ANY(%s)){edit})",
                    [me.user_id, list(me.team_ids)],
                )
            )
            for rule in self.sharing_rule_keys(config, entity, action):
                parts.append(
                    (f"sharing rule {rule}", f"{alias}.shared_by_rules && %s::varchar[]", [[rule]])
                )
        return parts

    def sharing_rule_keys(self, config, entity, action: str) -> list[str]:
        """The sharing rules of the entity that reach the user, for reading or editing."""
        me = self.principal
        return sorted(
            rule.key
            for rule in config.sharing_rules.get(entity.key, ())
            if (action == "read" or rule.access == "edit")
            and (rule.roles & set(me.roles) or (rule.teams and rule.teams & set(me.team_keys)))
        )

    def read_scope(self, config, entity) -> tuple[str, list]:
        return self.scope_sql(config, entity, "read")

    def guard(self, config) -> UserGuard:
        return UserGuard(self, config)

    def may_read(self, config, entity) -> bool:
        """Whether the user may read any record of the entity (navigation, dashboards)."""
        return bool(self.access(config, entity).scopes["read"])

    def check_readable(self, config, entity) -> None:
        """Lists, counts and aggregates of an entity the user may read nothing of are refused
        (the entity itself is no secret: the configuration names it)."""
        if not self.may_read(config, entity):
            raise denied(f"You may not read {entity.plural_key}.")

    def check_create(self, config, entity) -> None:
        if not self.access(config, entity).create:
            raise denied(f"You may not create {entity.plural_key}.")

    def check_record(self, config, entity, record_id: int, action: str) -> None:
        """Raise not_found when the user may not read the record, permission_denied when they
        may read but not ``action`` it."""
        read_sql, read_params = self.scope_sql(config, entity, "read")
        action_sql, action_params = (
            self._action_sql(config, entity, self.access(config, entity), action, "r")
            if action != "read"
            else ("TRUE", [])
        )
        with connection.cursor() as cursor:  # one round trip for both answers
            cursor.execute(
                f"SELECT ({read_sql}), ({action_sql}) FROM records_record r WHERE r.id = %s",
                [*read_params, *action_params, record_id],
            )
            row = cursor.fetchone()
        if row is None or not row[0]:
            raise RecordError(RecordErrorCode.NOT_FOUND, f"There is no {entity.key} {record_id}.")
        if not row[1]:
            raise denied(f"You may not {action} this {entity.key}.")

    # -- fields ---------------------------------------------------------------------------

    def hidden_fields(self, config, entity) -> frozenset[str]:
        """The fields the user may not see (computed with the entity's access, once)."""
        return self.access(config, entity).hidden

    def visible_fields(self, config, entity) -> set[str]:
        return set(entity.fields) - self.hidden_fields(config, entity)

    def field_access(self, config, entity, key: str) -> str:
        return self.access(config, entity).field_access(key)


@dataclass(frozen=True)
class UserGuard:
    """The query compiler's view of the user's permissions (records/query.py OpenGuard)."""

    permissions: Permissions
    config: object

    def hidden(self, entity) -> frozenset[str]:
        return self.permissions.hidden_fields(self.config, entity)

    def scope(self, entity, alias: str) -> tuple[str, list]:
        return self.permissions.scope_sql(self.config, entity, "read", alias)


def denied(message: str) -> RecordError:
    return RecordError(RecordErrorCode.PERMISSION_DENIED, message)


class SystemPermissions(Permissions):
    """The platform acting on its own (workflow actions, as Salesforce's system context): every
    record and field of the tenant; writes carry no user."""

    def __init__(self, tenant):
        super().__init__(tenant, None)
        self._principal = Principal(None, ())

    def access(self, config, entity) -> EntityAccess:
        key = (config.version, entity.key)
        if key not in self._access:
            scopes = dict.fromkeys(ACTIONS, "all")
            access = EntityAccess(grants=[Grant("system", True, scopes, {})], create=True)
            access.scopes = {action: {"all"} for action in ACTIONS}
            self._access[key] = access
        return self._access[key]

    def has(self, config, permission: str) -> bool:
        return True


def owner_columns(entity, alias: str) -> list[str]:
    """The SQL of who owns a record for the scopes: its owner, and the users its
    ``owner_fields`` name (a sales target's rep)."""
    from records.sql_fields import quote_literal_key

    extra = [
        f"({alias}.data->>{quote_literal_key(key)})::bigint"
        for key in entity.options.get("owner_fields", ())
    ]
    return [f"{alias}.owner_id", *extra]
