"""Layouts in the configuration: what publishes, each mistake named, and a form's conditions
enforced by the records service on every channel."""

import copy

import pytest

from metadata.errors import ConfigError
from metadata.publish import active_version, document_of, publish
from records.errors import RecordError
from records.service import RecordService

DEAL_FORM = {
    "key": "deal_form_reps",
    "type": "form",
    "entity": "deal",
    "roles": ["sales_rep"],
    "tabs": [
        {
            "label": {"en": "Deal"},
            "sections": [
                {
                    "columns": 2,
                    "fields": [
                        "name",
                        "company",
                        "stage",
                        {"field": "amount", "required_if": "record.stage == 'proposal'"},
                        {"field": "probability", "read_only_if": "record.stage == 'won'"},
                    ],
                },
                {
                    "key": "closing",
                    "visible_if": "record.stage == 'won'",
                    "fields": ["close_date"],
                },
            ],
        }
    ],
}
OTHERS = [
    {
        "key": "deal_form",
        "type": "form",
        "entity": "deal",
        "default": True,
        "tabs": [{"sections": [{"fields": ["name", "company", "amount"]}]}],
    },
    {
        "key": "deals",
        "type": "list",
        "entity": "deal",
        "default": True,
        "columns": ["name", "stage", "amount", "owner"],
        "sort": [{"field": "amount", "direction": "desc"}],
        "filter": {"field": "stage", "op": "ne", "value": "lost"},
        "page_size": 25,
    },
    {
        "key": "pipeline",
        "type": "kanban",
        "entity": "deal",
        "field": "stage",
        "card_fields": ["name", "amount"],
    },
    {
        "key": "contacts",
        "type": "calendar",
        "entity": "deal",
        "start_field": "last_contacted",
        "title_field": "name",
    },
    {
        "key": "company_form",
        "type": "form",
        "entity": "company",
        "tabs": [
            {
                "sections": [
                    {"fields": ["name"]},
                    {
                        "related": {
                            "entity": "deal",
                            "via": "company",
                            "columns": ["name", "amount"],
                            "editable": True,
                        }
                    },
                ]
            }
        ],
    },
]


def document_with(tenant, layouts):
    document = copy.deepcopy(document_of(active_version(tenant)))
    document["layouts"] = layouts
    return document


def problems(tenant, layouts) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        publish(tenant, document=document_with(tenant, layouts))
    return [f"{p.path}: {p.message}" for p in caught.value.problems]


@pytest.fixture
def shop(make_tenant, add_member):
    made = make_tenant("ui", pack="starter")
    publish(made.tenant, document=document_with(made.tenant, [DEAL_FORM, *OTHERS]))
    made.admin_service = RecordService(made.tenant, made.admin)
    made.rep = RecordService(made.tenant, add_member(made.tenant, "rep@ui.test"))
    made.company = made.admin_service.create("company", {"name": "Acme"})
    return made


def test_layouts_publish_and_are_chosen_by_role(shop):
    from metadata.compiled import active_config

    layouts = active_config(shop.tenant).layouts
    assert layouts.for_roles("deal", "form", ["sales_rep"]).key == "deal_form_reps"
    assert layouts.for_roles("deal", "form", ["sales_manager"]).key == "deal_form"  # default
    assert layouts.for_roles("deal", "kanban", []).key == "pipeline"  # the only one
    assert layouts.for_roles("company", "list", ["sales_rep"]) is None


def refused(call) -> list[tuple]:
    with pytest.raises(RecordError) as caught:
        call()
    return [(e.field, e.code, e.message) for e in caught.value.errors]


def test_form_conditions_hold_on_every_write(shop):
    rep = shop.rep
    deal = rep.create("deal", {"name": "D", "company": shop.company.id})
    # a field of a section not shown (the deal is not won)
    assert refused(lambda: rep.update("deal", deal.id, {"close_date": "2026-12-01"})) == [
        ("close_date", "read_only", "close_date is not shown on this record's form")
    ]
    # required when the condition holds (over the record as it would be saved)
    assert refused(lambda: rep.update("deal", deal.id, {"stage": "proposal"})) == [
        ("amount", "required", "amount is required on this record's form")
    ]
    rep.update("deal", deal.id, {"stage": "proposal", "amount": 100})
    rep.update("deal", deal.id, {"stage": "won", "close_date": "2026-12-01"})
    # read-only once won (the record as it was: a write cannot unlock itself)
    assert refused(lambda: rep.update("deal", deal.id, {"probability": 50})) == [
        ("probability", "read_only", "probability is read-only on this record's form")
    ]
    # users of the default form, and the platform, are not bound by the reps' form
    shop.admin_service.update("deal", deal.id, {"probability": 50})
    RecordService.system(shop.tenant).update("deal", deal.id, {"probability": 60})


def test_form_conditions_hold_through_graphql(shop, client):
    from api.tokens import issue_token

    token = issue_token(shop.tenant, shop.rep.user)
    deal = shop.rep.create("deal", {"name": "D", "company": shop.company.id})
    answer = client.post(
        "/graphql/",
        {
            "query": 'mutation($id: ID!) { updateDeal(id: $id, input: {closeDate: "2026-12-01"})'
            " { record { closeDate } errors { field code message } } }",
            "variables": {"id": str(deal.id)},
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    ).json()
    assert answer["data"]["updateDeal"] == {
        "record": None,
        "errors": [
            {
                "field": "close_date",
                "code": "read_only",
                "message": "close_date is not shown on this record's form",
            }
        ],
    }


def test_each_layout_mistake_is_named(shop):
    bad = [
        {
            **DEAL_FORM,
            "key": "a",
            "roles": ["pilot"],
            "tabs": [
                {
                    "sections": [
                        {
                            "visible_if": "record.",
                            "fields": [{"field": "amount", "required_if": "1"}],
                        },
                        {"related": {"entity": "deal", "via": "name", "columns": ["ghost"]}},
                    ]
                }
            ],
        },
        {"key": "b", "type": "kanban", "entity": "deal", "field": "name"},
        {"key": "c", "type": "calendar", "entity": "deal", "start_field": "name"},
        {"key": "d", "type": "list", "entity": "deal", "columns": ["ghost"], "default": True},
        {
            "key": "e",
            "type": "list",
            "entity": "deal",
            "columns": ["name"],
            "default": True,
            "sort": [{"field": "related_deals"}],
        },
    ]
    found = problems(shop.tenant, bad)
    assert found == [
        "layouts[0].roles[0]: there is no role 'pilot'",
        found[1],  # the CEL parser's message, checked below
        "layouts[0].tabs[0].sections[0].fields[0].required_if: must give a bool, but gives an int",
        "layouts[0].tabs[0].sections[1].related.via: 'name' is not a lookup of deal to deal",
        "layouts[0].tabs[0].sections[1].related.columns[0]: 'ghost' is not a field of deal",
        "layouts[1].field: name is text, not a choice",
        "layouts[2].start_field: name is text, not a date",
        "layouts[3].columns[0]: 'ghost' is not a field of deal",
        "layouts[4].default: d is already the default list of deal",
        "layouts[4].sort[0].field: related_deals cannot be sorted",
    ]
    assert found[1].startswith("layouts[0].tabs[0].sections[0].visible_if: does not compile")
