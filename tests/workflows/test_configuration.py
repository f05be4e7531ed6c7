"""Workflows in the configuration: what publishes, and each mistake named at its path with
nothing published."""

import copy

import pytest

from metadata.errors import ConfigError
from metadata.publish import active_version, document_of, publish
from tests.workflows.conftest import automation

STAGES = {
    "key": "deal_stages",
    "type": "state_machine",
    "entity": "deal",
    "field": "stage",
    "initial": "new",
    "transitions": [
        {"key": "propose", "from": "new", "to": "proposal", "required_fields": ["amount"]},
        {"key": "win", "from": "proposal", "to": "won", "roles": ["sales_manager"]},
        {"key": "lose", "from": "*", "to": "lost", "condition": "record.amount < 1000000.0"},
    ],
}


def problems(flows, workflows) -> list[str]:
    before = active_version(flows.tenant).number
    document = copy.deepcopy(document_of(active_version(flows.tenant)))
    document["workflows"] = workflows
    with pytest.raises(ConfigError) as caught:
        publish(flows.tenant, document=document)
    assert active_version(flows.tenant).number == before  # nothing published
    return [f"{p.path}: {p.message}" for p in caught.value.problems]


def test_a_state_machine_and_automations_publish(flows):
    flows.publish(
        [
            STAGES,
            automation(
                "big_deal",
                [
                    {"type": "set_fields", "values": {"probability": 50}},
                    {"type": "notify", "to": {"owner": True}, "subject": {"en": "{name} is big"}},
                    {"type": "webhook", "url": "https://erp.example/hook", "fields": ["amount"]},
                    {"type": "create_record", "entity": "company", "values": {"name": "X"}},
                    {"type": "assign_owner", "role": "sales_rep"},
                    {"type": "start_workflow", "workflow": "reminder"},
                ],
                condition="record.amount > 10000.0",
            ),
            automation(
                "reminder",
                [
                    {
                        "type": "set_fields",
                        "expressions": {"probability": "record.probability + 1.0"},
                    }
                ],
                on="date",
                trigger={"field": "close_date", "offset": "-P3D"},
            ),
            automation(
                "stage_moved",
                [
                    {
                        "type": "notify",
                        "to": {"roles": ["sales_manager"]},
                        "subject": {"en": "moved"},
                    }
                ],
                on="field_change",
                trigger={"fields": ["stage"]},
            ),
        ]
    )
    assert active_version(flows.tenant).number == 2


def test_each_mistake_is_named(flows):
    bad = [
        automation("no_field", [{"type": "set_fields", "values": {"nope": 1}}]),
        automation("bad_value", [{"type": "set_fields", "values": {"probability": "lots"}}]),
        automation("computed", [{"type": "set_fields", "values": {"weighted_amount": 1}}]),
        automation(
            "bad_cel", [{"type": "set_fields", "values": {"probability": 1}}], condition="record."
        ),
        automation(
            "not_bool", [{"type": "set_fields", "values": {"probability": 1}}], condition="1 + 1"
        ),
        automation(
            "text_date",
            [{"type": "set_fields", "values": {"probability": 1}}],
            on="date",
            trigger={"field": "name"},
        ),
        automation(
            "no_fields", [{"type": "set_fields", "values": {"probability": 1}}], on="field_change"
        ),
        automation("a", [{"type": "start_workflow", "workflow": "b"}]),
        automation("b", [{"type": "start_workflow", "workflow": "a"}]),
        automation("ghost_flow", [{"type": "start_workflow", "workflow": "ghost"}]),
        automation(
            "bad_link",
            [{"type": "create_record", "entity": "company", "link_field": "name", "values": {}}],
        ),
        automation("no_role", [{"type": "assign_owner", "role": "pilot"}]),
        automation(
            "no_user_field",
            [{"type": "notify", "to": {"user_fields": ["name"]}, "subject": {"en": "{nope}"}}],
        ),
        {
            **STAGES,
            "key": "bad_states",
            "initial": "draft",
            "transitions": [
                {"from": "new", "to": "signed"},
                {"from": "new", "to": "won", "roles": ["pilot"], "required_fields": ["ghost"]},
            ],
        },
        {**STAGES, "key": "text_machine", "field": "name"},
    ]
    assert problems(flows, bad) == [
        "workflows[13].transitions[0].to: 'signed' is not an option of stage",
        "workflows[0].actions[0].values.nope: 'nope' is not a field of deal",
        "workflows[1].actions[0].values.probability: 'lots' is not a number",
        "workflows[2].actions[0].values.weighted_amount: weighted_amount is computed; it cannot "
        "be set",
        "workflows[3].condition: does not compile: ERROR: <input>:1:8: Syntax error: no viable "
        "alternative at input '.'",
        "workflows[4].condition: must give a bool, but gives an int",
        "workflows[5].trigger.field: name is text, not a date",
        "workflows[6].trigger: field_change needs the fields it watches",
        "workflows[9].actions[0].workflow: there is no automation 'ghost'",
        "workflows[10].actions[0].link_field: 'name' is not a lookup of company to deal",
        "workflows[11].actions[0].role: there is no role 'pilot'",
        "workflows[12].actions[0].to.user_fields[0]: 'name' is not a user field of deal",
        "workflows[12].actions[0].subject.en: {nope} is not a field of deal",
        "workflows[13].initial: 'draft' is not an option of stage",
        "workflows[13].transitions[1].roles[0]: there is no role 'pilot'",
        "workflows[13].transitions[1].required_fields[0]: 'ghost' is not a field of deal",
        "workflows[14].field: name is text, not a choice",
        "workflows[7]: workflows start each other in a circle: a -> b -> a",
    ]


