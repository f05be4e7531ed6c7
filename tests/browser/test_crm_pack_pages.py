"""The CRM pack's pages with its demo data, in a real browser, in English and in Chinese: a
sales manager's dashboard (every chart drawn, the open pipeline the report's own total) and an
opportunity's page (its fields under the pack's labels, its related lists filled, its history
in words). The screenshots are the README's (SCREENSHOTS_DIR=docs/screenshots).

The demo data takes a while on the crm pack, and a live-server test empties the database after
itself: one test walks both languages."""

from decimal import Decimal

import pytest

from records.demo_data import fill
from records.reports import run_report
from records.service import RecordService
from tenants.services import add_member
from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in
from tests.fixtures import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

SEED = 11  # the same demo data on every run (its dates follow today)
# the language chooser's value, the screenshots' suffix, the dashboard's title, a stage in
# the funnel chart, and field labels on the opportunity's page
LANGUAGES = [
    ("en", "en", "Sales", "Prospecting", ["Stage", "Close date", "Weighted amount"]),
    ("zh-hans", "zh", "销售", "初步接洽", ["阶段", "预计成交日期", "加权金额"]),
]
QUOTES = "t1s0"  # the opportunity form's related list of quotes (tab 1, section 0)
CHARTS_DRAWN = """canvases => canvases.length > 0 && canvases.every(
  c => c.width > 0 && window.Chart && window.Chart.getChart(c) !== undefined)"""
CHARTS = """canvases => canvases.map(c => {
  const chart = window.Chart.getChart(c);
  return [c.closest('[data-report]').dataset.report,
          chart.data.datasets.some(d => d.data.some(v => v)),
          chart.data.labels];
})"""


def has_values(service, spec: dict) -> bool:
    """Whether the report has a value its chart draws (not all empty or zero)."""
    result = run_report(service, spec)
    drawn = spec.get("chart", {}).get("values") or result.values
    return any(row.get(key) for row in result.rows for key in drawn)


def an_opportunity_with_related_rows(service) -> int:
    """The first opportunity with a quote, an order and a contract."""
    having = []
    for child in ("quote", "order", "contract"):
        counted = service.aggregate(
            child, group_by=[{"field": "opportunity"}], metrics=[{"fn": "count", "as": "n"}]
        )
        having.append({row["group"]["opportunity"] for row in counted} - {None})
    return min(set.intersection(*having))


def test_the_crm_dashboard_and_an_opportunity_in_both_languages(
    make_tenant, live_server, open_page, tmp_path
):
    # given: the crm pack, a sales manager with a rep, and the small demo dataset
    made = make_tenant("crm-pages", name="Northwind Trading", pack="crm")
    manager = add_member(
        made.tenant, email="manager@crm-pages.test", password=PASSWORD, roles=["sales_manager"]
    )
    add_member(
        made.tenant,
        email="rep@crm-pages.test",
        password=PASSWORD,
        roles=["sales_rep"],
        manager=manager,
    )
    fill(made.tenant, scale="small", seed=SEED)
    service = RecordService(made.tenant, manager)  # what the manager sees
    reports = service.configuration().reports
    pipeline = run_report(service, reports["open_pipeline"]).rows[0]["amount"]
    assert pipeline > 0
    opportunity = service.get("opportunity", an_opportunity_with_related_rows(service))
    account = service.get("account", opportunity.values["account"])
    quotes = service.query(
        "quote", filter_tree={"field": "opportunity", "op": "eq", "value": opportunity.id}
    ).rows
    page = open_page(width=1280)
    sign_in(page, live_server, manager.email)
    page.wait_for_url(f"{live_server.url}/app/")
    for language, suffix, title, stage, labels in LANGUAGES:
        # when: she picks the language in the chooser, on her dashboard
        page.goto(f"{live_server.url}/app/r/dashboards/")
        if page.locator("html").get_attribute("lang") != language:
            with page.expect_navigation():
                page.locator("#language").select_option(language)
        assert page.locator("html").get_attribute("lang") == language
        # then: the sales dashboard, each chart drawn, with data where its report has some
        assert page.locator("h1").inner_text() == title
        canvases = page.locator("canvas[data-chart]")
        page.wait_for_function(CHARTS_DRAWN, arg=canvases.element_handles())
        charts = {
            key: (filled, labels)
            for key, filled, labels in page.evaluate(CHARTS, canvases.element_handles())
        }
        assert {key: filled for key, (filled, _) in charts.items()} == {
            key: has_values(service, reports[key]) for key in charts
        }
        assert charts["sales_funnel"][0]
        assert stage in charts["sales_funnel"][1]  # the stages in the page's language
        # the open pipeline is the report's total, localized (1,234.50 / 1234.50)
        kpi = page.locator("[data-report=open_pipeline] .kpi").inner_text()
        assert Decimal(kpi.replace(",", "")) == Decimal(str(pipeline)).quantize(Decimal("0.01"))
        screenshot(page, f"crm-dashboard-{suffix}", tmp_path)

        # when: she opens an opportunity
        page.goto(f"{live_server.url}/app/r/opportunity/{opportunity.id}/")
        # then: its name, the pack's labels in the language, its account by name
        assert page.locator("h1").inner_text() == opportunity.values["name"]
        assert set(labels) <= set(page.locator("dl.fields dt").all_inner_texts())
        assert account.values["name"] in page.locator("dl.fields dd").all_inner_texts()
        # its quotes in their related list, by name
        rows = page.locator(f"[data-related={QUOTES}] tbody th a")
        assert sorted(rows.all_inner_texts()) == sorted(q.values["name"] for q in quotes)
        # the history names the account, not its number
        history = page.locator(".history-timeline").inner_text()
        assert account.values["name"] in history
        assert f"#{account.id}" not in history
        screenshot(page, f"crm-record-{suffix}", tmp_path)
