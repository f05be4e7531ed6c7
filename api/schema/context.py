"""What one GraphQL request carries: the user's records service, a loader that fetches the
records lookups point at in one query per entity, and the configuration the schema was built
from."""

from __future__ import annotations

from django.urls import reverse

from metadata.compiled import CompiledConfig
from records.errors import RecordError
from records.permissions import Permissions
from records.service import RecordService, RecordView

URL_ID = 1234567890  # stands for the record id in a reversed URL
FILE_LIMITS = {"accept": "accept", "max_size_mb": "maxSizeMb"}


class RecordLoader:
    """Records by (entity, id) for one request. A page primes the ids its rows point at, and
    the first lookup resolved loads all of them at once (the service applies permissions: a
    target the user may not read stays missing and resolves to null)."""

    def __init__(self, service: RecordService, config: CompiledConfig):
        self.service = service
        self.config = config
        self.loaded: dict[tuple[str, int], RecordView | None] = {}
        self.wanted: dict[str, set[int]] = {}
        self.parents: dict[str, set[int]] = {}  # entity -> ids shown, whose children may follow
        self.children_of: dict[tuple[str, str], dict[int, list[RecordView]]] = {}

    def prime_parents(self, entity_key: str, ids: list[int]) -> None:
        self.parents.setdefault(entity_key, set()).update(ids)

    def children(self, child_key: str, via: str, parent_id: int) -> list[RecordView]:
        """The live children (readable by the user) of ``parent_id`` through the lookup
        ``via``; the first call loads those of every primed parent, in pages of 500."""
        key = (child_key, via)
        grouped = self.children_of.get(key)
        if grouped is None or parent_id not in grouped:
            target = self.config.entities[child_key].fields[via].options["target"]
            parents = sorted(self.parents.get(target, set()) | {parent_id})
            grouped = self.children_of.setdefault(key, {})
            for parent in parents:
                grouped.setdefault(parent, [])
            after = None
            while True:
                try:
                    page = self.service.query(
                        child_key,
                        filter_tree={"field": via, "op": "in", "value": parents},
                        order_by=[{"field": "id"}],
                        first=500,
                        after=after,
                    )
                except RecordError:  # the user may read none of the children
                    break
                for row in page.rows:
                    grouped.setdefault(row.values.get(via), []).append(row)
                if not page.has_next:
                    break
                after = page.end_cursor
        return grouped.get(parent_id, [])

    def prime_lookups(self, entity_key: str, rows: list[RecordView]) -> None:
        entity = self.config.entities[entity_key]
        for key, field in entity.fields.items():
            kind = field.options["type"]
            if kind not in ("lookup", "multi_lookup"):
                continue
            target = field.options["target"]
            for row in rows:
                ids = row.values.get(key)
                for item in ids if isinstance(ids, list) else [ids]:
                    if item is not None and (target, item) not in self.loaded:
                        self.wanted.setdefault(target, set()).add(item)

    def load(self, entity_key: str, record_id: int) -> RecordView | None:
        key = (entity_key, record_id)
        if key not in self.loaded:
            ids = self.wanted.pop(entity_key, set()) | {record_id}
            ids = sorted(i for i in ids if (entity_key, i) not in self.loaded)
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                try:
                    page = self.service.query(
                        entity_key,
                        filter_tree={"field": "id", "op": "in", "value": chunk},
                        first=500,
                    )
                except RecordError:  # the user may read no record of the target at all
                    page = None
                found = {row.id: row for row in page.rows} if page else {}
                for item in chunk:
                    self.loaded[(entity_key, item)] = found.get(item)
        return self.loaded[key]


class GraphContext:
    def __init__(
        self,
        tenant,
        user,
        config: CompiledConfig,
        roles: list[str] | None = None,
        base_url: str = "",
    ):
        """``base_url``: scheme and host of the request (``https://acme.example.com``), in
        front of the download URLs of files; none gives paths."""
        self.tenant = tenant
        self.user = user
        self.config = config
        self.base_url = base_url
        # The schema's version for every call, and the roles the request's membership holds.
        self.service = RecordService(
            tenant, user, config=config, permissions=Permissions(tenant, user, roles=roles)
        )
        self.loader = RecordLoader(self.service, config)

    def file_url_parts(self, entity_key: str, field_key: str) -> tuple[str, str]:
        """The download URL of a record's file around its id: (before, after)."""
        path = reverse("records:file", args=[entity_key, URL_ID, field_key])
        before, after = path.split(f"/{URL_ID}/", 1)
        return f"{self.base_url}{before}/", f"/{after}"

    def file_url(self, entity_key: str, record_id: int, field_key: str) -> str:
        before, after = self.file_url_parts(entity_key, field_key)
        return f"{before}{record_id}{after}"

    def hidden(self, entity_key: str) -> frozenset[str]:
        entity = self.config.entities[entity_key]
        return self.service.permissions.hidden_fields(self.config, entity)

    def metadata(self) -> dict:
        """Entities and the fields the user may see: keys, labels, types, options, required."""
        entities = []
        for entity in self.config.entities.values():
            hidden = self.hidden(entity.key)
            entities.append(
                {
                    "key": entity.key,
                    "pluralKey": entity.plural_key,
                    "label": entity.options.get("label", {}),
                    "fields": [
                        {
                            "key": field.key,
                            "label": field.options.get("label", {}),
                            "type": field.options["type"],
                            "required": bool(field.options.get("required")),
                            **(
                                {"options": field.options["options"]}
                                if "options" in field.options
                                else {}
                            ),
                            **(
                                {"target": field.options["target"]}
                                if "target" in field.options
                                else {}
                            ),
                            **{  # what a file field takes
                                name: field.options[option]
                                for option, name in FILE_LIMITS.items()
                                if option in field.options
                            },
                        }
                        for field in entity.fields.values()
                        if field.key not in hidden
                    ],
                }
            )
        return {"version": self.config.version, "entities": entities}
