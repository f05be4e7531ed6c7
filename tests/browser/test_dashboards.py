"""A manager's dashboard in a real browser: the charts drawn by Chart.js (served with the app)
and the numbers in tables, in English and in Chinese."""

import pytest

from metadata.publish import publish
from records.service import RecordService
from tests.browser.conftest import screenshot
from tests.browser.test_sign_in import sign_in
from tests.ui_builder.test_dashboards import (
    BY_MONTH,
    DASHBOARDS,
    PIPELINE,
    TOTAL,
    WIN_RATE,
    with_reports,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("locale", "title", "kpi", "name"),
    [("en-US", "Sales", "5,650.00", "dashboard"), ("zh-CN", "销售", "5650.00", "dashboard-zh")],
)
def test_a_dashboard_with_its_charts(
    make_tenant, live_server, open_page, tmp_path, locale, title, kpi, name
):
    made = make_tenant("acme", name="Acme Ltd", pack="starter")
    publish(
        made.tenant,
        document=with_reports(made.tenant, [PIPELINE, WIN_RATE, BY_MONTH, TOTAL], DASHBOARDS),
    )
    admin = RecordService(made.tenant, made.admin)
    company = admin.create("company", {"name": "Northwind"})
    for stage, amount, close in [
        ("won", 1200, "2026-03-14"),
        ("won", 800, "2026-04-02"),
        ("lost", 300, "2026-04-20"),
        ("proposal", 5000, None),
        ("new", 650, None),
    ]:
        values = {
            "name": f"{stage} {amount}",
            "company": company.id,
            "stage": stage,
            "amount": amount,
        }
        if close:
            values["close_date"] = close
        admin.create("deal", values)
    page = open_page(locale=locale)
    sign_in(page, live_server, made.admin.email)
    page.wait_for_url(f"{live_server.url}/app/")
    page.goto(f"{live_server.url}/app/r/dashboards/")
    assert page.locator("h1").inner_text() == title
    assert page.locator("[data-report=total] .kpi").inner_text() == kpi  # localized
    # Chart.js drew each chart: a canvas with pixels, sized by the library
    for key in ("pipeline", "win_rate", "by_month"):
        canvas = page.locator(f"[data-report={key}] canvas")
        page.wait_for_function(
            "c => c.width > 0 && window.Chart && window.Chart.getChart(c) !== undefined",
            arg=canvas.element_handle(),
        )
    rows = page.locator("[data-report=pipeline] tbody tr")
    assert rows.count() == 4
    screenshot(page, name, tmp_path)
