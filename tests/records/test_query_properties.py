"""Properties of the query compiler against PostgreSQL.

1. Filters: for random companies and random filter trees (and / or / not up to depth 3, every
   operator the fields allow), the records the compiled SQL returns are exactly those a plain
   Python evaluator of the documented semantics selects. The evaluator is three-valued: a
   comparison on an empty field is unknown (``None``), except ``ne`` / ``not_in`` (``IS DISTINCT
   FROM``, so an empty field matches) and ``is_null``; ``and`` / ``or`` propagate unknown the SQL
   way; ``not`` is ``NOT COALESCE(x, FALSE)`` and the whole tree is ``COALESCE(x, FALSE)``; text
   ``contains`` / ``starts_with`` are ILIKE (case-insensitive, ``%`` ``_`` ``\\`` literal).
2. Keyset pages: under random multi-key sorts (direction, nulls first / last), walking pages of
   ``k`` records with ``after=end_cursor`` yields every record once, in the order of one big page;
   that order follows the sort keys (then the id).

Each example creates its companies and deletes and purges them at the end, so examples never see
each other's records.
"""

import datetime as dt
import functools
import itertools
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

OMIT = "omit"  # the key is left out of the input: the field's default applies, if it has one
DEFAULTS = {"tier": "c", "active": True, "credit_limit": Decimal("0.00")}
TAG_OPTIONS = ("partner", "reseller")  # in option order; "legacy" is inactive
# ASCII only, so that Python's lower() and PostgreSQL's ILIKE agree whatever the collation;
# % _ and \ check that LIKE patterns are escaped.
NAME_ALPHABET = "abAB z%_\\"
NAMES = st.text(NAME_ALPHABET, min_size=1, max_size=5).map(str.strip).filter(bool)

OPERATORS = {
    "name": ("eq", "ne", "in", "not_in", "is_null", "contains", "starts_with"),
    "employees": ("eq", "ne", "in", "not_in", "is_null", "lt", "lte", "gt", "gte", "between"),
    "tier": ("eq", "ne", "in", "not_in", "is_null"),
    "tags": ("contains", "is_null"),
    "active": ("eq", "ne", "in", "not_in", "is_null"),
    "founded": ("eq", "ne", "in", "not_in", "is_null", "lt", "lte", "gt", "gte", "between"),
    "credit_limit": ("eq", "ne", "in", "not_in", "is_null", "lt", "lte", "gt", "gte", "between"),
}
SORT_FIELDS = ("employees", "founded", "credit_limit", "tier", "name")


@dataclass
class Company:
    values: dict  # what is given to shop.create
    stored: dict  # every queried field as stored, None when empty


@st.composite
def company_rows(draw, *, narrow: bool = False, max_size: int = 12) -> list[Company]:
    """0..max_size companies with unique names. ``narrow`` draws values from small pools so
    that sort keys tie often."""
    names = draw(st.lists(NAMES, max_size=max_size, unique=True))
    if narrow:
        employees = st.sampled_from([None, 0, 1, 7, 500])
        founded = st.sampled_from([None, dt.date(1990, 1, 1), dt.date(2024, 2, 29)])
        credit = st.sampled_from([OMIT, None, Decimal("1.50"), Decimal("20.00")])
    else:
        employees = st.none() | st.integers(0, 500)
        founded = st.none() | st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31))
        credit = st.sampled_from([OMIT, None]) | st.decimals(
            0, 1000, places=2, allow_nan=False, allow_infinity=False
        )
    rows = []
    for name in names:
        values, stored = {"name": name}, {"name": name}
        stored["employees"] = draw(employees)
        if stored["employees"] is not None:
            values["employees"] = stored["employees"]
        date = draw(founded)
        stored["founded"] = None if date is None else date.isoformat()
        if date is not None:
            values["founded"] = date.isoformat()
        for key, strategy in (
            ("tier", st.sampled_from([OMIT, "a", "b", "c"])),
            ("active", st.sampled_from([OMIT, True, False])),
            ("credit_limit", credit),
        ):
            value = draw(strategy)
            if value == OMIT:
                stored[key] = DEFAULTS[key]
            else:
                # An explicit None clears the field: no default applies (credit_limit only).
                values[key] = str(value) if isinstance(value, Decimal) else value
                stored[key] = value
        tags = draw(st.lists(st.sampled_from(TAG_OPTIONS), max_size=3))
        if tags:
            values["tags"] = tags
        stored["tags"] = [t for t in TAG_OPTIONS if t in tags] or None
        rows.append(Company(values, stored))
    return rows


# -- filter trees ------------------------------------------------------------------------


def existing(rows: list[Company], field: str) -> list:
    return [row.stored[field] for row in rows if row.stored[field] is not None]


