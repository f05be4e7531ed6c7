"""The bulk action *Add to …*: the records chosen in a list linked to a record of another entity
through a junction entity found in the configuration (in the standard CRM pack: contacts and
leads added to a campaign as campaign members), so that a saved view (a segment) becomes a
campaign member list."""

import copy

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metadata.compiled import active_config
from metadata.publish import active_version, document_of, publish
from records.service import RecordService
from tenants.context import tenant_context
from tests.fixtures import signed_in
from ui_builder import bulk_actions
from ui_builder.junctions import Junction, junctions_from

ADD_TO = "add_to:campaign_member:contact:campaign"
TARGET = f"{ADD_TO}:target"


@pytest.fixture
def marketing(make_tenant, add_member, client):
    made = make_tenant("segments")
    made.admin_service = RecordService(made.tenant, made.admin)
    made.marketer = add_member(made.tenant, "mia@segments.test", roles=("marketing",))
    made.rep_user = add_member(made.tenant, "rex@segments.test", roles=("sales_rep",))
    made.campaign = made.admin_service.create(
        "campaign", {"name": "Spring launch", "campaign_type": "email"}
    )
    made.contacts = {
        name: made.admin_service.create("contact", {"full_name": name, "title": title}).id
        for name, title in [("Ann", "Buyer"), ("Bob", "Buyer"), ("Cid", "Engineer")]
    }
    made.client = signed_in(client, made.marketer, made.tenant)
    return made


def members(made) -> list[tuple[int, int]]:
    """(contact, campaign) of every campaign member, in the order of the contacts' ids."""
    rows = made.admin_service.query("campaign_member", first=500).rows
    return sorted((row.values.get("contact"), row.values["campaign"]) for row in rows)


def add(made, ids, target, **extra):
    return made.client.post(
        "/app/r/contact/bulk/",
        {"action": ADD_TO, "record": [str(i) for i in ids], TARGET: str(target), **extra},
        follow=True,
    )


def test_junctions_are_found_in_the_configuration(marketing):
    config = active_config(marketing.tenant)
    assert junctions_from(config, "contact") == [
        Junction("campaign_member", "contact", "campaign", "campaign")
    ]
    assert junctions_from(config, "lead") == [
        Junction("campaign_member", "lead", "campaign", "campaign")
    ]
    # accounts join campaigns as members too; orders (their lookups do not cascade) and
    # follow-ups (they need a subject) are no junctions
    assert junctions_from(config, "account") == [
        Junction("campaign_member", "account", "campaign", "campaign")
    ]
    assert junctions_from(config, "opportunity") == []


