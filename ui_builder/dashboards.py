"""Dashboards and report pages: the configuration's reports run for the user (their scope),
their values said in words (choice labels, record titles, users, periods, localized numbers),
and the data their charts draw.

A user sees the dashboards naming one of their roles, else the default one; a report that names
roles is shown only to those roles, and on a dashboard only to users who may read the entities
it reads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import formats
from django.utils.translation import gettext as _

from records.errors import RecordError, RecordErrorCode
from records.reports import ReportResult, datasets, run_report
from tenants.models import User
from ui_builder.display import label_of, shown

PERIODS = {"year": "Y", "month": "YEAR_MONTH_FORMAT", "day": "SHORT_DATE_FORMAT"}


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]


@dataclass
class Widget:
    key: str
    label: str
    kind: str
    width: int
    table: Table
    chart: dict = field(default_factory=dict)  # Chart.js data: labels and datasets
    number: str = ""  # a "number" report: its one value


def dashboards_for(config, roles) -> list[dict]:
    named = [d for d in config.dashboards if set(d.get("roles", [])) & set(roles)]
    if named:
        return named
    return [d for d in config.dashboards if d.get("default")]


def may_see(spec: dict, roles) -> bool:
    return not spec.get("roles") or bool(set(spec["roles"]) & set(roles))


def may_read_all(service, config, spec: dict) -> bool:
    """Whether the user may read every entity the report reads (its own and its joins'): a
    dashboard serving several roles shows each the reports it can run."""
    keys = [spec["entity"], *(join["entity"] for join in spec.get("join", []))]
    return all(
        key in config.entities and service.permissions.may_read(config, config.entities[key])
        for key in keys
    )


def report_spec(service, key: str) -> dict:
    config = service.configuration()
    spec = config.reports.get(key)
    if spec is None or not may_see(spec, service.permissions.principal.roles):
        raise RecordError(RecordErrorCode.NOT_FOUND, f"There is no report {key!r}.")
    return spec


def widget(service, spec: dict, width: int = 2) -> Widget:
    config = service.configuration()
    result = run_report(service, spec)
    table = tabled(service, config, result)
    kind = spec.get("chart", {}).get("kind", "table")
    made = Widget(
        key=spec["key"],
        label=label_of(spec.get("label"), spec["key"]),
        kind=kind,
        width=width,
        table=table,
    )
    if kind == "number":
        made.number = table.rows[0][len(result.groups)] if table.rows else "—"
    elif kind != "table":
        made.chart = chart_data(result, table, spec, metric_formats(config, spec))
    return made


def dashboard(service, key: str | None) -> tuple[list[dict], dict | None, list[Widget]]:
    """The user's dashboards, the one shown (``key`` or the first) and its widgets."""
    config = service.configuration()
    roles = service.permissions.principal.roles
    mine = dashboards_for(config, roles)
    shown_one = next((d for d in mine if d["key"] == key), None) if key else None
    if key and shown_one is None:
        raise RecordError(RecordErrorCode.NOT_FOUND, f"There is no dashboard {key!r}.")
    shown_one = shown_one or (mine[0] if mine else None)
    widgets = []
    for item in shown_one["widgets"] if shown_one else []:
        spec = config.reports.get(item["report"])
        if spec is not None and may_see(spec, roles) and may_read_all(service, config, spec):
            widgets.append(widget(service, spec, item.get("width", 2)))
    return mine, shown_one, widgets


# -- words -------------------------------------------------------------------------------


def tabled(service, config, result: ReportResult) -> Table:
    spec = result.spec
    entity = config.entities[spec["entity"]]
    labels = metric_labels(spec)
    formats_by_key = metric_formats(config, spec)
    columns = [group_label(entity, name) for name in result.groups] + [
        labels[key] for key in result.values
    ]
    users = user_emails(result, entity)
    titles = lookup_titles(service, config, entity, result)
    rows = [
        [
            group_value(entity, name, row["group"][i], users, titles)
            for i, name in enumerate(result.groups)
        ]
        + [formatted(row.get(key), formats_by_key.get(key)) for key in result.values]
        for row in result.rows
    ]
    return Table(columns, rows)


def metric_labels(spec: dict) -> dict[str, str]:
    found = {}
    for dataset in datasets(spec):
        for metric in dataset["metrics"]:
            found[metric["key"]] = label_of(metric.get("label"), metric["key"])
    for computed in spec.get("computed", []):
        found[computed["key"]] = label_of(computed.get("label"), computed["key"])
    return found


def metric_formats(config, spec: dict) -> dict[str, str]:
    found = {}
    for dataset in datasets(spec):
        entity = config.entities[dataset["entity"]]
        for metric in dataset["metrics"]:
            kind = metric.get("format")
            if kind is None:
                if metric["fn"] == "count":
                    kind = "integer"
                else:
                    source = entity.fields.get(metric.get("field"))
                    kind = (
                        "currency" if source and source.options["type"] == "currency" else "number"
                    )
            found[metric["key"]] = kind
    for computed in spec.get("computed", []):
        found[computed["key"]] = computed.get("format", "number")
    return found


def formatted(value, kind: str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    number = Decimal(str(value))
    if kind == "percent":
        return formats.number_format(rounded(number * 100, 1), 1, use_l10n=True) + "%"
    if kind == "integer":
        return formats.number_format(rounded(number, 0), 0, use_l10n=True, force_grouping=True)
    return formats.number_format(rounded(number, 2), 2, use_l10n=True, force_grouping=True)


def rounded(number: Decimal, places: int) -> Decimal:
    """Django's number_format cuts digits off; round them half up first."""
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def group_label(entity, name: str) -> str:
    key, _sep, bucket = name.partition(":")
    f = entity.fields.get(key)
    label = label_of(f.options.get("label"), key) if f else {"owner": _("Owner")}.get(key, key)
    return f"{label} ({bucket})" if bucket else label


def group_value(entity, name: str, value, users: dict, titles: dict) -> str:
    if value is None:
        return _("(none)")
    key, _sep, bucket = name.partition(":")
    if bucket:
        day = dt.date.fromisoformat(str(value)[:10])
        if bucket == "quarter":
            return f"{day.year} Q{(day.month - 1) // 3 + 1}"
        if bucket == "week":
            return formats.date_format(day, "SHORT_DATE_FORMAT")
        return formats.date_format(day, PERIODS[bucket])
    f = entity.fields.get(key)
    if key in ("owner", "created_by") or (f and f.options["type"] == "user"):
        return users.get(value, f"#{value}")
    if f is None:
        return str(value)
    return shown(f, value, titles)


def user_emails(result: ReportResult, entity) -> dict:
    ids = {
        row["group"][i]
        for i, name in enumerate(result.groups)
        for row in result.rows
        if row["group"][i] is not None
        and (
            name in ("owner", "created_by")
            or (entity.fields.get(name) and entity.fields[name].options["type"] == "user")
        )
    }
    return dict(User.objects.filter(pk__in=ids).values_list("pk", "email")) if ids else {}


def lookup_titles(service, config, entity, result: ReportResult) -> dict:
    from types import SimpleNamespace

    from ui_builder.pages import titles_for

    lookups = [
        (i, name)
        for i, name in enumerate(result.groups)
        if entity.fields.get(name) and entity.fields[name].options["type"] == "lookup"
    ]
    if not lookups:
        return {}
    rows = [
        SimpleNamespace(values={name: row["group"][i] for i, name in lookups})
        for row in result.rows
    ]
    return titles_for(service, config, entity, rows)


def chart_data(result: ReportResult, table: Table, spec: dict, kinds: dict) -> dict:
    """Labels and datasets for Chart.js: one series per value drawn, or, grouped by two
    fields, one series per value of the second; percentages drawn as percents."""
    wanted = [
        key
        for key in spec.get("chart", {}).get("values") or result.values
        if kinds.get(key) != "text"
    ]

    def plain(value, key):
        if value is None or isinstance(value, str):
            return None
        return float(value) * (100 if kinds.get(key) == "percent" else 1)

    width = len(result.groups)
    index = {key: width + i for i, key in enumerate(result.values)}
    if width == 2:
        labels = list(dict.fromkeys(row[0] for row in table.rows))
        series = list(dict.fromkeys(row[1] for row in table.rows))
        key = wanted[0]
        datasets = []
        for name in series:
            data = []
            for label in labels:
                match = next(
                    (
                        r
                        for r, t in zip(result.rows, table.rows, strict=True)
                        if t[0] == label and t[1] == name
                    ),
                    None,
                )
                data.append(plain(match.get(key), key) if match else None)
            datasets.append({"label": name, "data": data})
        return {"labels": labels, "datasets": datasets}
    labels = [" · ".join(row[:width]) or spec["key"] for row in table.rows]
    return {
        "labels": labels,
        "datasets": [
            {
                "label": table.columns[index[key]],
                "data": [plain(row.get(key), key) for row in result.rows],
            }
            for key in wanted
        ],
    }


def export_rows(service, key: str) -> list[list]:
    """The report as CSV rows: the groups in words, the values as plain numbers."""
    spec = report_spec(service, key)
    result = run_report(service, spec)
    table = tabled(service, service.configuration(), result)
    width = len(result.groups)
    return [
        table.columns,
        *(
            [*words[:width], *("" if row.get(k) is None else row.get(k) for k in result.values)]
            for words, row in zip(table.rows, result.rows, strict=True)
        ),
    ]
