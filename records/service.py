"""The records service: the one road into record data.

GraphQL resolvers, form views, imports, workflow actions and commands all call it, so
normalization, validation rules, uniqueness, references, audit, permissions (records/
permissions.py) and (next) workflow triggers cannot be skipped. Every method runs in the
tenant's transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from metadata.compiled import CompiledConfig, CompiledEntity, active_config
from metadata.fieldtypes import FieldValueError
from metadata.fieldtypes.computed import AUTONUMBER_TOKEN
from records import related_values, unique_groups
from records.errors import FieldError, RecordError, RecordErrorCode
from records.models import AuditEntry, Counter, Record, Reference, UniqueValue
from records.permissions import Permissions, SystemPermissions, denied
from records.query import (
    Page,
    PageStatement,
    QueryCompiler,
    QueryError,
    Sort,
    fetch_page,
    page_statement,
)
from records.rollups import refresh_for_child, rollups_fed_by
from records.sharing import matching_sharing_rules
from records.values import (
    cel_record,
    evaluate,
    from_cel,
    normalize_input,
    reads_of,
    system_values,
)
from tenants.context import tenant_context
from ui_builder import enforcement as form_rules
from workflows import approvals, state_machines


@dataclass(frozen=True)
class PagePlan:
    """A page's statement and what reading its rows needs (RecordService.page_plan)."""

    statement: PageStatement
    config: CompiledConfig
    entity: CompiledEntity
    hidden: frozenset[str]
    backwards: bool  # rows come in reverse order, to be turned around
    cursor_given: bool  # after (forwards) or before (backwards)


@dataclass(frozen=True)
class RecordView:
    """A record as the service hands it out: values normalized, system fields apart."""

    id: int
    entity: str
    version: int
    values: dict[str, Any]
    owner_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None
    created_by_id: int | None = None


