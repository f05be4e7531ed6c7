"""Reports and dashboards from the configuration: checked at publish with their paths, run
through the records service (the user's scope), their numbers equal to sums computed in Python
from the same records, drawn as charts and tables, exported."""

import copy
import csv
import io
from decimal import Decimal

import pytest

from metadata.errors import ConfigError
from metadata.publish import active_version, document_of, publish
from records.reports import run_report
from records.service import RecordService
from tests.fixtures import signed_in

PIPELINE = {
    "key": "pipeline",
    "label": {"en": "Pipeline by stage", "zh-Hans": "按阶段的商机"},
    "entity": "deal",
    "group_by": [{"field": "stage"}],
    "metrics": [
        {"key": "deals", "fn": "count", "label": {"en": "Deals"}},
        {"key": "amount", "fn": "sum", "field": "amount", "label": {"en": "Amount"}},
    ],
    "sort": [{"key": "amount", "direction": "desc"}],
    "chart": {"kind": "funnel", "values": ["amount"]},
}
WIN_RATE = {
    "key": "win_rate",
    "label": {"en": "Win rate by rep"},
    "entity": "deal",
    "group_by": [{"field": "owner"}],
    "metrics": [
        {
            "key": "closed",
            "fn": "count",
            "filter": {"field": "stage", "op": "in", "value": ["won", "lost"]},
        },
        {"key": "won", "fn": "count", "filter": {"field": "stage", "op": "eq", "value": "won"}},
    ],
    "computed": [
        {
            "key": "rate",
            "expression": "row.closed > 0.0 ? row.won / row.closed : 0.0",
            "format": "percent",
            "label": {"en": "Win rate"},
        }
    ],
    "having": "row.closed > 0.0",
    "chart": {"kind": "bar", "values": ["rate"]},
}
BY_MONTH = {
    "key": "by_month",
    "label": {"en": "Won by month"},
    "entity": "deal",
    "filter": {"field": "stage", "op": "eq", "value": "won"},
    "group_by": [{"field": "close_date", "bucket": "month"}],
    "metrics": [{"key": "amount", "fn": "sum", "field": "amount"}],
    "chart": {"kind": "line"},
}
TOTAL = {
    "key": "total",
    "label": {"en": "Open pipeline"},
    "entity": "deal",
    "filter": {"field": "stage", "op": "in", "value": ["new", "proposal"]},
    "metrics": [{"key": "amount", "fn": "sum", "field": "amount"}],
    "chart": {"kind": "number"},
}
BY_COMPANY = {
    "key": "by_company",
    "label": {"en": "Deals against credit"},
    "entity": "deal",
    "group_by": [{"field": "company"}],
    "metrics": [{"key": "amount", "fn": "sum", "field": "amount"}],
    "join": [
        {
            "entity": "company",
            "group_by": [{"field": "id"}],
            "metrics": [{"key": "credit", "fn": "sum", "field": "credit_limit"}],
        }
    ],
    "computed": [
        {"key": "share", "expression": "row.credit > 0.0 ? row.amount / row.credit : 0.0"}
    ],
    "sort": [{"key": "amount", "direction": "desc"}],
    "limit": 2,
}
DASHBOARDS = [
    {
        "key": "sales",
        "label": {"en": "Sales", "zh-Hans": "销售"},
        "roles": ["sales_manager", "tenant_admin"],
        "widgets": [
            {"report": "total", "width": 1},
            {"report": "pipeline", "width": 3},
            {"report": "win_rate"},
            {"report": "by_month"},
        ],
    },
    {
        "key": "mine",
        "label": {"en": "My pipeline"},
        "default": True,
        "widgets": [{"report": "pipeline"}, {"report": "total"}],
    },
]


def with_reports(tenant, reports, dashboards=()):
    document = copy.deepcopy(document_of(active_version(tenant)))
    document["reports"] = reports
    document["dashboards"] = list(dashboards)
    return document