def value_strategy(field: str, rows: list[Company]) -> st.SearchStrategy:
    """One filter value for ``field``: often a value some record holds."""
    if field == "name":
        fresh = NAMES
    elif field == "employees":
        fresh = (
            st.integers(-5, 505) | st.integers(0, 500).map(str) | st.sampled_from(["1e1", "7.0"])
        )
    elif field == "credit_limit":
        fresh = (
            st.decimals(-5, 1005, places=2, allow_nan=False, allow_infinity=False)
            | st.decimals(0, 1000, places=3, allow_nan=False, allow_infinity=False).map(str)
            | st.integers(0, 1000)
            | st.sampled_from(["1e2", "2.5E1", "-0", "0.0", "1.500"])
        )
    elif field == "founded":
        fresh = st.dates(dt.date(1985, 1, 1), dt.date(2035, 12, 31)).map(dt.date.isoformat)
    elif field == "tier":
        return st.sampled_from(["a", "b", "c"])
    elif field == "active":
        return st.booleans()
    else:
        raise AssertionError(field)
    held = existing(rows, field)
    if field == "credit_limit":
        held = [str(value) for value in held]
    return st.sampled_from(held) | fresh if held else fresh


def fragments(rows: list[Company]) -> st.SearchStrategy:
    """A text pattern for contains / starts_with: a piece of a name, its case shuffled."""
    fresh = st.text(NAME_ALPHABET, max_size=3)
    if not rows:
        return fresh

    @st.composite
    def piece(draw):
        name = draw(st.sampled_from([row.stored["name"] for row in rows]))
        start = draw(st.integers(0, len(name)))
        end = draw(st.integers(start, len(name)))
        flips = draw(st.lists(st.booleans(), min_size=end - start, max_size=end - start))
        return "".join(
            ch.swapcase() if flip else ch for ch, flip in zip(name[start:end], flips, strict=True)
        )

    return piece() | fresh


@st.composite
def leaves(draw, rows: list[Company]) -> dict:
    if draw(st.integers(0, 3)) == 0:  # patterns get extra weight: casing and escaping
        field, op = "name", draw(st.sampled_from(["contains", "starts_with"]))
    else:
        field = draw(st.sampled_from(sorted(OPERATORS)))
        op = draw(st.sampled_from(OPERATORS[field]))
    if op == "is_null":
        value = draw(st.booleans())
    elif field == "tags":
        value = draw(st.sampled_from(["partner", "reseller", "legacy"]))
    elif op in ("contains", "starts_with"):
        value = draw(fragments(rows))
    elif op in ("in", "not_in"):
        value = draw(st.lists(value_strategy(field, rows), min_size=1, max_size=3))
    elif op == "between":
        value = draw(st.lists(value_strategy(field, rows), min_size=2, max_size=2))
    else:
        value = draw(value_strategy(field, rows))
    return {"field": field, "op": op, "value": value}


@st.composite
def filter_trees(draw, rows: list[Company], depth: int = 3) -> dict:
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return draw(leaves(rows))
    kind = draw(st.sampled_from(["and", "or", "not"]))
    if kind == "not":
        return {"not": draw(filter_trees(rows, depth - 1))}
    children = draw(st.integers(1, 3))
    return {kind: [draw(filter_trees(rows, depth - 1)) for _ in range(children)]}


# -- the reference evaluator ---------------------------------------------------------------


def as_python(field: str, value):
    """A filter value in the Python form of the stored values it is compared with."""
    if field in ("employees", "credit_limit"):
        return Decimal(str(value))
    return value


def like(pattern: str, text: str, *, prefix: bool) -> bool:
    pattern, text = pattern.lower(), text.lower()
    return text.startswith(pattern) if prefix else pattern in text


def matches(node: dict, row: dict) -> bool | None:
    """SQL's three-valued truth of ``node`` for a record: True, False or None (unknown)."""
    if "and" in node:
        results = [matches(child, row) for child in node["and"]]
        if False in results:
            return False
        return True if all(r is True for r in results) else None
    if "or" in node:
        results = [matches(child, row) for child in node["or"]]
        if True in results:
            return True
        return False if all(r is False for r in results) else None
    if "not" in node:
        return matches(node["not"], row) is not True  # NOT COALESCE(x, FALSE)
    field, op, value = node["field"], node["op"], node["value"]
    stored = row[field]
    if op == "is_null":
        return (stored is None) == value
    if op == "ne":
        return stored is None or stored != as_python(field, value)
    if op == "not_in":
        return stored is None or all(stored != as_python(field, v) for v in value)
    if stored is None:
        return None
    if field == "tags":  # contains on a multi_choice: the option is among the values
        return value in stored
    if op in ("contains", "starts_with"):
        return like(value, stored, prefix=op == "starts_with")
    if op == "in":
        return any(stored == as_python(field, v) for v in value)
    if op == "between":
        low, high = (as_python(field, v) for v in value)
        return low <= stored <= high
    other = as_python(field, value)
    return {
        "eq": stored == other,
        "lt": stored < other,
        "lte": stored <= other,
        "gt": stored > other,
        "gte": stored >= other,
    }[op]