class RecordService:
    def __init__(
        self,
        tenant,
        user=None,
        *,
        permissions: Permissions | None = None,
        config: CompiledConfig | None = None,
    ):
        """``config``: the version to work with, when the caller holds one (a GraphQL request
        built its schema from it); otherwise the active version, read on each call."""
        self.tenant = tenant
        self.user = user
        self.permissions = permissions or Permissions(tenant, user)
        self.config = config

    def configuration(self) -> CompiledConfig:
        """The configuration this service works with (pinned, or the active version)."""
        return self._config()

    def entity(self, key: str, config: CompiledConfig | None = None) -> CompiledEntity:
        """An entity of the configuration; unknown_entity otherwise."""
        return self._entity(key, config)

    def stored(
        self,
        entity_key: str,
        record_id: int,
        *,
        action: str = "read",
        lock: bool = False,
        include_deleted: bool = False,
    ) -> Record:
        """The stored record, for readers that evaluate conditions over it (workflows), once
        the user may ``action`` it: not_found / permission_denied as for any other call."""
        with tenant_context(self.tenant, user=self.user):
            config = self._config()
            entity = self._entity(entity_key, config)
            record = self._fetch(entity, record_id, include_deleted=include_deleted, lock=lock)
            self.permissions.check_record(config, entity, record.pk, action)
            return record

    @classmethod
    def system(cls, tenant) -> RecordService:
        """The service as the platform itself (workflow actions): no user, every record."""
        return cls(tenant, None, permissions=SystemPermissions(tenant))

    # -- reading ---------------------------------------------------------------------------

    def get(self, entity_key: str, record_id: int, *, include_deleted: bool = False) -> RecordView:
        with tenant_context(self.tenant, user=self.user):
            config = self._config()
            entity = self._entity(entity_key, config)
            record = self._fetch(entity, record_id, include_deleted=include_deleted)
            self.permissions.check_record(config, entity, record.pk, "read")
            return self._view(entity, record, config)

    def query(
        self,
        entity_key: str,
        *,
        filter_tree: dict | None = None,
        order_by: list[dict] | None = None,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
        with_total: bool = False,
        last: int | None = None,
        before: str | None = None,
    ) -> Page:
        """One page of live records matching the filter, in one SQL statement (two with the
        total); ``rows`` are RecordViews. Forwards with ``first`` (default 50) rows ``after``
        a cursor, or backwards with the ``last`` rows ``before`` one (still in sort order)."""
        with tenant_context(self.tenant, user=self.user):
            plan = self.page_plan(
                entity_key,
                filter_tree=filter_tree,
                order_by=order_by,
                first=first,
                after=after,
                search=search,
                with_total=with_total,
                last=last,
                before=before,
            )
            page = fetch_page(plan.statement)
            if plan.backwards:
                page.has_previous, page.has_next = page.has_next, plan.cursor_given
                page.rows.reverse()
                page.cursors.reverse()
                page.end_cursor = page.cursors[-1] if page.cursors else None
            else:
                page.has_previous = plan.cursor_given
            page.start_cursor = page.cursors[0] if page.cursors else None
            page.rows = [view_of(plan.entity, row, plan.hidden) for row in page.rows]
            return page

    def page_plan(
        self,
        entity_key: str,
        *,
        filter_tree: dict | None = None,
        order_by: list[dict] | None = None,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
        with_total: bool = False,
        last: int | None = None,
        before: str | None = None,
    ) -> PagePlan:
        """The SQL of the page ``query`` returns, with the user's permissions in it, not yet
        run: for readers that shape the rows in SQL themselves (the compiled GraphQL path)."""
        backwards = last is not None or before is not None
        if backwards and (first is not None or after is not None):
            raise QueryError("page forwards (first, after) or backwards (last, before)", "last")
        with tenant_context(self.tenant, user=self.user):
            config = self._config()
            entity = self._entity(entity_key, config)
            self.permissions.check_readable(config, entity)
            compiler = QueryCompiler(config, entity, guard=self.permissions.guard(config))
            sorts = [self._sort(item, index) for index, item in enumerate(order_by or [])]
            if backwards:
                # The same keyset walked the other way: every key reversed, empty values too.
                sorts = [
                    Sort(
                        sort.field,
                        "desc" if sort.direction == "asc" else "asc",
                        "last" if sort.nulls == "first" else "first",
                    )
                    for sort in sorts
                ]
                compiler.default_direction = "desc"
            statement = page_statement(
                compiler,
                filter_tree=filter_tree,
                sorts=sorts,
                first=size if (size := last if backwards else first) is not None else 50,
                after=before if backwards else after,
                search=search,
                with_total=with_total,
                scope=self.permissions.read_scope(config, entity),
            )
            return PagePlan(
                statement=statement,
                config=config,
                entity=entity,
                hidden=self._hidden(config, entity),
                backwards=backwards,
                cursor_given=(before if backwards else after) is not None,
            )

    def read_scope(self, config: CompiledConfig, entity_key: str, alias: str) -> tuple[str, list]:
        """SQL over ``alias`` true for the records of the entity the user may read (FALSE
        when they may read none): for a reader following a lookup in SQL."""
        entity = self._entity(entity_key, config)
        return self.permissions.scope_sql(config, entity, "read", alias)

    def hidden_fields(self, config: CompiledConfig, entity_key: str) -> frozenset[str]:
        return self._hidden(config, self._entity(entity_key, config))

    # -- files -----------------------------------------------------------------------------

    def store_file(self, entity_key: str, field_key: str, upload) -> dict:
        """Keep an uploaded file (a Django ``File``) for a file field the user may write on
        some record of the entity; the value to give ``create`` / ``update``. Refused with
        the field's error (file_too_large, file_type_refused, file_empty), nothing kept,
        when the field does not take it. A file no record comes to hold is deleted by
        ``clean_files`` (records/files.py)."""
        from records import files

        with tenant_context(self.tenant, user=self.user):
            config = self._config()
            entity = self._entity(entity_key, config)
            field = entity.fields.get(field_key) if isinstance(field_key, str) else None
            access = self.permissions.access(config, entity)
            if field is None or access.field_access(field_key) == "hidden":
                error = FieldError(field_key, "unknown_field", f"{entity.key} has no field")
                raise RecordError(RecordErrorCode.INVALID, "No such file field.", [error])
            if field.options["type"] != "file":
                error = FieldError(field_key, "not_a_file_field", f"{field_key} takes no file")
                raise RecordError(RecordErrorCode.INVALID, "Not a file field.", [error])
            if access.field_access(field_key) != "edit" or field.options.get("read_only"):
                raise denied(f"You may not write {entity.key}.{field_key}.")
            if not (access.create or access.scopes.get("update")):
                raise denied(f"You may not create or update {entity.plural_key}.")
            try:
                return files.store(self.tenant.pk, field.options, upload)
            except FieldValueError as error:
                raise RecordError(
                    RecordErrorCode.INVALID,
                    f"The file was not kept: {error.message}.",
                    [FieldError(field_key, error.code, error.message)],
                ) from error

    def file_value(self, entity_key: str, record_id: int, field_key: str) -> dict:
        """The file a record holds in a file field, once the user may read the record and the
        field; not_found otherwise (a hidden field, no file, not a file field)."""
        with tenant_context(self.tenant, user=self.user):
            view = self.get(entity_key, record_id)
            field = self._entity(entity_key).fields.get(field_key)
        value = view.values.get(field_key)
        if field is None or field.options["type"] != "file" or not isinstance(value, dict):
            raise RecordError(
                RecordErrorCode.NOT_FOUND, f"{entity_key} {record_id} has no file {field_key!r}."
            )
        return value

    def bulk_create(self, entity_key: str, rows: list[dict], *, batch_size: int = 1000):
        """All rows or none; see records/bulk.py."""
        from records.bulk import BulkWriter

        return BulkWriter(self, batch_size).create(entity_key, rows)

    def bulk_update(self, entity_key: str, rows: list[dict]):
        from records.bulk import BulkWriter

        return BulkWriter(self).update(entity_key, rows)

    def bulk_upsert(self, entity_key: str, rows: list[dict], *, match_on: str):
        from records.bulk import BulkWriter

        return BulkWriter(self).upsert(entity_key, rows, match_on)

    def aggregate(
        self,
        entity_key: str,
        *,
        filter_tree: dict | None = None,
        group_by: list[dict] | None = None,
        metrics: list[dict] | None = None,
        search: str | None = None,
    ) -> list[dict]:
        """Grouped metrics for reports, in one SQL statement (see records/aggregates.py)."""
        from records.aggregates import run_aggregate

        with tenant_context(self.tenant, user=self.user):
            config = self._config()
            entity = self._entity(entity_key, config)
            self.permissions.check_readable(config, entity)
            return run_aggregate(
                QueryCompiler(config, entity, guard=self.permissions.guard(config)),
                filter_tree=filter_tree,
                group_by=group_by or [],
                metrics=metrics or [{"fn": "count"}],
                search=search,
                scope=self.permissions.read_scope(config, entity),
            )

    @staticmethod
    def _sort(item: Any, index: int) -> Sort:
        if (
            not isinstance(item, dict)
            or "field" not in item
            or set(item) - {"field", "direction", "nulls"}
        ):
            raise QueryError("expected {field, direction, nulls}", f"order_by[{index}]")
        direction = item.get("direction", "asc")
        # PostgreSQL's defaults: empty values last ascending, first descending. One index per
        # field (ascending, nulls last) then serves both directions.
        default_nulls = "first" if direction == "desc" else "last"
        return Sort(item["field"], direction, item.get("nulls", default_nulls))

    def history(self, entity_key: str, record_id: int) -> list[AuditEntry]:
        """The record's audit timeline, for users with ``view_audit`` who may read it; changes
        of fields hidden from the user are left out."""
        with tenant_context(self.tenant, user=self.user):
            config = self._config()
            entity = self._entity(entity_key, config)
            record = self._fetch(entity, record_id, include_deleted=True)
            self.permissions.check_record(config, entity, record.pk, "read")
            if not self.permissions.has(config, "view_audit"):
                raise denied("You may not view the history of records (view_audit).")
            hidden = self._hidden(config, entity)
            entries = list(AuditEntry.objects.filter(record_id=record.pk).select_related("user"))
            for entry in entries:
                entry.changes = [c for c in entry.changes if c.get("field") not in hidden]
            return entries

    # -- writing ---------------------------------------------------------------------------

    def create(self, entity_key: str, values: dict, *, owner=None, team=None) -> RecordView:
        """A new record owned by ``owner`` (default: the user), in ``team`` (a team key) if
        given."""
        with tenant_context(self.tenant, user=self.user, savepoint=True):
            config = self._config()
            entity = self._entity(entity_key, config)
            self.permissions.check_create(config, entity)
            values, refused = self._writable(config, entity, values)
            data, errors = normalize_input(entity, values)
            errors = refused + errors
            approvals.check_parents_unlocked(config, entity, self.permissions, data)
            self._apply_defaults(
                entity, data, values, related_values.for_record(config, entity, data)
            )
            now = timezone.now()
            record = Record(
                tenant=self.tenant,
                entity=entity.key,
                version=1,
                owner=owner or self.user,
                created_by=self.user,
                updated_by=self.user,
                created_at=now,
                updated_at=now,
                team=self._team(team),
            )
            transitions: list = []
            data = self._complete(
                config, entity, record, data, errors, transitions=transitions, given=set(values)
            )
            issue_autonumbers(self.tenant, entity, [data], now)
            record.data = data
            record.shared_by_rules = matching_sharing_rules(config, entity, record)
            record.save()
            self._write_side_tables(entity, record, data, previous={})
            self._changed(config, entity, record, "created", {}, data, transitions)
            refresh_for_child(config, entity, {}, data)
            return self._view(entity, record, config)

    def update(
        self, entity_key: str, record_id: int, values: dict, *, version: int | None = None
    ) -> RecordView:
        """A partial update: fields absent from ``values`` keep their value.

        ``version`` is the version the caller read; a newer stored version means someone else
        saved in between, and nothing is written.
        """
        with tenant_context(self.tenant, user=self.user, savepoint=True):
            config = self._config()
            entity = self._entity(entity_key, config)
            record = self._fetch(entity, record_id, lock=True)
            self.permissions.check_record(config, entity, record.pk, "update")
            approvals.check_unlocked(config, entity, record.pk, self.permissions)
            if version is not None and version != record.version:
                raise RecordError(
                    RecordErrorCode.VERSION_CONFLICT,
                    f"{entity.key} {record.pk} is at version {record.version}, "
                    f"not {version}: reload it and apply your change again.",
                )
            values, refused = self._writable(config, entity, values)
            changes, errors = normalize_input(entity, values)
            errors = refused + errors
            previous = dict(record.data)
            approvals.check_parents_unlocked(
                config, entity, self.permissions, previous, {**previous, **changes}
            )
            transitions = []
            data = self._complete(
                config,
                entity,
                record,
                {**previous, **changes},
                errors,
                previous=previous,
                transitions=transitions,
                given=set(changes),
            )
            if data == previous:
                return self._view(entity, record, config)
            record.data = data
            record.shared_by_rules = matching_sharing_rules(config, entity, record)
            record.version += 1
            record.updated_by = self.user
            record.updated_at = timezone.now()
            record.save()
            self._write_side_tables(entity, record, data, previous=previous)
            self._changed(config, entity, record, "updated", previous, data, transitions)
            refresh_for_child(config, entity, previous, data)
            if any(parent.key == entity.key for parent, _ in rollups_fed_by(config, entity.key)):
                record.refresh_from_db(fields=["data"])  # it may be its own parent
            return self._view(entity, record, config)

    def delete(self, entity_key: str, record_id: int) -> None:
        """Move a record to the recycle bin, applying ``on_delete`` of the lookups to it."""
        with tenant_context(self.tenant, user=self.user, savepoint=True):
            config = self._config()
            entity = self._entity(entity_key, config)
            record = self._fetch(entity, record_id, lock=True)
            self.permissions.check_record(config, entity, record.pk, "delete")
            approvals.check_unlocked(config, entity, record.pk, self.permissions)
            approvals.check_parents_unlocked(config, entity, self.permissions, record.data)
            self._soft_delete(config, entity, record, set())

    def restore(self, entity_key: str, record_id: int) -> RecordView:
        with tenant_context(self.tenant, user=self.user, savepoint=True):
            config = self._config()
            entity = self._entity(entity_key, config)
            record = self._fetch(entity, record_id, include_deleted=True, lock=True)
            self.permissions.check_record(config, entity, record.pk, "delete")
            if record.deleted_at is None:
                raise RecordError(
                    RecordErrorCode.NOT_DELETED,
                    f"{entity.key} {record.pk} is not in the recycle bin.",
                )
            approvals.check_parents_unlocked(config, entity, self.permissions, record.data)
            errors: list[FieldError] = []
            self._check_references(config, entity, record.data, errors)
            self._claim_unique_values(entity, record, record.data, errors)
            unique_groups.check(self.tenant.pk, entity, record.data, errors, record.pk)
            self._raise(errors, entity)
            record.deleted_at, record.deleted_by = None, None
            record.version += 1
            record.save(update_fields=["deleted_at", "deleted_by", "version"])
            self._changed(config, entity, record, "restored", {}, record.data)
            refresh_for_child(config, entity, {}, record.data)
            return self._view(entity, record, config)

    def assign(self, entity_key: str, record_id: int, *, owner=None, team=None) -> RecordView:
        """Hand a record to another owner (a member) and/or team (a key; "" for none); needs
        update rights on it. Audited like a field change."""

        with tenant_context(self.tenant, user=self.user, savepoint=True):
            config = self._config()
            entity = self._entity(entity_key, config)
            record = self._fetch(entity, record_id, lock=True)
            self.permissions.check_record(config, entity, record.pk, "update")
            approvals.check_unlocked(config, entity, record.pk, self.permissions)
            before = {"owner": record.owner_id, "team": record.team_id}
            if owner is not None:
                record.owner_id = self._member_id(
                    owner, "owner", "Records belong to members of the tenant."
                )
            if team is not None:
                record.team = self._team(team) if team else None
            after = {"owner": record.owner_id, "team": record.team_id}
            if after == before:
                return self._view(entity, record, config)
            # A sharing rule may read record.owner.
            record.shared_by_rules = matching_sharing_rules(config, entity, record)
            record.version += 1
            record.updated_by, record.updated_at = self.user, timezone.now()
            record.save(
                update_fields=[
                    "owner",
                    "team",
                    "shared_by_rules",
                    "version",
                    "updated_by",
                    "updated_at",
                ]
            )
            AuditEntry.objects.create(
                tenant=self.tenant,
                record_id=record.pk,
                entity=entity.key,
                action="assign",
                user=self.user,
                at=record.updated_at,
                changes=[
                    {"field": f"_{key}", "old": before[key], "new": after[key]}
                    for key in ("owner", "team")
                    if before[key] != after[key]
                ],
            )
            return self._view(entity, record, config)

    def share(
        self, entity_key: str, record_id: int, *, user=None, team=None, access: str = "read"
    ) -> bool:
        """Share one record with a member (a User) or a team (its key), to read or to edit;
        the user needs edit rights on the record. Audited; whether anything changed."""
        from records import sharing

        with tenant_context(self.tenant, user=self.user, savepoint=True):
            config = self._config()
            entity = self._entity(entity_key, config)
            record = self._fetch(entity, record_id)
            self.permissions.check_record(config, entity, record.pk, "update")
            user_id, team_row = self._share_target(user, team)
            if access not in ("read", "edit"):
                raise RecordError(
                    RecordErrorCode.INVALID,
                    "A share gives read or edit access.",
                    [FieldError("access", "invalid_choice", f"{access!r} is not read or edit")],
                )
            team_id = team_row.pk if team_row else None
            changed = sharing.share(
                record.pk, user_id=user_id, team_id=team_id, access=access, by=self.user
            )
            if changed:
                who = {"user": user_id} if user_id else {"team": team_row.key}
                self._audit_share(entity, record, "share", {**who, "access": access})
            return changed

    def unshare(self, entity_key: str, record_id: int, *, user=None, team=None) -> bool:
        from records import sharing

        with tenant_context(self.tenant, user=self.user, savepoint=True):
            config = self._config()
            entity = self._entity(entity_key, config)
            record = self._fetch(entity, record_id)
            self.permissions.check_record(config, entity, record.pk, "update")
            user_id, team_row = self._share_target(user, team)
            team_id = team_row.pk if team_row else None
            changed = sharing.unshare(record.pk, user_id=user_id, team_id=team_id)
            if changed:
                who = {"user": user_id} if user_id else {"team": team_row.key}
                self._audit_share(entity, record, "unshare", who)
            return changed

    def _share_target(self, user, team):

        if (user is None) == (team is None):
            raise RecordError(
                RecordErrorCode.INVALID,
                "Share with a user or with a team.",
                [FieldError(None, "share_target", "name exactly one of user and team")],
            )
        if user is not None:
            return self._member_id(
                user, "user", "Records are shared with members of the tenant."
            ), None
        return None, self._team(team)

    @staticmethod
    def _member_id(user, field: str, message: str) -> int:
        """The id of an active member of the tenant (a User or an id), or an error naming
        ``field``."""
        from tenants.models import Membership

        user_id = getattr(user, "pk", user)
        if not Membership.objects.filter(user_id=user_id, is_active=True).exists():
            raise RecordError(
                RecordErrorCode.INVALID,
                message,
                [FieldError(field, "not_a_member", f"user {user_id} is not a member")],
            )
        return user_id

    def _team(self, key):
        if key is None:
            return None
        from tenants.models import Team

        found = Team.objects.filter(key=key).first() if isinstance(key, str) else None
        if found is None:
            raise RecordError(
                RecordErrorCode.INVALID,
                f"There is no team {key!r}.",
                [FieldError("team", "unknown_team", f"there is no team {key!r}")],
            )
        return found

    def _audit_share(self, entity, record, action: str, detail: dict) -> None:
        """Shares are audited whatever the entity's track_history: they change who sees it."""
        AuditEntry.objects.create(
            tenant=self.tenant,
            record_id=record.pk,
            entity=entity.key,
            action=action,
            user=self.user,
            at=timezone.now(),
            changes=[{"field": "_share", "old": None, "new": detail}],
        )

    def purge(self, entity_key: str, record_id: int) -> None:
        """Remove a record from the recycle bin for good (its audit history stays)."""
        with tenant_context(self.tenant, user=self.user, savepoint=True):
            config = self._config()
            entity = self._entity(entity_key, config)
            record = self._fetch(entity, record_id, include_deleted=True, lock=True)
            self.permissions.check_record(config, entity, record.pk, "delete")
            if record.deleted_at is None:
                raise RecordError(
                    RecordErrorCode.NOT_DELETED,
                    f"{entity.key} {record.pk} must be deleted before it is purged.",
                )
            self._audit(entity, record, "purge", {}, {})
            Reference.objects.filter(target=record).delete()
            record.delete()

    # -- the steps -------------------------------------------------------------------------

    def _config(self) -> CompiledConfig:
        if self.config is not None:
            return self.config
        config = active_config(self.tenant)
        if config is None:
            raise RecordError(
                RecordErrorCode.NO_CONFIGURATION,
                f"The tenant {self.tenant.slug} has no published configuration.",
            )
        return config

    def _entity(self, key: str, config: CompiledConfig | None = None) -> CompiledEntity:
        config = config or self._config()
        if not isinstance(key, str) or key not in config.entities:
            raise RecordError(RecordErrorCode.UNKNOWN_ENTITY, f"There is no entity {key!r}.")
        return config.entities[key]

    def _fetch(
        self, entity: CompiledEntity, record_id: Any, *, include_deleted=False, lock=False
    ) -> Record:
        queryset = Record.objects.filter(entity=entity.key)
        if lock:
            queryset = queryset.select_for_update()
        record = None
        if isinstance(record_id, int) and not isinstance(record_id, bool):
            record = queryset.filter(pk=record_id).first()
        if record is None or (record.deleted_at is not None and not include_deleted):
            raise RecordError(RecordErrorCode.NOT_FOUND, f"There is no {entity.key} {record_id}.")
        return record

    def _apply_defaults(
        self, entity: CompiledEntity, data: dict, given: dict, related: dict | None = None
    ) -> None:
        """Defaults of the fields not given; computed ones may read ``related`` records."""
        for key, field in entity.fields.items():
            if field.options["type"] == "rollup" and field.options["function"] == "count":
                data[key] = 0  # a new record has nothing pointing at it yet
                continue
            if key in given or "default" not in field.options or field.type.computed:
                continue
            default = field.options["default"]
            if isinstance(default, dict) and set(default) == {"cel"}:
                from metadata.cel_check import compile_expression

                program = compile_expression(default["cel"])
                try:
                    value = evaluate(program, cel_record(entity, data, {}), {"related": related})
                except Exception:  # noqa: BLE001  (no default over empty inputs)
                    continue
                stored = from_cel(field, value)
                if stored is not None:
                    data[key] = stored
            else:
                normalized = field.type.normalize(default, field.options)
                data[key] = field.type.to_storage(normalized, field.options)

    def _writable(
        self, config: CompiledConfig, entity: CompiledEntity, values: Any
    ) -> tuple[Any, list[FieldError]]:
        """The values the user may write, and an error for each one they may not: a hidden
        field is reported like a missing one, a read-only one as read-only."""
        if not isinstance(values, dict):
            return values, []
        allowed, refused = {}, []
        for key, value in values.items():
            access = self.permissions.field_access(config, entity, key)
            if key in entity.fields and access == "hidden":
                refused.append(
                    FieldError(key, "unknown_field", f"{entity.key} has no field {key!r}")
                )
            elif key in entity.fields and access == "read":
                refused.append(FieldError(key, "read_only", f"{key} cannot be written"))
            else:
                allowed[key] = value
        return allowed, refused

    def _complete(
        self,
        config: CompiledConfig,
        entity: CompiledEntity,
        record: Record,
        data: dict,
        errors: list[FieldError],
        live: dict[str, set[int]] | None = None,
        previous: dict | None = None,
        transitions: list | None = None,
        given: set[str] | None = None,
        related_records: dict[int, dict] | None = None,
    ) -> dict:
        """Drop empty values, compute formulas, check required, rules, references.

        ``live`` holds, per target entity, the ids already known to be live, readable by the
        user and locked (bulk writes check all their references in one query per target).
        """
        data = {key: value for key, value in data.items() if value is not None}
        if errors:
            self._raise(errors, entity)
        system = system_values(record)
        # The records the lookups point at, for related.<lookup>.<field> (bulk writes read them
        # beforehand: ``related_records``).
        if related_records is None:
            related = related_values.for_record(config, entity, data)
        else:
            related = related_values.related_of(entity, data, related_records)
        variables = {"related": related}
        # One CEL view of the record, kept current as formulas fill in (later formulas and
        # the rules read earlier ones).
        programs = [entity.formulas[key] for key in entity.formula_order]
        programs += [rule.program for rule in entity.rules]
        keys = reads_of(tuple(program.source for program in programs))
        record_for_rules = cel_record(entity, data, system, keys)
        for key in entity.formula_order:
            field = entity.fields[key]
            try:
                value = evaluate(entity.formulas[key], record_for_rules, variables)
                stored = from_cel(field, value)
            except Exception:  # noqa: BLE001  (a formula over empty inputs has no value)
                stored = None
            if stored is None:
                data.pop(key, None)
                record_for_rules[key] = None
            else:
                data[key] = stored
                record_for_rules[key] = field.type.to_cel(stored, field.options)
        for key, field in entity.fields.items():
            if field.options.get("required") and data.get(key) is None:
                errors.append(FieldError(key, "required", f"{key} is required"))
        for rule in entity.rules:
            if not self._rule_holds(rule, record_for_rules, related):
                locale_message = rule.message.get("en") or next(iter(rule.message.values()))
                for field_key in rule.fields or (None,):
                    errors.append(FieldError(field_key, f"rule:{rule.key}", locale_message))
        self._check_references(config, entity, data, errors, live, previous)
        state_errors, taken = state_machines.check(
            config,
            entity,
            None if record.pk is None else (previous or {}),
            data,
            system,
            self.permissions,
        )
        errors += state_errors
        before = previous or {}
        changed = {key for key in given or () if data.get(key) != before.get(key)}
        errors += form_rules.check(
            config,
            entity,
            None if record.pk is None else (previous or {}),
            data,
            changed,
            system,
            self.permissions,
        )
        self._raise(errors, entity)
        if transitions is not None:
            transitions += taken
        return data

    @staticmethod
    def _rule_holds(rule, record: dict, related: dict | None = None) -> bool:
        """A rule holds when it gives true. A rule that cannot be evaluated because a field it
        reads is empty (or a lookup it reads through) does not apply: rules do not fire on
        missing data."""
        from metadata.cel_check import referenced_fields

        try:
            return evaluate(rule.program, record, {"related": related}) is True
        except Exception:  # noqa: BLE001
            source = rule.program.source
            return any(record.get(key) is None for key in referenced_fields(source)) or any(
                (related or {}).get(lookup) is None
                for lookup in related_values.lookups_read((source,))
            )

    def _check_references(
        self,
        config: CompiledConfig,
        entity: CompiledEntity,
        data: dict,
        errors: list[FieldError],
        live: dict[str, set[int]] | None = None,
        previous: dict | None = None,
    ) -> None:
        """Every lookup written must name a live record of its target entity that the user
        may read (one they may not is reported as missing: nothing leaks); the targets are
        locked (FOR KEY SHARE) so that a concurrent delete waits for this transaction."""
        for key, field in entity.fields.items():
            if field.options["type"] not in ("lookup", "multi_lookup") or key not in data:
                continue
            if previous is not None and previous.get(key) == data[key]:
                continue  # unchanged: checked when it was written
            ids = data[key] if isinstance(data[key], list) else [data[key]]
            target = field.options["target"]
            if live is not None:
                found = live[target]
            else:
                scope = self.permissions.scope_sql(config, config.entities[target], "read")
                found = live_targets(ids, target, scope)
            missing = [i for i in ids if i not in found]
            if missing:
                errors.append(
                    FieldError(
                        key,
                        "invalid_reference",
                        f"there is no {field.options['target']} {missing[0]}",
                    )
                )

    def _write_side_tables(
        self, entity: CompiledEntity, record: Record, data: dict, previous: dict
    ) -> None:
        errors: list[FieldError] = []
        self._claim_unique_values(entity, record, data, errors, previous=previous)
        unique_groups.check(self.tenant.pk, entity, data, errors, record.pk, previous or None)
        self._raise(errors, entity)
        for key, field in entity.fields.items():
            if field.options["type"] not in ("lookup", "multi_lookup"):
                continue
            if previous.get(key) == data.get(key) and previous:
                continue
            Reference.objects.filter(source=record, field=key).delete()
            ids = data.get(key)
            ids = ids if isinstance(ids, list) else ([ids] if ids else [])
            Reference.objects.bulk_create(
                [
                    Reference(tenant=self.tenant, source=record, field=key, target_id=target)
                    for target in ids
                ]
            )

    def _claim_unique_values(
        self,
        entity: CompiledEntity,
        record: Record,
        data: dict,
        errors: list[FieldError],
        previous: dict | None = None,
    ) -> None:
        for key, field in entity.fields.items():
            if not field.options.get("unique"):
                continue
            if previous is not None and previous.get(key) == data.get(key) and previous:
                continue
            UniqueValue.objects.filter(record=record, field=key).delete()
            if data.get(key) is None:
                continue
            value = field.type.unique_key(data[key], field.options)
            try:
                with transaction.atomic():
                    UniqueValue.objects.create(
                        tenant=self.tenant, entity=entity.key, field=key, value=value, record=record
                    )
            except IntegrityError:
                errors.append(
                    FieldError(key, "not_unique", f"another {entity.key} already has this {key}")
                )

    def _soft_delete(
        self, config: CompiledConfig, entity: CompiledEntity, record: Record, seen: set[int]
    ) -> None:
        seen.add(record.pk)
        now = timezone.now()
        referencing = (
            Reference.objects.filter(target=record)
            .select_related("source")
            .filter(source__deleted_at__isnull=True)
        )
        for reference in referencing:
            source = reference.source
            source_entity = config.entities.get(source.entity)
            field = source_entity.fields.get(reference.field) if source_entity else None
            if field is None or source.pk in seen:
                continue
            rule = field.options.get("on_delete", "restrict")
            if field.options["type"] == "multi_lookup":
                rule = "set_null"
            if rule == "restrict":
                raise RecordError(
                    RecordErrorCode.DELETE_RESTRICTED,
                    f"{entity.key} {record.pk} is still referenced by "
                    f"{source.entity} {source.pk} ({reference.field}).",
                )
            source = Record.objects.select_for_update().get(pk=source.pk)
            if rule == "cascade":
                self._soft_delete(config, source_entity, source, seen)
            else:
                previous = dict(source.data)
                value = source.data.get(reference.field)
                if isinstance(value, list):
                    remaining = [i for i in value if i != record.pk]
                    source.data[reference.field] = remaining or None
                else:
                    source.data[reference.field] = None
                source.data = {k: v for k, v in source.data.items() if v is not None}
                source.version += 1
                source.updated_at, source.updated_by = now, self.user
                source.save()
                reference.delete()
                self._changed(config, source_entity, source, "updated", previous, source.data)
        UniqueValue.objects.filter(record=record).delete()
        record.deleted_at, record.deleted_by = now, self.user
        record.version += 1
        record.save(update_fields=["deleted_at", "deleted_by", "version"])
        self._changed(config, entity, record, "deleted", record.data, {})
        refresh_for_child(config, entity, record.data, {})

    def _changed(self, config, entity, record, kind: str, before: dict, after: dict, taken=()):
        """After every write, in its transaction: the audit entry, and the outbox events of
        the workflows it concerns (automations listening, transitions with actions)."""
        from workflows import outbox

        audit_action = {"created": "create", "updated": "update", "deleted": "delete"}
        audit_before = {} if kind == "deleted" else before
        audit_after = {} if kind in ("deleted", "restored") else after
        self._audit(entity, record, audit_action.get(kind, "restore"), audit_before, audit_after)
        outbox.record_changed(self.tenant, config, entity, record, kind, before, after, self.user)
        if taken:
            outbox.transitions_taken(self.tenant, config, entity, record, taken, self.user)

    def _audit(
        self, entity: CompiledEntity, record: Record, action: str, before: dict, after: dict
    ) -> None:
        if not entity.options.get("track_history"):
            return
        changes = [
            {"field": key, "old": before.get(key), "new": after.get(key)}
            for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)
        ]
        AuditEntry.objects.create(
            tenant=self.tenant,
            record_id=record.pk,
            entity=entity.key,
            action=action,
            user=self.user,
            at=timezone.now(),
            changes=changes,
        )

    @staticmethod
    def _raise(errors: list[FieldError], entity: CompiledEntity) -> None:
        if errors:
            raise RecordError(
                RecordErrorCode.INVALID,
                f"The {entity.key} was not saved: {len(errors)} problem(s).",
                errors=list(errors),
            )

    def _hidden(self, config: CompiledConfig, entity: CompiledEntity) -> frozenset[str]:
        return self.permissions.hidden_fields(config, entity)

    def _view(self, entity: CompiledEntity, record: Record, config: CompiledConfig) -> RecordView:
        return view_of(
            entity,
            {
                "id": record.pk,
                "version": record.version,
                "data": record.data,
                "owner_id": record.owner_id,
                "created_at": record.created_at,
                "updated_at": record.updated_at,
                "deleted_at": record.deleted_at,
                "created_by_id": record.created_by_id,
            },
            self._hidden(config, entity),
        )