@pytest.fixture
def sales(make_tenant, add_member, client):
    made = make_tenant("numbers", pack="starter")
    publish(
        made.tenant,
        document=with_reports(
            made.tenant, [PIPELINE, WIN_RATE, BY_MONTH, TOTAL, BY_COMPANY], DASHBOARDS
        ),
    )
    made.admin_service = RecordService(made.tenant, made.admin)
    made.add_member = add_member
    made.rep_user = add_member(made.tenant, "rep@numbers.test")
    made.rep = RecordService(made.tenant, made.rep_user)
    admin = made.admin_service
    made.companies = [
        admin.create("company", {"name": name, "credit_limit": credit})
        for name, credit in [("Acme", 1000), ("Globex", 50000), ("Initech", 0)]
    ]
    rows = [
        (made.rep, 0, "won", "1200.50", "2026-03-14"),
        (made.rep, 1, "lost", "300", "2026-03-20"),
        (made.rep, 1, "proposal", "5000", None),
        (admin, 0, "won", "800", "2026-04-02"),
        (admin, 2, "won", "99.99", "2026-04-30"),
        (admin, 1, "new", "10", None),
        (admin, 2, "lost", "45", "2026-05-01"),
    ]
    made.deals = []
    for service, company, stage, amount, close in rows:
        values = {
            "name": f"{stage} {amount}",
            "company": made.companies[company].id,
            "stage": stage,
        }
        values["amount"] = amount
        if close:
            values["close_date"] = close
        made.deals.append(service.create("deal", values).values | {"owner": service.user.pk})
    made.client = signed_in(client, made.admin, made.tenant)
    return made


def total(deals, **where) -> Decimal:
    return sum(
        (Decimal(str(d["amount"])) for d in deals if all(d.get(k) == v for k, v in where.items())),
        Decimal(0),
    )


def test_the_numbers_equal_sums_computed_from_the_same_records(sales):
    deals = sales.deals
    pipeline = run_report(sales.admin_service, PIPELINE)
    by_stage = {row["group"][0]: row for row in pipeline.rows}
    for stage in ("won", "lost", "proposal", "new"):
        assert by_stage[stage]["amount"] == total(deals, stage=stage)
        assert by_stage[stage]["deals"] == sum(1 for d in deals if d["stage"] == stage)
    amounts = [row["amount"] for row in pipeline.rows]
    assert amounts == sorted(amounts, reverse=True)
    rates = {row["group"][0]: row["rate"] for row in run_report(sales.admin_service, WIN_RATE).rows}
    for user in (sales.rep_user, sales.admin):
        closed = [d for d in deals if d["owner"] == user.pk and d["stage"] in ("won", "lost")]
        won = [d for d in closed if d["stage"] == "won"]
        assert rates[user.pk] == pytest.approx(len(won) / len(closed))
    months = {
        row["group"][0]: row["amount"] for row in run_report(sales.admin_service, BY_MONTH).rows
    }
    assert months == {
        "2026-03-01": total(deals, stage="won", close_date="2026-03-14"),
        "2026-04-01": Decimal("899.99"),
    }
    (open_row,) = run_report(sales.admin_service, TOTAL).rows
    assert open_row["amount"] == total(deals, stage="proposal") + total(deals, stage="new")


def test_a_join_merges_datasets_on_their_groups(sales):
    result = run_report(sales.admin_service, BY_COMPANY)
    assert len(result.rows) == 2  # the limit
    acme, globex, _initech = sales.companies
    top = result.rows[0]
    assert top["group"] == [globex.id]
    assert top["amount"] == total(sales.deals, company=globex.id)
    assert top["credit"] == Decimal("50000")
    assert top["share"] == pytest.approx(float(top["amount"]) / 50000)


def test_reports_keep_the_users_scope(sales):
    mine = run_report(sales.rep, PIPELINE)  # a rep reads her team's deals only
    seen = sum(row["deals"] for row in mine.rows)
    assert seen == sum(1 for d in sales.deals if d["owner"] == sales.rep_user.pk)