def expected_names(tree: dict, rows: list[Company]) -> set[str]:
    return {row.stored["name"] for row in rows if matches(tree, row.stored) is True}


# -- helpers -----------------------------------------------------------------------------


@contextmanager
def stored_companies(shop, rows: list[Company]):
    """The rows created through the service; deleted and purged afterwards."""
    assert shop.query("company", first=1).rows == [], "a previous example left companies"
    created = []
    try:
        for row in rows:
            view = shop.create("company", row.values)
            created.append(view)
            got = {key: view.values.get(key) for key in row.stored}
            if got["founded"] is not None:
                got["founded"] = str(got["founded"])
            assert got == row.stored, f"stored values differ from the model for {row.values}"
        yield created
    finally:
        for view in created:
            shop.delete("company", view.id)
            shop.purge("company", view.id)


def run(shop, **kwargs):
    # In a savepoint: an SQL error then leaves the test transaction usable for the clean-up.
    with transaction.atomic():
        return shop.query("company", **kwargs)


# -- property 1: filters -------------------------------------------------------------------


@SETTINGS
@given(rows=company_rows(), data=st.data())
def test_filters_select_what_the_documented_semantics_select(shop, rows, data):
    note(f"companies: {[row.values for row in rows]}")
    with stored_companies(shop, rows):
        for _ in range(15):
            tree = data.draw(filter_trees(rows), label="filter_tree")
            page = run(shop, filter_tree=tree, first=500)
            got = [row.values["name"] for row in page.rows]
            assert len(got) == len(set(got))
            assert not page.has_next
            expected = expected_names(tree, rows)
            assert set(got) == expected, (
                f"filter {tree}: SQL gave {sorted(got)}, expected {sorted(expected)}"
            )


# -- property 2: keyset pages ---------------------------------------------------------------


@st.composite
def sorts(draw) -> list[dict]:
    fields = draw(st.lists(st.sampled_from(SORT_FIELDS), unique=True, max_size=4))
    order = []
    for key in fields:
        item = {"field": key}
        direction = draw(st.sampled_from([None, "asc", "desc"]))
        nulls = draw(st.sampled_from([None, "first", "last"]))
        if direction is not None:
            item["direction"] = direction
        if nulls is not None:
            item["nulls"] = nulls
        order.append(item)
    return order


def compare(order: list[dict], a: tuple, b: tuple) -> int:
    """-1 / 0 / 1: how records a and b (their sort values) compare under ``order``."""
    for item, x, y in zip(order, a, b, strict=True):
        if x == y:
            continue
        # Without "nulls", empty values come last ascending and first descending (PostgreSQL's
        # own defaults, which one index per field serves both ways).
        default = "first" if item.get("direction") == "desc" else "last"
        nulls_first = item.get("nulls", default) == "first"
        if x is None or y is None:
            return (-1 if x is None else 1) * (1 if nulls_first else -1)
        sign = -1 if x < y else 1
        return sign if item.get("direction", "asc") == "asc" else -sign
    return 0


@SETTINGS
@given(rows=company_rows(narrow=True), order=sorts(), size=st.integers(1, 5))
def test_keyset_pages_walk_every_record_once_in_sort_order(shop, rows, order, size):
    with stored_companies(shop, rows) as created:
        everything = run(shop, order_by=order, first=500)
        assert not everything.has_next
        big = [row.id for row in everything.rows]
        assert sorted(big) == sorted(view.id for view in created)

        walked, after = [], None
        for _ in range(len(rows) + 2):
            page = run(shop, order_by=order, first=size, after=after)
            walked += [row.id for row in page.rows]
            if not page.has_next:
                assert len(page.rows) <= size
                break
            assert len(page.rows) == size
            after = page.end_cursor
        else:
            raise AssertionError("the pages never end")
        assert walked == big

        # The big page follows the sort keys. Names sort in the database's collation, so the
        # keys are checked up to the name (which is unique: nothing after it matters).
        stored = {view.id: rows[i].stored for i, view in enumerate(created)}
        keys = []
        for item in order:
            if item["field"] == "name":
                break
            keys.append(item)

        def key(record_id):
            return (*(stored[record_id][item["field"]] for item in keys), record_id)

        for before, current in itertools.pairwise(big):
            assert compare(keys, key(before)[:-1], key(current)[:-1]) <= 0, (
                f"{order}: {key(before)} is listed before {key(current)}"
            )
        if len(keys) == len(order):  # no name key: the id breaks every tie, in the first
            # key's direction
            first = order[0].get("direction", "asc") if order else "asc"
            by_id = [*keys, {"field": "id", "direction": first}]
            expected = sorted(
                big, key=functools.cmp_to_key(lambda a, b: compare(by_id, key(a), key(b)))
            )
            assert big == expected