def view_of(entity: CompiledEntity, row: dict, hidden: set[str] = frozenset()) -> RecordView:
    """A record's view from its stored columns (no model instance on the way: pages build
    hundreds), without the fields hidden from the user."""
    readers = entity.readers
    values = {}
    for key, stored in row["data"].items():
        if key in readers and key not in hidden:
            reader = readers[key]
            values[key] = stored if reader is None else reader(stored)
    return RecordView(
        id=row["id"],
        entity=entity.key,
        version=row["version"],
        values=values,
        owner_id=row["owner_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        deleted_at=row.get("deleted_at"),
        created_by_id=row.get("created_by_id"),
    )


def live_targets(
    ids: list[int], entity_key: str, scope: tuple[str, list] = ("TRUE", [])
) -> set[int]:
    """The ids among ``ids`` that are live records of the entity within ``scope`` (SQL over
    ``r``), locked FOR KEY SHARE: a concurrent delete (FOR UPDATE) waits for this transaction,
    and sees its references."""
    if not ids:
        return set()
    scope_sql, scope_params = scope
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.id FROM records_record r WHERE r.id = ANY(%s) AND r.entity = %s "
            f"AND r.deleted_at IS NULL AND ({scope_sql}) FOR KEY SHARE OF r",
            [list(ids), entity_key, *scope_params],
        )
        return {row[0] for row in cursor.fetchall()}