def test_marketing_is_offered_add_to_campaign_in_its_language(marketing):
    page = marketing.client.get("/app/r/contact/")
    offered = {a["key"]: a for a in page.context["page"].actions}
    entry = offered[ADD_TO]
    assert str(entry["label"]) == "Add to Campaign"
    assert entry["target"]["entity"] == "campaign"
    assert entry["target"]["choices"] == [(marketing.campaign.id, "Spring launch")]
    assert 'data-lookup="/app/r/campaign/lookup/"' in page.content.decode()
    leads = marketing.client.get("/app/r/lead/")
    assert "add_to:campaign_member:lead:campaign" in [
        a["key"] for a in leads.context["page"].actions
    ]
    chinese = marketing.client.get("/app/r/contact/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    labels = {a["key"]: str(a["label"]) for a in chinese.context["page"].actions}
    assert labels[ADD_TO] == "添加到市场活动"


def test_the_chosen_contacts_become_members_of_the_campaign(marketing):
    ann, bob = marketing.contacts["Ann"], marketing.contacts["Bob"]
    done = add(marketing, [ann, bob], marketing.campaign.id, query="sort=full_name")
    assert done.redirect_chain[-1][0] == "/app/r/contact/?sort=full_name"
    assert "2 records done." in done.content.decode()
    campaign = marketing.campaign.id
    assert members(marketing) == [(ann, campaign), (bob, campaign)]
    rows = marketing.admin_service.query("campaign_member").rows
    assert {row.owner_id for row in rows} == {marketing.marketer.pk}  # created as her
    assert marketing.admin_service.get("campaign", campaign).values["member_count"] == 2


def test_a_saved_view_becomes_a_campaign_member_list(marketing):
    saved = marketing.client.post(
        "/app/r/contact/views/", {"name": "Buyers", "query": "f=title|eq|Buyer"}
    )
    assert saved.status_code == 302
    segment = marketing.client.get(saved["Location"])  # the segment, as the list shows it
    assert segment.context["current_view"].name == "Buyers"
    query = segment.context["page"].state.query()
    done = add(marketing, [], marketing.campaign.id, every="1", query=query)
    assert "2 records done." in done.content.decode()
    campaign = marketing.campaign.id
    assert members(marketing) == [
        (marketing.contacts["Ann"], campaign),
        (marketing.contacts["Bob"], campaign),
    ]  # Cid, an engineer, is not in the segment


def test_contacts_already_in_the_campaign_are_skipped(marketing):
    ann, bob = marketing.contacts["Ann"], marketing.contacts["Bob"]
    campaign = marketing.campaign.id
    marketing.admin_service.create("campaign_member", {"contact": ann, "campaign": campaign})
    done = add(marketing, [ann, bob, bob], campaign)  # Bob twice: linked once
    text = done.content.decode()
    assert "1 record done." in text
    assert "2 records skipped: already in Spring launch." in text
    assert "Record " not in text  # nothing refused
    assert members(marketing) == [(ann, campaign), (bob, campaign)]


def test_a_campaign_missing_or_out_of_sight_is_refused_and_nothing_created(marketing):
    ann = marketing.contacts["Ann"]
    missing = add(marketing, [ann], 999999).content.decode()
    assert "There is no Campaign 999999." in missing
    assert f"There is no Campaign {ann}." in add(marketing, [ann], ann).content.decode()
    assert (
        "Choose the Campaign to add the records to." in add(marketing, [ann], "").content.decode()
    )
    # marketing now reads only its own campaigns: the admin's is out of sight, like a missing one
    document = copy.deepcopy(document_of(active_version(marketing.tenant)))
    role = next(r for r in document["roles"] if r["key"] == "marketing")
    role["entities"]["campaign"]["read"] = "own"
    publish(marketing.tenant, document=document)
    hidden = add(marketing, [ann], marketing.campaign.id).content.decode()
    assert f"There is no Campaign {marketing.campaign.id}." in hidden
    assert members(marketing) == []


def test_without_create_on_members_it_is_not_offered_and_a_forged_post_is_refused(marketing):
    rep = signed_in(marketing.client.__class__(), marketing.rep_user, marketing.tenant)
    page = rep.get("/app/r/contact/")
    assert [a["key"] for a in page.context["page"].actions if a["key"].startswith("add_to")] == []
    forged = rep.post(
        "/app/r/contact/bulk/",
        {"action": ADD_TO, "record": [str(marketing.contacts["Ann"])], TARGET: "1"},
        follow=True,
    )
    assert "You may not do this." in forged.content.decode()
    # nor is a pair of lookups that is no junction (an order's contact and account)
    order = add(marketing, [marketing.contacts["Ann"]], 1, action="add_to:order:contact:account")
    assert "You may not do this." in order.content.decode()
    assert members(marketing) == []


def test_the_queries_grow_only_with_the_members_created(marketing):
    contacts = [
        marketing.admin_service.create("contact", {"full_name": f"C{i}"}).id for i in range(10)
    ]
    campaign = str(marketing.campaign.id)

    def queries(ids) -> int:
        service = RecordService(marketing.tenant, marketing.marketer)
        with (
            tenant_context(marketing.tenant, user=marketing.marketer),
            CaptureQueriesContext(connection) as captured,
        ):
            outcome = bulk_actions.run(service, "contact", ADD_TO, ids, {TARGET: campaign})
        assert not outcome.refused
        return len(captured)

    queries(contacts[:1])  # warm: the configuration compiled and cached
    one = queries(contacts[1:2])
    two = queries(contacts[2:4])
    three = queries(contacts[4:7])
    member = two - one  # what the records service spends on one create (rollups and all)
    assert three - two == member  # each member created costs the same
    # besides: the configuration and the user's roles, the campaign chosen (read, and its
    # scope checked), the contacts the user may read, the members already in: 8
    assert one - member == 8
    assert queries([*contacts[:7], contacts[7]]) == one  # the seven already in cost nothing