def test_the_dashboard_draws_each_report_and_exports(sales, client):
    page = sales.client.get("/app/r/dashboards/")
    assert page.status_code == 200
    assert page.context["current"]["key"] == "sales"
    widgets = {w.key: w for w in page.context["widgets"]}
    assert list(widgets) == ["total", "pipeline", "win_rate", "by_month"]
    assert widgets["total"].number == "5,010.00"
    pipeline = widgets["pipeline"]
    assert pipeline.table.columns == ["Stage", "Deals", "Amount"]
    assert pipeline.table.rows[0] == ["Proposal", "1", "5,000.00"]
    assert pipeline.chart["labels"][0] == "Proposal"
    assert pipeline.chart["datasets"][0]["data"][0] == 5000.0
    rates = widgets["win_rate"].table
    assert rates.rows == [
        ["admin@numbers.test", "3", "2", "66.7%"],  # rounded half up
        ["rep@numbers.test", "2", "1", "50.0%"],
    ]
    rate = widgets["win_rate"].chart["datasets"][0]
    assert rate["data"] == [pytest.approx(200 / 3), 50.0]  # drawn in percent
    assert widgets["by_month"].table.rows[0][0] == "March 2026"
    html = page.content.decode()
    assert 'id="chart-pipeline"' in html
    assert "chart-4.6.2.umd.min.js" in html
    exported = sales.client.get("/app/r/reports/pipeline/export.csv")
    rows = list(csv.reader(io.StringIO(exported.getvalue().decode())))
    assert rows[0] == ["Stage", "Deals", "Amount"]
    assert rows[1] == ["Proposal", "1", "5000.00"]
    # a rep gets the default dashboard; a report is found by its key, an unknown one is not
    rep = signed_in(client.__class__(), sales.rep_user, sales.tenant)
    assert rep.get("/app/r/dashboards/").context["current"]["key"] == "mine"
    assert rep.get("/app/r/dashboards/sales/").status_code == 404
    assert rep.get("/app/r/reports/pipeline/").status_code == 200
    assert rep.get("/app/r/reports/nothing/").status_code == 404
    assert rep.get("/app/r/reports/nothing/export.csv").status_code == 404


def test_a_dashboard_leaves_out_the_reports_over_entities_the_user_may_not_read(sales, client):
    """A dashboard serving several roles: one that reads deals but no companies sees the
    pipeline, not the report joining companies, whose own page refuses her."""
    document = with_reports(
        sales.tenant,
        [PIPELINE, BY_COMPANY],
        [
            {
                "key": "deals",
                "label": {"en": "Deals"},
                "default": True,
                "widgets": [{"report": "by_company"}, {"report": "pipeline"}],
            }
        ],
    )
    document["roles"].append(
        {
            "key": "deal_viewer",
            "label": {"en": "Deal viewer"},
            "entities": {"deal": {"read": "all"}},
        }
    )
    publish(sales.tenant, document=document)
    viewer = signed_in(
        client.__class__(),
        sales.add_member(sales.tenant, "v@numbers.test", ["deal_viewer"]),
        sales.tenant,
    )
    page = viewer.get("/app/r/dashboards/")
    assert page.status_code == 200
    assert [w.key for w in page.context["widgets"]] == ["pipeline"]
    assert viewer.get("/app/r/reports/by_company/").status_code in (403, 404)
    admin_page = sales.client.get("/app/r/dashboards/deals/")
    assert [w.key for w in admin_page.context["widgets"]] == ["by_company", "pipeline"]