def issue_autonumbers(tenant, entity: CompiledEntity, datas: list[dict], now) -> None:
    """Give each new record its autonumbers: the counter (per field and, for patterns with a
    year, per year) is advanced once by ``len(datas)`` under a row lock, so numbers never
    repeat and bulk creates get consecutive ones."""
    if not datas:
        return
    for key, field in entity.fields.items():
        if field.options["type"] != "autonumber":
            continue
        pattern = field.options["pattern"]
        period = now.strftime("%Y") if "{YY" in pattern else ""
        counter, _ = Counter.objects.get_or_create(
            tenant=tenant,
            entity=entity.key,
            field=key,
            period=period,
            defaults={"value": field.options.get("start", 1) - 1},
        )
        counter = Counter.objects.select_for_update().get(pk=counter.pk)
        first = counter.value + 1
        counter.value += len(datas)
        counter.save(update_fields=["value"])
        for offset, data in enumerate(datas):
            data[key] = render_autonumber(pattern, first + offset, now)


def render_autonumber(pattern: str, number: int, now: dt.datetime) -> str:
    def token(match) -> str:
        name = match.group(1)
        if name.startswith("0"):
            return str(number).zfill(len(name))
        return {"YYYY": f"{now:%Y}", "YY": f"{now:%y}", "MM": f"{now:%m}", "DD": f"{now:%d}"}[name]

    return AUTONUMBER_TOKEN.sub(token, pattern)
