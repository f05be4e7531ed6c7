"""A demo dataset for any configuration: records of every entity, made up from each field's
type, key and options (records/demo_values.py), created through the records service (so rules,
formulas, rollups, state machines and workflows apply as for real data).

Consistency comes from the configuration itself:

- Entities are filled parents first (records/demo_plan.py): among those whose required
  lookups can be filled, the one most of the others still waiting point at (an account before
  its contacts, an opportunity before the quotes, orders, activities and commissions that name
  it). A record that belongs to a parent (a required lookup, else one deleted with it:
  ``on_delete: cascade``) comes a few per parent, now and then many (repeat customers).
- A lookup picks a record related to those already chosen: a quote's opportunity is one of the
  quote's account, a commission's opportunity the one its order names.
- Numbers follow their key (quantities 1-20, amounts of money log-uniform, discounts mostly
  small), a unit price is the price of the product looked up, a date comes after the one it
  follows (by the rules, ``record.end >= record.start``, or by the keys), dates spread over the
  last two years.
- Choice fields governed by a state machine start in its initial state and, once everything
  exists, walk its transitions (the records get a history); the transition's required fields
  are filled, and the dates its actions stamp "now" are given a moment of the record's own
  timeline instead (a case resolved some hours after it was opened: its SLA met or not).
- A field an automation or a transition sets is not made up: it gets what the action gives
  when its condition holds (a won deal's probability, by its stage), and stays empty otherwise.
  A field the form shows only under a ``visible_if`` that does not hold stays empty (a won deal
  has no loss reason).
- A record the rules refuse is repaired: an empty field a failing rule names is filled, a
  filled optional one left out; the refusals left are counted per entity and reason.

The records are shared out among the tenant's members. Half the texts are Chinese, half English.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from faker import Faker

from metadata.cel_check import compile_expression
from records import demo_values
from records.demo_plan import Plan, fill_order, lookups, plan_for
from records.errors import RecordError
from records.permissions import SystemPermissions
from records.service import RecordService
from records.values import all_hold, cel_record, condition_holds, from_cel, normalize_input
from tenants.context import tenant_context
from tenants.models import Membership
from workflows.definitions import Workflows

SCALES = {"small": 1, "large": 20}
BASE = 24  # records of an entity without a parent, at scale "small"
PER_PARENT = (1, 3)  # children per parent record
MANY = (5, 10)  # ... for one parent in ten (a repeat customer)
ATTEMPTS = 3  # a record that cannot be repaired is made up again this many times
REPAIRS = 3  # a refused record is repaired (fields filled or left out) this many times
EMPTY = (None, "", [])
# What an action's expression gives for ``now``, recognised in its result: the moment it
# stands for is taken from the record's own timeline.
STAMP = dt.datetime(2900, 1, 1, tzinfo=dt.UTC)
SYSTEM = {"id": 0, "version": 1, "owner": 0, "created_by": 0, "updated_by": 0}
NUMBERS = ("integer", "decimal", "percent", "currency")


@dataclass
class Report:
    created: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    # per entity, why the refused records were refused (a rule's code, or field: code)
    reasons: dict[str, dict[str, int]] = field(default_factory=dict)
    transitions: int = 0

    def refuse(self, entity: str, error: RecordError | None) -> None:
        self.refused[entity] = self.refused.get(entity, 0) + 1
        reason = "unknown"
        if error is not None:
            first = error.errors[0] if error.errors else None
            if first is None:
                reason = error.message
            elif first.code.startswith("rule:"):
                reason = first.code
            else:
                reason = f"{first.field}: {first.code}"
        counts = self.reasons.setdefault(entity, {})
        counts[reason] = counts.get(reason, 0) + 1


@lru_cache(maxsize=512)
def program(source: str):
    return compile_expression(source)


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
        self.now = dt.datetime.now(dt.UTC)
        self.today = self.now.date()
        self.ids: dict[str, list[int]] = {}
        self.made: dict[str, dict[int, dict]] = {}  # each record's values as the service gave
        # (entity, lookup field) -> the record looked up -> the records looking it up
        self.links: dict[tuple[str, str], dict[int, list[int]]] = {}
        self.plans: dict[str, Plan] = {}
        with tenant_context(tenant):
            self.members = [
                (m.user, m.roles)
                for m in Membership.objects.filter(is_active=True).select_related("user")
            ]
        self.report = Report()

    # -- what the configuration says -----------------------------------------------------

    def plan(self, entity) -> Plan:
        if entity.key not in self.plans:
            self.plans[entity.key] = plan_for(self.config, entity)
        return self.plans[entity.key]

    def order(self) -> list:
        return fill_order(self.config)

    def parents(self, entity) -> list[int]:
        """The records this entity's records belong to (a few each)."""
        parent = self.plan(entity).parent
        return list(self.ids.get(parent.options["target"], [])) if parent else []

    def cel(self, entity, values: dict, stored: dict | None = None) -> dict:
        """The record as CEL sees it: ``stored`` values changed by the ``values`` given."""
        writable = {
            k: v
            for k, v in values.items()
            if k in entity.fields
            and not entity.fields[k].type.computed
            and not entity.fields[k].options.get("read_only")
        }
        changes, _errors = normalize_input(entity, writable)
        data = {**(stored or {}), **changes}
        data = {k: v for k, v in data.items() if v is not None}
        return cel_record(entity, data, {**SYSTEM, "created_at": self.now, "updated_at": self.now})

    @staticmethod
    def stored(entity, values: dict) -> dict:
        return {
            k: entity.fields[k].type.to_storage(v, entity.fields[k].options)
            for k, v in values.items()
            if k in entity.fields and v is not None
        }

    # -- values --------------------------------------------------------------------------

    def faker(self):
        return self.fakers["zh" if self.random.random() < 0.5 else "en"]

    def when(self, *, future: bool = False) -> dt.datetime:
        days = self.random.randint(-730, 180 if future else 0)
        start = dt.datetime.combine(self.today, dt.time(9), tzinfo=dt.UTC)
        return start + dt.timedelta(days=days, hours=self.random.randint(0, 8))

    def timeline(self, entity, key: str, values: dict) -> dt.datetime:
        """When something that happened to the record did (a transition's "now"): after the
        date the field follows, else after the record's latest past date (or its parent's);
        not after now."""
        plan = self.plan(entity)
        start = demo_values.moment(values.get(plan.follow.get(key, "")))
        if start is None:
            start = self.latest(entity, values, key)
        if start is None and plan.parent is not None:
            parent = self.config.entities[plan.parent.options["target"]]
            chosen = values.get(plan.parent.key)
            start = self.latest(parent, self.made.get(parent.key, {}).get(chosen, {}))
        if start is None or start > self.now:
            return self.when()
        moment = demo_values.after(self.random, start, entity.fields[key].options["type"])
        if moment > self.now:  # not yet, as far as it goes: some time between
            moment = start + (self.now - start) * self.random.random()
        return moment

    def latest(self, entity, values: dict, but: str = "") -> dt.datetime | None:
        """The record's latest date or date-time not in the future."""
        moments = [
            demo_values.moment(v)
            for k, v in values.items()
            if k != but
            and k in entity.fields
            and entity.fields[k].options["type"] in ("date", "datetime")
            and v not in EMPTY
        ]
        return max((m for m in moments if m is not None and m <= self.now), default=None)

    def value(self, entity, key: str, f, values: dict):  # noqa: C901 (one branch a type)
        kind, options = f.options["type"], f.options
        faker = self.faker()
        if kind in ("text", "long_text", "rich_text"):
            text = demo_values.text(faker, key, kind, entity.fields)
            limit = options.get("max_length") or 200
            return text[:limit]
        if kind == "email":
            return faker.email()
        if kind == "phone":
            return self.fakers["en"].numerify("+86 1## #### ####")
        if kind == "url":
            return self.fakers["en"].url()
        if kind in NUMBERS:
            number = self.looked_up_price(entity, key, values)
            if number is None:
                number = demo_values.number(self.random, kind, key, options)
            prices = self.prices(entity, values) if demo_values.is_cost(key) else []
            if prices:  # a cost below the record's price
                factor = Decimal(str(round(self.random.uniform(0.4, 0.85), 2)))
                number = (prices[0] * factor).quantize(Decimal("0.01"))
            if kind == "integer":
                return int(number)
            if kind == "currency":
                currency = (
                    options.get("default_currency") or (options.get("currencies") or ["CNY"])[0]
                )
                return {"amount": str(number), "currency": currency}
            return str(number)
        if kind in ("date", "datetime"):
            start = demo_values.moment(values.get(self.plan(entity).follow.get(key, "")))
            if start is not None:
                moment = demo_values.after(self.random, start, kind)
            else:
                moment = self.when(future=any(w in key for w in ("due", "close", "end")))
            return demo_values.as_value(moment, kind)
        if kind == "boolean":  # mostly the default (blacklisted: rarely), else now and then
            default = options.get("default")
            if isinstance(default, bool):
                return default if self.random.random() < 0.9 else not default
            return self.random.random() < 0.3
        if kind == "choice":
            active = [o["value"] for o in options.get("options", []) if not o.get("inactive")]
            return self.random.choice(active) if active else None
        if kind == "multi_choice":
            active = [o["value"] for o in options.get("options", []) if not o.get("inactive")]
            return self.random.sample(active, k=min(len(active), self.random.randint(0, 2)))
        if kind == "lookup":
            return self.pick(entity, key, f, values)
        if kind == "multi_lookup":
            pool = self.candidates(entity, key, f, values)
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

    def looked_up_price(self, entity, key: str, values: dict) -> Decimal | None:
        """A unit price is the price of the record looked up (a product's standard price)."""
        if not demo_values.is_price(key):
            return None
        for other, chosen in values.items():
            f = entity.fields.get(other)
            if f is None or f.options["type"] != "lookup" or not chosen:
                continue
            source = self.config.entities[f.options["target"]]
            found = self.prices(source, self.made.get(source.key, {}).get(chosen, {}))
            if found:
                return found[0]
        return None

    @staticmethod
    def prices(entity, values: dict) -> list[Decimal]:
        """The record's prices: numbers in fields whose key says price."""
        found = []
        for key, value in values.items():
            f = entity.fields.get(key)
            if f is None or f.options["type"] not in NUMBERS or not demo_values.is_price(key):
                continue
            if value not in EMPTY:
                found.append(Decimal(str(value["amount"] if isinstance(value, dict) else value)))
        return found

    def candidates(self, entity, key: str, f, values: dict) -> list[int]:
        """The target records consistent with the lookups already chosen: named by the chosen
        records themselves (a commission's order names its opportunity), else pointing at
        them (the opportunities of the quote's account). Empty when related but none fits."""
        target = f.options["target"]
        pool = self.ids.get(target, [])
        if not pool:
            return []
        target_entity = self.config.entities[target]
        target_made = self.made.get(target, {})
        candidates, related, narrowed_once = pool, False, False
        for other, chosen in values.items():
            g = entity.fields.get(other)
            if other == key or g is None or g.options["type"] != "lookup" or not chosen:
                continue
            source = g.options["target"]
            source_entity = self.config.entities[source]
            chosen_values = self.made.get(source, {}).get(chosen, {})
            named = [
                h.key
                for h in source_entity.fields.values()
                if h.options["type"] == "lookup" and h.options["target"] == target
            ]
            for h in named:
                if chosen_values.get(h) in target_made:
                    return [chosen_values[h]]
            links = [
                h.key
                for h in target_entity.fields.values()
                if h.options["type"] == "lookup" and h.options["target"] == source
            ]
            related = related or bool(named or links)
            if links:
                linked = {i for h in links for i in self.links.get((target, h), {}).get(chosen, ())}
                if candidates is pool:  # ids grow in the order records were made
                    narrowed = sorted(linked)
                else:
                    narrowed = [i for i in candidates if i in linked]
                if narrowed:
                    candidates, narrowed_once = narrowed, True
        if related and not narrowed_once:
            return [] if not f.options.get("required") else pool
        return candidates

    def pick(self, entity, key: str, f, values: dict) -> int | None:
        if f.options["target"] == entity.key and self.random.random() < 0.8:
            return None  # hierarchies are shallow: most records have no parent of their kind
        pool = self.candidates(entity, key, f, values)
        return self.random.choice(pool) if pool else None

    def record(self, entity, parent: int | None) -> dict:
        """Made-up values of a new record (of ``parent``, if given)."""
        plan = self.plan(entity)
        values: dict = {}
        if parent is not None and plan.parent is not None:
            values[plan.parent.key] = parent
        anchors = set(plan.follow.values())
        for key in plan.order:
            f = entity.fields[key]
            if key in values or f.type.computed or f.options.get("read_only"):
                continue
            if key in plan.machines:
                initial = sorted(plan.machines[key].initial)
                values[key] = (
                    self.random.choice(initial) if initial else self.value(entity, key, f, values)
                )
                continue
            if key in plan.automated:
                continue
            required = f.options.get("required")
            if not required and key not in anchors and self.random.random() < 0.15:
                continue  # some optional fields left empty, as in real data
            value = self.value(entity, key, f, values)
            if value not in EMPTY:
                values[key] = value
        self.hide(entity, values)
        values.update(self.set_by_automations(entity, values, "created", set(values)))
        return values

    def hide(self, entity, values: dict, stored: dict | None = None) -> None:
        """Leave out (set to None over ``stored``) the optional fields the form does not show
        for the record."""
        plan = self.plan(entity)
        protected = plan.protected
        for _round in range(3):
            record = self.cel(entity, values, stored)
            hidden = [
                key
                for key, programs in plan.visible.items()
                if record.get(key) is not None
                and key not in protected
                and not entity.fields[key].options.get("required")
                and not all_hold(programs, record)
            ]
            if not hidden:
                return
            for key in hidden:
                if stored is None:
                    values.pop(key, None)
                else:
                    values[key] = None

    def set_by_automations(
        self, entity, values: dict, kind: str, changed: set[str], stored: dict | None = None
    ) -> dict:
        """What the automations listening to the change would set, those whose condition
        holds."""
        specs = []
        record = self.cel(entity, values, stored)
        workflows = self.config.workflows or Workflows()
        for automation in workflows.listening(entity.key, kind, changed):
            if condition_holds(automation.condition, record):
                specs += automation.actions
        return self.action_values(entity, specs, values, stored)

    def action_values(self, entity, specs, values: dict, stored: dict | None = None) -> dict:
        """The values ``set_fields`` actions give; a moment stamped "now" is one of the
        record's own timeline."""
        out: dict = {}
        for spec in specs:
            if spec.get("type") != "set_fields":
                continue
            out.update({k: v for k, v in spec.get("values", {}).items() if k in entity.fields})
            for key, source in spec.get("expressions", {}).items():
                f = entity.fields.get(key)
                if f is None:
                    continue
                record = self.cel(entity, {**values, **out}, stored)
                try:
                    result = program(source).execute({"record": record, "now": STAMP})
                except Exception:  # noqa: BLE001 (over empty fields: the action sets nothing)
                    continue
                if isinstance(result, dt.datetime) and abs(result - STAMP) < dt.timedelta(366):
                    known = {**(stored or {}), **values, **out}
                    moment = self.timeline(entity, key, known) + (result - STAMP)
                    out[key] = demo_values.as_value(min(moment, self.now), f.options["type"])
                    continue
                try:
                    out[key] = from_cel(f, result)
                except Exception:  # noqa: BLE001
                    continue
        return out

    # -- creating and repairing ----------------------------------------------------------

    def owner(self):
        sellers = [
            m for m in self.members if set(m[1]) - {"tenant_admin", "consultant", "executive"}
        ]
        chosen = self.random.choice(sellers or self.members) if self.members else None
        return chosen[0] if chosen else None

    def create(self, entity, parent: int | None) -> int | None:
        """A new record (of ``parent``; of another one if the rules refuse that parent: a
        blacklisted account gets no orders)."""
        error, plan = None, self.plan(entity)
        for _attempt in range(ATTEMPTS):
            values, owner = self.record(entity, parent), self.owner()
            for _repair in range(REPAIRS + 1):
                try:
                    view = self.service.create(entity.key, values, owner=owner)
                except RecordError as refused:
                    error = refused
                    named = {e.field for e in refused.errors}
                    if parent is not None and plan.parent and plan.parent.key in named:
                        parent = self.random.choice(self.parents(entity))
                        break
                    if not self.repair(entity, values, refused):
                        break
                    continue
                self.report.created[entity.key] = self.report.created.get(entity.key, 0) + 1
                self.ids.setdefault(entity.key, []).append(view.id)
                self.made.setdefault(entity.key, {})[view.id] = view.values
                for f in lookups(entity):
                    if f.options["type"] == "lookup" and view.values.get(f.key):
                        looked_up = self.links.setdefault((entity.key, f.key), {})
                        looked_up.setdefault(view.values[f.key], []).append(view.id)
                return view.id
        self.report.refuse(entity.key, error)
        return None

    def repair(self, entity, values: dict, error: RecordError, current: dict | None = None):
        """Change ``values`` so that the rules that failed may hold: fill an empty field a
        failing rule names, else leave out (or make up again) the filled ones. ``current``:
        the record's values when ``values`` are the changes of an update. Whether anything
        changed."""
        plan = self.plan(entity)
        protected = plan.protected
        known = {**(current or {}), **values}
        unique_groups = entity.options.get("unique_together", [])
        groups: dict[str, list[str]] = {}
        for problem in error.errors:
            named = [problem.field]
            if problem.code == "not_unique":  # a group's values are named by its first
                named += [k for g in unique_groups if problem.field in g for k in g]
            for key in named:
                if key in entity.fields and key not in protected:
                    groups.setdefault(problem.code, []).append(key)
        changed = False
        for code, keys in groups.items():
            writable = [
                k
                for k in keys
                if not entity.fields[k].type.computed
                and not entity.fields[k].options.get("read_only")
            ]
            empty = [k for k in writable if known.get(k) in EMPTY]
            for key in empty:
                value = self.value(entity, key, entity.fields[key], known)
                if value not in EMPTY:
                    values[key] = known[key] = value
                    changed = True
                    break
            if empty:
                continue
            for key in dict.fromkeys(writable):
                f = entity.fields[key]
                value = None
                if f.options.get("required") or code == "not_unique":
                    value = self.value(entity, key, f, known)
                if value not in EMPTY:
                    if value != known.get(key):
                        values[key] = known[key] = value
                        changed = True
                elif f.options.get("required"):
                    continue
                elif current is None:
                    values.pop(key, None)
                    changed = True
                else:
                    values[key] = None
                    changed = True
        return changed

    # -- history -------------------------------------------------------------------------

    def walk(self, entity, record_id: int) -> None:
        """Move a record along its state machines a few steps (its history)."""
        plan = self.plan(entity)
        for machine in plan.machines.values():
            for _step in range(self.random.randint(0, 3)):
                current = self.made[entity.key][record_id]
                stored = self.stored(entity, current)
                state = current.get(machine.field)
                moves = [
                    t
                    for t in machine.allowed_from(state)
                    if t.target != state
                    and condition_holds(
                        t.condition, self.cel(entity, {machine.field: t.target}, stored)
                    )
                ]
                if not moves:
                    break
                move = self.random.choice(moves)
                if not self.move(entity, record_id, machine.field, move, current, stored):
                    break
                self.report.transitions += 1

    def move(self, entity, record_id: int, key: str, move, current: dict, stored: dict) -> bool:
        """Take one transition, with what it needs and what comes with it: its required
        fields, the values its actions set, the fields the form shows from then on (and not
        those it no longer shows), what automations set on the change."""
        plan = self.plan(entity)
        changes: dict = {key: move.target}
        for needed in move.required_fields:
            if current.get(needed) in EMPTY:
                changes[needed] = self.value(entity, needed, entity.fields[needed], current)
        changes.update(self.action_values(entity, move.actions, changes, stored))
        before = self.cel(entity, {}, stored)
        after = self.cel(entity, changes, stored)
        for field_key, programs in plan.visible.items():
            f = entity.fields[field_key]
            if (
                field_key not in changes
                and field_key not in plan.automated
                and after.get(field_key) is None
                and all_hold(programs, after)
                and not all_hold(programs, before)
                and self.random.random() < 0.85
            ):
                changes[field_key] = self.value(entity, field_key, f, {**current, **changes})
        self.hide(entity, changes, stored)
        changes.update(self.set_by_automations(entity, changes, "updated", set(changes), stored))
        for _repair in range(REPAIRS + 1):
            try:
                view = self.service.update(entity.key, record_id, changes)
            except RecordError as refused:
                if not self.repair(entity, changes, refused, current):
                    return False
                continue
            self.made[entity.key][record_id] = view.values
            return True
        return False

    def count(self) -> int:
        if self.random.random() < 0.9:
            return self.random.randint(*PER_PARENT)
        return self.random.randint(*MANY)

    def fill(self) -> Report:
        order = self.order()
        for entity in order:
            parents = self.parents(entity)
            if parents:
                for parent in parents:
                    for _ in range(self.count()):
                        self.create(entity, parent)
            else:
                for _ in range(BASE * self.factor):
                    self.create(entity, None)
        for entity in order:  # once everything exists (an order has its lines)
            if self.plan(entity).machines:
                for record_id in list(self.ids.get(entity.key, [])):
                    self.walk(entity, record_id)
        return self.report


def fill(tenant, *, scale: str = "small", seed: int = 7) -> Report:
    return DemoData(tenant, scale=scale, seed=seed).fill()
