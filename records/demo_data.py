"""A demo dataset for any configuration: records of every entity, made up from each field's
type, key and options, created through the records service (so rules, formulas, rollups, state
machines and workflows apply as for real data).

Consistency comes from the configuration itself: entities are filled in the order of their
lookups (an opportunity's account exists before it), line items come in a few per parent,
an ``end`` date follows its ``start`` (a ``close`` date its ``open``), dates spread over the
last two years (orders over two years make recency and frequency mean something), choice
fields governed by a state machine start in its initial state and then walk its transitions
(the records get a history), and the records are shared out among the tenant's members. Half
the texts are Chinese, half English.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from faker import Faker

from records.errors import RecordError
from records.permissions import SystemPermissions
from records.service import RecordService
from tenants.context import tenant_context
from tenants.models import Membership

SCALES = {"small": 1, "large": 20}
BASE = 24  # records of an entity without a parent, at scale "small"
PER_PARENT = (1, 4)  # line items per parent record
ATTEMPTS = 4  # a record the rules refuse is made up again this many times
TEXT_BY_KEY = {
    "name": "company",
    "company": "company",
    "account": "company",
    "full_name": "name",
    "first_name": "first_name",
    "last_name": "last_name",
    "title": "job",
    "job_title": "job",
    "subject": "catch_phrase",
    "city": "city",
    "region": "province",
    "country": "country",
    "description": "sentence",
    "problem": "sentence",
    "solution": "paragraph",
}


@dataclass
class Report:
    created: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    transitions: int = 0


class DemoData:
    def __init__(self, tenant, *, scale: str = "small", seed: int = 7):
        if scale not in SCALES:
            raise ValueError(f"scale is one of {', '.join(SCALES)}")
        self.tenant = tenant
        self.factor = SCALES[scale]
        self.random = random.Random(seed)
        self.fakers = {"en": Faker("en_US"), "zh": Faker("zh_CN")}
        for index, faker in enumerate(self.fakers.values()):
            faker.seed_instance(seed + index)
        self.service = RecordService(tenant, None, permissions=SystemPermissions(tenant))
        self.config = self.service.configuration()
        self.today = dt.datetime.now(dt.UTC).date()
        self.ids: dict[str, list[int]] = {}
        with tenant_context(tenant):
            self.members = [
                (m.user, m.roles)
                for m in Membership.objects.filter(is_active=True).select_related("user")
            ]
        self.report = Report()

    # -- order and counts --------------------------------------------------------------

    def order(self) -> list:
        """Entities after the targets of their required lookups (then of any lookup)."""
        entities = list(self.config.entities.values())
        placed: list = []
        pending = entities[:]
        while pending:
            for entity in pending:
                needed = {
                    f.options["target"]
                    for f in entity.fields.values()
                    if f.options["type"] == "lookup" and f.options["target"] != entity.key
                }
                if needed <= {e.key for e in placed} or len(pending) == 1:
                    placed.append(entity)
                    pending.remove(entity)
                    break
            else:  # a cycle: take the one with the fewest required lookups first
                entity = min(pending, key=lambda e: len(self.required_lookups(e)))
                placed.append(entity)
                pending.remove(entity)
        return placed

    def required_lookups(self, entity) -> list:
        return [
            f
            for f in entity.fields.values()
            if f.options["type"] == "lookup" and f.options.get("required")
        ]

    def parents(self, entity) -> list[int]:
        """The records this entity's records belong to (line items: a few per parent)."""
        required = self.required_lookups(entity)
        if not required:
            return []
        return self.ids.get(required[0].options["target"], [])

    # -- values --------------------------------------------------------------------------

    def faker(self):
        return self.fakers["zh" if self.random.random() < 0.5 else "en"]

    def moment(self, *, future: bool = False) -> dt.datetime:
        days = self.random.randint(-730, 180 if future else 0)
        start = dt.datetime.combine(self.today, dt.time(9), tzinfo=dt.UTC)
        return start + dt.timedelta(days=days, hours=self.random.randint(0, 8))

    def value(self, entity, key: str, f, values: dict):  # noqa: C901 (one branch a type)
        kind, options = f.options["type"], f.options
        faker = self.faker()
        if kind in ("text", "long_text", "rich_text"):
            provider = TEXT_BY_KEY.get(key) or ("paragraph" if kind != "text" else "word")
            if entity.key in ("contact", "lead") and key == "name":
                provider = "name"
            text = str(getattr(faker, provider, faker.word)())
            limit = options.get("max_length") or 200
            return text[:limit]
        if kind == "email":
            return faker.email()
        if kind == "phone":
            return self.fakers["en"].numerify("+86 1## #### ####")
        if kind == "url":
            return self.fakers["en"].url()
        if kind in ("integer", "decimal", "percent", "currency"):
            low = Decimal(str(options.get("min", 0)))
            high = Decimal(str(options.get("max", 100 if kind == "percent" else 100000)))
            number = low + (high - low) * Decimal(self.random.random())
            if kind == "integer":
                return int(number)
            amount = number.quantize(Decimal("0.01"))
            if kind == "currency":
                currency = (
                    options.get("default_currency") or (options.get("currencies") or ["CNY"])[0]
                )
                return {"amount": str(amount), "currency": currency}
            return str(amount)
        if kind in ("date", "datetime"):
            start_key = key.replace("end", "start").replace("due", "start").replace("close", "open")
            if key != start_key and values.get(start_key):
                begin = dt.datetime.fromisoformat(str(values[start_key]).replace("Z", "+00:00"))
                if begin.tzinfo is None:
                    begin = begin.replace(tzinfo=dt.UTC)
                moment = begin + dt.timedelta(hours=self.random.randint(1, 24 * 30))
            else:
                moment = self.moment(future="due" in key or "close" in key or "end" in key)
            return moment.date().isoformat() if kind == "date" else moment.isoformat()
        if kind == "boolean":
            return self.random.random() < 0.3
        if kind == "choice":
            active = [o["value"] for o in options.get("options", []) if not o.get("inactive")]
            return self.random.choice(active) if active else None
        if kind == "multi_choice":
            active = [o["value"] for o in options.get("options", []) if not o.get("inactive")]
            return self.random.sample(active, k=min(len(active), self.random.randint(0, 2)))
        if kind == "lookup":
            pool = self.ids.get(options["target"], [])
            return self.random.choice(pool) if pool else None
        if kind == "multi_lookup":
            pool = self.ids.get(options["target"], [])
            return self.random.sample(pool, k=min(len(pool), self.random.randint(0, 2)))
        if kind == "user":
            return self.random.choice(self.members)[0].pk if self.members else None
        if kind == "address":
            return {
                "street": faker.street_address(),
                "city": faker.city(),
                "postal_code": faker.postcode(),
                "country": "CN" if faker is self.fakers["zh"] else "US",
            }
        return None  # computed and unknown types: the engine fills them

    def record(self, entity, parent: int | None) -> dict:
        values: dict = {}
        machines = (
            self.config.workflows.state_machines.get(entity.key, [])
            if self.config.workflows
            else []
        )
        governed = {m.field: m for m in machines}
        for key, f in entity.fields.items():
            if f.type.computed or f.options.get("read_only"):
                continue
            if key in governed:
                initial = sorted(governed[key].initial)
                values[key] = initial[0] if initial else self.value(entity, key, f, values)
                continue
            if not f.options.get("required") and self.random.random() < 0.15:
                continue  # some optional fields left empty, as in real data
            made = self.value(entity, key, f, values)
            if made not in (None, "", []):
                values[key] = made
        required = self.required_lookups(entity)
        if parent is not None and required:
            values[required[0].key] = parent
        return values

    # -- filling -------------------------------------------------------------------------

    def owner(self):
        sellers = [
            m for m in self.members if set(m[1]) - {"tenant_admin", "consultant", "executive"}
        ]
        chosen = self.random.choice(sellers or self.members) if self.members else None
        return chosen[0] if chosen else None

    def create(self, entity, parent: int | None) -> int | None:
        for _attempt in range(ATTEMPTS):
            try:
                view = self.service.create(
                    entity.key, self.record(entity, parent), owner=self.owner()
                )
            except RecordError:
                continue
            self.report.created[entity.key] = self.report.created.get(entity.key, 0) + 1
            return view.id
        self.report.refused[entity.key] = self.report.refused.get(entity.key, 0) + 1
        return None

    def walk(self, entity, record_id: int) -> None:
        """Move a record along its state machines a few steps (its history)."""
        for machine in self.config.workflows.state_machines.get(entity.key, []):
            for _step in range(self.random.randint(0, 3)):
                state = self.service.get(entity.key, record_id).values.get(machine.field)
                moves = [t for t in machine.allowed_from(state) if t.target != state]
                if not moves:
                    break
                move = self.random.choice(moves)
                try:
                    self.service.update(entity.key, record_id, {machine.field: move.target})
                except RecordError:
                    break
                self.report.transitions += 1

    def fill(self) -> Report:
        for entity in self.order():
            parents = self.parents(entity)
            made: list[int] = []
            if parents:
                for parent in parents:
                    for _ in range(self.random.randint(*PER_PARENT)):
                        if (record_id := self.create(entity, parent)) is not None:
                            made.append(record_id)
            else:
                for _ in range(BASE * self.factor):
                    if (record_id := self.create(entity, None)) is not None:
                        made.append(record_id)
            self.ids[entity.key] = self.ids.get(entity.key, []) + made
            if self.config.workflows and self.config.workflows.state_machines.get(entity.key):
                for record_id in made:
                    self.walk(entity, record_id)
        return self.report


def fill(tenant, *, scale: str = "small", seed: int = 7) -> Report:
    return DemoData(tenant, scale=scale, seed=seed).fill()
