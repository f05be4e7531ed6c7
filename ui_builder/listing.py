"""What a list page shows, as the query string carries it: the search, the filter conditions
the user built, the sort. Saved views store the same state.

A condition is ``f=field|op|value`` (several are ANDed); its value is text the records service
normalizes by the field's type; ``in`` / ``not_in`` take comma-separated values, ``between``
two. The operators offered for a field are those its type allows (``operators_for``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.utils.translation import gettext_lazy as _

from metadata.fieldtypes.base import DAY_COUNTS, RELATIVE_DATES

NO_VALUE = {"is_null", "is_me", *RELATIVE_DATES} - set(DAY_COUNTS)
OPERATOR_LABELS = {
    "eq": _("is"),
    "ne": _("is not"),
    "in": _("is one of"),
    "not_in": _("is none of"),
    "is_null": _("is empty"),
    "lt": _("is less than"),
    "lte": _("is at most"),
    "gt": _("is greater than"),
    "gte": _("is at least"),
    "between": _("is between"),
    "contains": _("contains"),
    "starts_with": _("starts with"),
    "is_me": _("is me"),
    "today": _("is today"),
    "yesterday": _("was yesterday"),
    "tomorrow": _("is tomorrow"),
    "this_week": _("is this week"),
    "last_week": _("was last week"),
    "this_month": _("is this month"),
    "last_month": _("was last month"),
    "this_quarter": _("is this quarter"),
    "this_year": _("is this year"),
    "last_n_days": _("in the last N days"),
    "next_n_days": _("in the next N days"),
    "over_n_days_ago": _("more than N days ago"),
}


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: str = ""

    def encoded(self) -> str:
        return f"{self.field}|{self.op}|{self.value}"


@dataclass
class ListState:
    search: str = ""
    conditions: list[Condition] = field(default_factory=list)
    sort: str = ""  # "field" or "-field"
    problems: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, query) -> ListState:
        conditions = []
        for text in query.getlist("f"):
            parts = text.split("|", 2)
            if len(parts) >= 2 and parts[0] and parts[1]:
                conditions.append(Condition(parts[0], parts[1], parts[2] if len(parts) > 2 else ""))
        if query.get("new_field") and query.get("new_op"):  # the filter builder's new row
            conditions.append(
                Condition(query["new_field"], query["new_op"], query.get("new_value", ""))
            )
        return cls(
            search=query.get("q", "").strip(),
            conditions=conditions,
            sort=query.get("sort", "").strip(),
        )

    @classmethod
    def from_saved(cls, state: dict) -> ListState:
        return cls(
            search=state.get("search", ""),
            conditions=[Condition(**c) for c in state.get("conditions", [])],
            sort=state.get("sort", ""),
        )

    def saved(self) -> dict:
        return {
            "search": self.search,
            "conditions": [c.__dict__ for c in self.conditions],
            "sort": self.sort,
        }

    def query(self, **extra) -> str:
        pairs = [("q", self.search)] if self.search else []
        pairs += [("f", c.encoded()) for c in self.conditions]
        if self.sort:
            pairs.append(("sort", self.sort))
        pairs += [(k, v) for k, v in extra.items() if v not in (None, "")]
        return urlencode(pairs)

    def sorted_by(self, key: str) -> str:
        """The query string that sorts by ``key`` (descending when it already sorts by it)."""
        toggled = f"-{key}" if self.sort == key else key
        return ListState(self.search, self.conditions, toggled).query()

    def filter_tree(self, entity, hidden: frozenset[str], base: dict | None) -> dict | None:
        """The records service's filter for the conditions (with the layout's own filter);
        conditions it cannot take are dropped and named in ``problems``."""
        parts = [base] if base else []
        for condition in self.conditions:
            node = self._node(entity, hidden, condition)
            if node is not None:
                parts.append(node)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else {"and": parts}

    def order_by(self, entity, hidden: frozenset[str], default: list) -> list:
        key = self.sort.removeprefix("-")
        if not key:
            return default
        if key not in entity.fields or key in hidden:
            self.problems.append(str(_("There is no field %(key)s to sort by.") % {"key": key}))
            return default
        return [{"field": key, "direction": "desc" if self.sort.startswith("-") else "asc"}]

    def _node(self, entity, hidden, condition: Condition) -> dict | None:
        field_ = entity.fields.get(condition.field)
        if field_ is None or condition.field in hidden:
            self.problems.append(
                str(_("There is no field %(key)s to filter by.") % {"key": condition.field})
            )
            return None
        if condition.op not in field_.type.operators_for(field_.options):
            self.problems.append(
                str(
                    _("%(field)s cannot be filtered with “%(op)s”.")
                    % {"field": condition.field, "op": condition.op}
                )
            )
            return None
        value = condition.value.strip()
        if condition.op in ("is_null", "is_me"):
            return {"field": condition.field, "op": condition.op, "value": value != "false"}
        if condition.op in NO_VALUE:
            return {"field": condition.field, "op": condition.op}
        if condition.op in DAY_COUNTS:
            if not value.isdigit():
                self.problems.append(
                    str(_("“%(op)s” needs a number of days.") % {"op": condition.op})
                )
                return None
            return {"field": condition.field, "op": condition.op, "value": int(value)}
        if condition.op in ("in", "not_in", "between"):
            items = [v.strip() for v in value.split(",") if v.strip()]
            if condition.op == "between" and len(items) != 2:
                self.problems.append(str(_("“between” needs two values: low, high.")))
                return None
            if not items:
                self.problems.append(str(_("“%(op)s” needs values.") % {"op": condition.op}))
                return None
            return {"field": condition.field, "op": condition.op, "value": items}
        if value == "":
            self.problems.append(
                str(_("The condition on %(field)s needs a value.") % {"field": condition.field})
            )
            return None
        return {"field": condition.field, "op": condition.op, "value": value}


def described(entity, conditions: list[Condition]) -> list[tuple[Condition, str]]:
    """Each condition with its words for the page: "Amount · is greater than · 500"."""
    from ui_builder.display import label_of

    shown = []
    for condition in conditions:
        field_ = entity.fields.get(condition.field)
        name = label_of(field_.options.get("label"), condition.field) if field_ else condition.field
        words = [name, str(OPERATOR_LABELS.get(condition.op, condition.op))]
        shown.append(
            (condition, " · ".join([*words, condition.value] if condition.value else words))
        )
    return shown


def filterable(entity, hidden: frozenset[str]) -> list[dict]:
    """The fields a user may filter by and each one's operators, for the filter builder."""
    from ui_builder.display import label_of

    return [
        {
            "key": key,
            "label": label_of(f.options.get("label"), key),
            "operators": [
                (op, OPERATOR_LABELS.get(op, op)) for op in f.type.operators_for(f.options)
            ],
        }
        for key, f in entity.fields.items()
        if key not in hidden and f.type.operators_for(f.options)
    ]
