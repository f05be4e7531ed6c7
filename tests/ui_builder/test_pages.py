"""The end-user pages drawn from the layouts: navigation, a list by its list layout, a record by
its form (sections shown by their conditions), a record out of scope like a missing one."""

import pytest

from metadata.publish import publish
from records.service import RecordService
from tests.ui_builder.test_layouts import DEAL_FORM, OTHERS, document_with


@pytest.fixture
def office(make_tenant, add_member, client):
    made = make_tenant("ui", pack="starter")
    publish(made.tenant, document=document_with(made.tenant, [DEAL_FORM, *OTHERS]))
    admin = RecordService(made.tenant, made.admin)
    rep_user = add_member(made.tenant, "rep@ui.test")
    made.rep = RecordService(made.tenant, rep_user)
    company = admin.create("company", {"name": "Acme"})
    made.mine = made.rep.create("deal", {"name": "Mine", "company": company.id, "amount": 1234.5})
    made.theirs = admin.create("deal", {"name": "Theirs", "company": company.id})
    client.force_login(rep_user)
    session = client.session
    session["tenant_id"] = made.tenant.pk
    session.save()
    made.client = client
    return made


def test_the_list_follows_the_list_layout_and_the_scope(office):
    page = office.client.get("/app/r/deal/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Mine" in html
    assert "Theirs" not in html
    assert "1,234.50" in html  # localized
    assert 'href="/app/r/deal/"' in html  # the navigation names what she may read
    assert page.context["page"].total == 1


def test_a_record_by_its_form_with_sections_by_their_conditions(office):
    html = office.client.get(f"/app/r/deal/{office.mine.id}/").content.decode()
    assert "<h1>Mine</h1>" in html
    assert "Acme" in html  # the lookup's title
    assert "Close date" not in html  # not won: the closing section is not shown
    office.rep.update("deal", office.mine.id, {"stage": "proposal"})
    office.rep.update("deal", office.mine.id, {"stage": "won", "close_date": "2026-12-01"})
    won = office.client.get(f"/app/r/deal/{office.mine.id}/").content.decode()
    assert "Close date" in won


def test_out_of_scope_is_like_missing(office):
    theirs = office.client.get(f"/app/r/deal/{office.theirs.id}/")
    missing = office.client.get("/app/r/deal/987654/")
    assert theirs.status_code == missing.status_code == 404
    assert office.client.get("/app/r/nothing/").status_code == 404


def test_pages_speak_the_users_language(office):
    page = office.client.get("/app/r/deal/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.context["page"].label == "商机"


def test_the_board_and_its_moves_refuse_what_they_must(office):
    assert office.client.get("/app/r/deal/board/").status_code == 200
    assert office.client.get("/app/r/company/board/").status_code == 404  # no kanban layout
    theirs = office.client.post(f"/app/r/deal/{office.theirs.id}/move/", {"to": "won"})
    assert theirs.status_code == 404  # out of her scope: like a missing deal
    bad = office.client.post(f"/app/r/deal/{office.mine.id}/move/", {"to": "nowhere"}, follow=True)
    assert [str(m) for m in bad.context["messages"]] == [
        "'nowhere' is not one of: new, proposal, won, lost"
    ]
    assert office.rep.get("deal", office.mine.id).values["stage"] == "new"


def test_the_calendar_shows_a_month_with_conflicts(office):
    import datetime as dt

    first = dt.datetime.now(dt.UTC).replace(day=10, hour=9, minute=0, second=0, microsecond=0)
    deals = {}
    for name, when in [
        ("Call A", first),
        ("Call B", first),
        ("Call C", first + dt.timedelta(days=1)),
    ]:
        values = {"name": name, "company": office.mine.values["company"]}
        values["last_contacted"] = when.isoformat()
        deals[name] = office.rep.create("deal", values)
    page = office.client.get("/app/r/deal/calendar/").context["calendar"]
    entries = {e.title: e for week in page.weeks for _, day in week for e in day}
    assert {"Call A", "Call B", "Call C"} <= set(entries)
    assert entries["Call A"].conflict
    assert entries["Call B"].conflict
    assert not entries["Call C"].conflict
    assert office.client.get("/app/r/company/calendar/").status_code == 404
    assert office.client.get("/app/r/deal/calendar/?month=bogus").status_code == 200


def test_export_needs_the_export_permission_and_keeps_the_scope(office, add_member):
    import csv
    import io

    from django.test import Client

    refused = office.client.get("/app/r/deal/export.csv")  # a rep's role grants no export
    assert refused.status_code == 404
    assert "Export CSV" not in office.client.get("/app/r/deal/").content.decode()
    admin = Client()
    admin.force_login(office.admin)
    session = admin.session
    session["tenant_id"] = office.tenant.pk
    session.save()
    answer = admin.get("/app/r/deal/export.csv")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode())))
    assert rows[0][:2] == ["id", "name"]
    assert sorted(row[1] for row in rows[1:]) == ["Mine", "Theirs"]


def test_notifications_page_lists_and_marks_read(office):
    from tenants.context import tenant_context
    from workflows.models import Notification

    with tenant_context(office.tenant):
        Notification.objects.create(
            tenant=office.tenant,
            user=office.rep.user,
            key="k1",
            entity="deal",
            record_id=office.mine.id,
            subject="Mine was approved",
        )
    home = office.client.get("/app/").content.decode()
    assert 'class="badge"' in home
    page = office.client.get("/app/r/notifications/").content.decode()
    assert "Mine was approved" in page
    assert 'class="badge"' not in office.client.get("/app/").content.decode()  # read now


def test_the_user_chooses_the_language(office):
    chosen = office.client.post(
        "/i18n/setlang/", {"language": "zh-hans", "next": "/app/r/deal/"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert chosen.status_code == 302
    page = office.client.get("/app/r/deal/", HTTP_ACCEPT_LANGUAGE="en")
    assert "新建" in page.content.decode()  # Chinese, whatever the browser asks for
    assert '<option value="zh-hans" lang="zh-hans" selected>' in page.content.decode()
    office.client.post("/i18n/setlang/", {"language": "en", "next": "/app/r/deal/"})
    assert b">New<" in office.client.get("/app/r/deal/", HTTP_ACCEPT_LANGUAGE="zh-hans").content