def test_the_dashboard_in_chinese(sales):
    page = sales.client.get("/app/r/dashboards/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert "销售" in html
    assert "按阶段的商机" in html
    assert "2026年3月" in html  # the month in Chinese


@pytest.mark.parametrize(
    ("report", "path", "words"),
    [
        ({**PIPELINE, "group_by": [{"field": "nope"}]}, "reports[0].group_by[0].field", "no field"),
        (
            {**PIPELINE, "metrics": [{"key": "x", "fn": "sum", "field": "name"}]},
            "reports[0].metrics[0].field",
            "needs a number",
        ),
        (
            {**WIN_RATE, "computed": [{"key": "r", "expression": "row.won +"}]},
            "reports[0].computed[0].expression",
            "does not compile",
        ),
        ({**WIN_RATE, "having": "row.won"}, "reports[0].having", "bool"),
        ({**PIPELINE, "sort": [{"key": "ghost"}]}, "reports[0].sort[0].key", "ghost"),
        ({**PIPELINE, "entity": "ghost"}, "reports[0].entity", "ghost"),
        (
            {**BY_MONTH, "group_by": [{"field": "name", "bucket": "month"}]},
            "reports[0].group_by[0].bucket",
            "not a date",
        ),
    ],
)
def test_a_bad_report_is_refused_at_publish_with_its_path(make_tenant, report, path, words):
    made = make_tenant("badreports", pack="starter")
    before = active_version(made.tenant).number
    with pytest.raises(ConfigError) as refused:
        publish(made.tenant, document=with_reports(made.tenant, [report]))
    problems = {p.path: p.message for p in refused.value.problems}
    assert path in problems, problems
    assert words in problems[path]
    assert active_version(made.tenant).number == before


def test_a_dashboard_naming_a_missing_report_is_refused(make_tenant):
    made = make_tenant("baddash", pack="starter")
    board = {"key": "x", "label": {"en": "X"}, "widgets": [{"report": "ghost"}]}
    with pytest.raises(ConfigError) as refused:
        publish(made.tenant, document=with_reports(made.tenant, [PIPELINE], [board]))
    assert [p.path for p in refused.value.problems] == ["dashboards[0].widgets[0].report"]


def test_rfm_bands_from_dates_and_counts(sales):
    import datetime as dt

    rfm = {
        "key": "rfm",
        "entity": "deal",
        "filter": {"field": "stage", "op": "eq", "value": "won"},
        "group_by": [{"field": "company"}],
        "metrics": [
            {"key": "last", "fn": "max", "field": "close_date"},
            {"key": "orders", "fn": "count"},
            {"key": "spent", "fn": "sum", "field": "amount"},
        ],
        "computed": [
            {"key": "recency", "expression": "today - row.last", "format": "integer"},
            {
                "key": "segment",
                "expression": "row.orders >= 2.0 ? 'loyal'"
                " : (today - row.last > 200.0 ? 'at risk' : 'new')",
                "format": "text",
            },
        ],
        "sort": [{"key": "spent", "direction": "desc"}],
    }
    publish(sales.tenant, document=with_reports(sales.tenant, [rfm]))
    result = run_report(sales.admin_service, rfm)
    acme, _globex, initech = sales.companies
    rows = {row["group"][0]: row for row in result.rows}
    assert rows[acme.id]["orders"] == 2  # won in March and April
    assert rows[acme.id]["segment"] == "loyal"
    days = (dt.datetime.now(dt.UTC).date() - dt.date(2026, 4, 2)).days
    assert rows[acme.id]["recency"] == days
    assert rows[initech.id]["segment"] == ("at risk" if days - 28 > 200 else "new")


def test_stages_in_their_order_and_distinct_customers(sales):
    funnel = {k: v for k, v in PIPELINE.items() if k != "sort"}
    stages = [row["group"][0] for row in run_report(sales.admin_service, funnel).rows]
    assert stages == ["new", "proposal", "won", "lost"]  # the options' order, not the alphabet
    customers = {
        "key": "customers",
        "entity": "deal",
        "filter": {"field": "stage", "op": "eq", "value": "won"},
        "metrics": [
            {"key": "buyers", "fn": "count_distinct", "field": "company"},
            {"key": "orders", "fn": "count"},
            {"key": "revenue", "fn": "sum", "field": "amount"},
        ],
        "computed": [
            {"key": "aov", "expression": "row.orders > 0.0 ? row.revenue / row.orders : 0.0"}
        ],
    }
    (row,) = run_report(sales.admin_service, customers).rows
    won = [d for d in sales.deals if d["stage"] == "won"]
    assert row["buyers"] == len({d["company"] for d in won})
    assert row["aov"] == pytest.approx(float(total(won)) / len(won))