def test_the_schema_refuses_unknown_types_and_options(flows):
    found = problems(
        flows,
        [
            automation("x", [{"type": "teleport"}]),
            automation("y", [{"type": "webhook", "url": "ftp://x"}]),
            {
                **automation("z", [{"type": "set_fields", "values": {"probability": 1}}]),
                "trigger": {"on": "date", "field": "close_date", "offset": "3 days"},
            },
        ],
    )
    assert found[0].startswith("workflows[0].actions[0].type: 'teleport' is not one of [")
    assert found[1] == "workflows[1].actions[0].url: 'ftp://x' does not match '^https?://'"
    assert found[2].startswith("workflows[2].trigger.offset: '3 days' does not match")
    assert len(found) == 3


def test_approval_mistakes_are_named(flows):
    step = {"key": "one", "approvers": [{"type": "manager"}]}
    bad = [
        {
            "key": "appr",
            "type": "approval",
            "entity": "deal",
            "entry": "record.amount",
            "submitters": {"roles": ["pilot"]},
            "steps": [
                {**step, "on_reject": "previous"},
                {**step, "approvers": [{"type": "role", "role": "pilot"}]},
                {"key": "one", "approvers": [{"type": "field", "field": "name"}]},
                {
                    "key": "late",
                    "approvers": [{"type": "manager"}],
                    "escalation": {"after": "P1D"},
                    "on_reject": "later",
                },
            ],
            "actions": {"approved": [{"type": "set_fields", "values": {"nope": 1}}]},
        }
    ]
    assert problems(flows, bad) == [
        "workflows[0].entry: must give a bool, but gives a double",
        "workflows[0].submitters.roles[0]: there is no role 'pilot'",
        "workflows[0].steps[0].on_reject: the first step has no previous",
        "workflows[0].steps[1].key: the step 'one' is twice",
        "workflows[0].steps[1].approvers[0].role: there is no role 'pilot'",
        "workflows[0].steps[2].key: the step 'one' is twice",
        "workflows[0].steps[2].approvers[0].field: 'name' is not a user field of deal",
        "workflows[0].steps[3].escalation: give either to (approvers) or decide",
        "workflows[0].steps[3].on_reject: 'later' is not end, previous or an earlier step",
        "workflows[0].actions.approved[0].values.nope: 'nope' is not a field of deal",
    ]


def test_named_records_are_checked(flows):
    """``created.<name>`` only after an action of the same list with that name; a name once;
    ``as`` only where an action makes a record; an update's record expression gives an id."""
    found = problems(
        flows,
        [
            automation(
                "names",
                [
                    {
                        "type": "create_record",
                        "entity": "company",
                        "values": {"name": "X"},
                        "expressions": {"credit_limit": "created.later == 1 ? 1.0 : 2.0"},
                    },
                    {
                        "type": "create_record",
                        "entity": "company",
                        "as": "later",
                        "values": {"name": "Y"},
                    },
                    {
                        "type": "create_record",
                        "entity": "company",
                        "as": "later",
                        "values": {"name": "Z"},
                    },
                    {
                        "type": "update_record",
                        "entity": "company",
                        "record": "record.name",
                        "values": {"active": False},
                    },
                    {"type": "update_record", "entity": "company", "record": "created.later"},
                ],
            ),
        ],
    )
    assert found == [
        "workflows[0].actions[0].expressions.credit_limit: no earlier action of this list is "
        "named 'later' (as)",
        "workflows[0].actions[2].as: an earlier action is named 'later'",
        "workflows[0].actions[3].record: must give an int, but gives a string",
        "workflows[0].actions[4]: give values or expressions",
    ]
    as_elsewhere = automation("x", [{"type": "set_fields", "as": "x", "values": {"name": "Y"}}])
    assert (
        "workflows[0].actions[0]: Unevaluated properties are not allowed ('as' was unexpected)"
        in problems(flows, [as_elsewhere])
    )


def test_named_records_are_unknown_outside_actions(flows):
    document_rule = automation(
        "conditioned",
        [{"type": "set_fields", "values": {"probability": 1}}],
        condition="created.x == 1",
    )
    assert problems(flows, [document_rule]) == [
        "workflows[0].condition: created.<name> is only known to the actions of a workflow"
    ]


def test_repeated_actions_are_checked(flows):
    def repeated(**changes):
        action = {
            "type": "create_record",
            "entity": "deal",
            "for_each": {"entity": "deal", "via": "company"},
            "values": {"name": "x"},
        }
        action.update(changes)
        return {
            "key": "each",
            "type": "automation",
            "entity": "company",
            "trigger": {"on": "update"},
            "actions": [action],
        }

    assert problems(flows, [repeated(for_each={"entity": "deal", "via": "name"})]) == [
        "workflows[0].actions[0].for_each.via: 'name' is not a lookup of deal to company"
    ]
    assert problems(flows, [repeated(**{"as": "copy"})]) == [
        "workflows[0].actions[0].as: an action repeated for_each makes many records: it takes no as"
    ]
    assert problems(flows, [repeated(expressions={"amount": "item.ghost * 2.0"})]) == [
        "workflows[0].actions[0].expressions.amount: unknown field 'ghost' in item.ghost"
    ]
    assert problems(
        flows, [repeated(for_each={"entity": "deal", "via": "company", "filter": "item.name"})]
    ) == ["workflows[0].actions[0].for_each.filter: must give a bool, but gives a string"]
    plain = automation("plain", [{"type": "set_fields", "expressions": {"name": "item.name"}}])
    assert problems(flows, [plain]) == [
        "workflows[0].actions[0].expressions.name: item.<field> is only known to an action "
        "repeated for_each"
    ]
