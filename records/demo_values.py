"""Made-up values for the demo dataset (records/demo_data.py), from a field's type, key and
options only: numbers sized by what the key says they count (a quantity, an amount of money, a
discount), dates that follow the date they come after, texts that suit the key."""

from __future__ import annotations

import datetime as dt
import math
import random
import re
from decimal import Decimal

UTC = dt.UTC
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
# Sibling keys that make an entity's ``name`` a person's name.
PERSON_KEYS = {"first_name", "last_name", "job_title", "birthday", "mobile"}
# Words of a key (split on "_") saying what a number is.
COUNT_WORDS = {"quantity", "qty", "count", "units", "seats", "pieces"}
MONEY_WORDS = {
    "price",
    "cost",
    "amount",
    "value",
    "budget",
    "revenue",
    "total",
    "fee",
    "limit",
    "arrears",
    "salary",
    "income",
    "balance",
}
DISCOUNT_WORDS = {"discount"}
MONEY = (100, 200_000)  # an amount of money: log-uniform between these
COUNT = (1, 20)
OTHER = (1, 1000)  # a number the key says nothing of
# A moment after another: log-uniform between these many hours (an hour to two weeks for a
# date-time: a case resolved within its SLA or not; a day to a year for a date).
SPAN_HOURS = {"datetime": (1, 24 * 14), "date": (24, 24 * 365)}
FOLLOW_RULE = re.compile(r"record\.(\w+)\s*(>=|>|<=|<)\s*record\.(\w+)")


def words(key: str) -> set[str]:
    return set(key.lower().split("_"))


def is_price(key: str) -> bool:
    return "price" in words(key)


def is_cost(key: str) -> bool:
    return "cost" in words(key)


def text(faker, key: str, kind: str, siblings) -> str:
    """A text for a field named ``key`` of an entity with ``siblings`` fields."""
    provider = TEXT_BY_KEY.get(key) or ("paragraph" if kind != "text" else "word")
    if key == "name" and PERSON_KEYS & set(siblings):
        provider = "name"
    if provider == "province" and not hasattr(faker, provider):
        provider = "state"
    return str(getattr(faker, provider, faker.word)())


def log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def significant(number: float, digits: int = 3) -> Decimal:
    """``number`` rounded to a few significant digits (a price of 4,840, not 4,837.21)."""
    if number <= 0:
        return Decimal(0)
    exponent = math.floor(math.log10(number)) - digits + 1
    return Decimal(round(number / 10**exponent)) * Decimal(10) ** exponent


def discount(rng: random.Random) -> Decimal:
    """Mostly none or a little (up to 15 %), now and then more: the few above 20 % are what
    a discount approval is for."""
    draw = rng.random()
    if draw < 0.5:
        return Decimal(0)
    if draw < 0.93:
        return Decimal(rng.randint(1, 15))
    return Decimal(rng.randint(16, 35))


def number(rng: random.Random, kind: str, key: str, options: dict) -> Decimal:
    """A plausible number for a field of ``kind`` (integer, decimal, percent, currency) named
    ``key``, within the field's min and max."""
    low, high = options.get("min"), options.get("max")
    said = words(key)
    default = options.get("default")
    if said & COUNT_WORDS:  # mostly a few
        made = Decimal(math.floor(log_uniform(rng, COUNT[0], COUNT[1] + 1)))
    elif said & DISCOUNT_WORDS:
        made = discount(rng)
    elif kind == "currency" or said & MONEY_WORDS:
        bottom = max(MONEY[0], low or 0)
        top = min(MONEY[1], high if high is not None else MONEY[1])
        made = significant(log_uniform(rng, bottom, top)) if bottom < top else Decimal(bottom)
    elif isinstance(default, int | float) and rng.random() < 0.7:
        made = Decimal(str(default))  # a tax rate, a commission rate: mostly the usual one
    elif low is not None and high is not None:
        made = Decimal(str(rng.uniform(low, high)))
    elif kind == "percent":
        made = Decimal(str(rng.triangular(0, 100, 10)))
    else:
        made = Decimal(str(log_uniform(rng, max(OTHER[0], low or 0), OTHER[1])))
    if low is not None:
        made = max(made, Decimal(str(low)))
    if high is not None:
        made = min(made, Decimal(str(high)))
    if kind == "integer":
        return made.to_integral_value()
    return made.quantize(Decimal(1).scaleb(-options.get("scale", 2)))


def moment(value) -> dt.datetime | None:
    """A date or date-time value (as made up, stored or read back) as an aware datetime."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(9), tzinfo=UTC)
    text = str(value).replace("Z", "+00:00")
    parsed = dt.datetime.fromisoformat(text)
    if len(text) == 10:  # a date: office hours
        parsed = parsed.replace(hour=9)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def after(rng: random.Random, start: dt.datetime, kind: str) -> dt.datetime:
    """A moment some time after ``start`` (SPAN_HOURS)."""
    return start + dt.timedelta(hours=log_uniform(rng, *SPAN_HOURS.get(kind, (1, 24 * 30))))


def as_value(when: dt.datetime, kind: str) -> str:
    return when.date().isoformat() if kind == "date" else when.isoformat()


def follows(entity) -> dict[str, str]:
    """For each date field that comes after another: the key of that other one, from the
    entity's rules (``record.end >= record.start``) and keys (end/start, due/start,
    close/open)."""
    dated = {k for k, f in entity.fields.items() if f.options["type"] in ("date", "datetime")}
    found: dict[str, str] = {}
    for rule in entity.rules:
        for left, op, right in FOLLOW_RULE.findall(rule.program.source):
            later, earlier = (left, right) if op.startswith(">") else (right, left)
            if {later, earlier} <= dated and later != earlier:
                found.setdefault(later, earlier)
    for key in dated:
        start = key.replace("end", "start").replace("due", "start").replace("close", "open")
        if start != key and start in dated:
            found.setdefault(key, start)
    # no loops: a field that would (through others) follow itself follows nothing
    for key in list(found):
        seen, current = {key}, found[key]
        while current in found:
            current = found[current]
            if current in seen:
                found.pop(key)
                break
            seen.add(current)
    return found


def depth(key: str, follow: dict[str, str]) -> int:
    count = 0
    while key in follow:
        key, count = follow[key], count + 1
    return count
