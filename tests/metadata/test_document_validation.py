"""Every bad document is refused with a message naming its path in the document."""

import json

import pytest

from metadata.errors import ConfigError
from metadata.packs import available_packs, load_pack
from metadata.publish import parse_document
from metadata.schema_builder import SCHEMA_PATH, build_schema, schema_text
from metadata.semantics import validate_document
from tests.metadata.conftest import field


def messages(document) -> list[str]:
    return [str(problem) for problem in validate_document(document)]


def test_committed_schema_matches_the_registry():
    assert SCHEMA_PATH.read_text() == schema_text()


def test_schema_is_a_valid_2020_12_schema():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(build_schema())
    assert build_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_minimal_document_from_the_issue_is_valid(minimal):
    assert messages(minimal) == []


@pytest.mark.parametrize("pack", available_packs())
def test_every_shipped_pack_is_valid(pack):
    assert messages(load_pack(pack)) == []


@pytest.mark.parametrize("text", ["{", "[1, 2]", "not json", '{"a": }'])
def test_malformed_json_is_refused(text):
    with pytest.raises(ConfigError) as error:
        parse_document(text)
    assert error.value.code == "invalid_json"


def test_malformed_json_names_line_and_column():
    with pytest.raises(ConfigError, match="line 2, column 8"):
        parse_document('{"format": 1,\n  "a": }')


def test_missing_required_key_is_named(minimal):
    del minimal["entities"][0]["plural_key"]
    assert messages(minimal) == ["entities[0]: 'plural_key' is a required property"]


def test_unknown_top_level_key_is_refused(minimal):
    minimal["colour"] = "blue"
    assert messages(minimal) == ["Additional properties are not allowed ('colour' was unexpected)"]


def test_unknown_field_type_is_named(minimal):
    minimal["entities"][0]["fields"][1]["type"] = "hologram"
    [message] = messages(minimal)
    assert message.startswith("entities[0].fields[1].type: 'hologram' is not one of [")


def test_option_of_another_type_is_refused(minimal):
    minimal["entities"][0]["fields"][0]["target"] = "account"
    assert messages(minimal) == [
        "entities[0].fields[0]: Unevaluated properties are not allowed ('target' was unexpected)"
    ]


def test_missing_type_option_is_named(minimal):
    del minimal["entities"][0]["fields"][1]["target"]
    assert messages(minimal) == ["entities[0].fields[1]: 'target' is a required property"]


def test_bad_key_pattern_is_named(minimal):
    minimal["entities"][0]["fields"][0]["key"] = "Name"
    assert messages(minimal) == [
        "entities[0].fields[0].key: 'Name' does not match '^[a-z][a-z0-9_]{0,62}$'"
    ]


def test_unknown_locale_in_a_label_is_refused(minimal):
    minimal["entities"][0]["label"]["fr"] = "Compte"
    assert messages(minimal) == ["entities[0].label: 'fr' is not one of ['en', 'zh-Hans']"]


def test_lookup_to_a_missing_entity_is_named(minimal):
    minimal["entities"][0]["fields"][1]["target"] = "galaxy"
    assert messages(minimal) == [
        "entities[0].fields[1].target: the target entity 'galaxy' does not exist"
    ]


def test_cel_that_does_not_compile_is_named(minimal):
    minimal["entities"][0]["validations"][0]["rule"] = "record.credit_limit >="
    [message] = messages(minimal)
    assert message.startswith(
        "entities[0].validations[0].rule: does not compile: ERROR: <input>:1:23: Syntax error"
    )


def test_cel_comparing_a_date_with_a_string_is_refused(minimal):
    minimal["entities"][0]["fields"].append({"key": "since", "type": "date"})
    minimal["entities"][0]["validations"][0]["rule"] = "record.since > '2024-01-01'"
    assert messages(minimal) == [
        "entities[0].validations[0].rule: type error: No such overload: the operation is not "
        "defined for the given operand types"
    ]


def test_cel_comparing_a_date_with_a_timestamp_is_accepted(minimal):
    minimal["entities"][0]["fields"].append({"key": "since", "type": "date"})
    minimal["entities"][0]["validations"][0]["rule"] = (
        "record.since > timestamp('2024-01-01T00:00:00Z')"
    )
    assert messages(minimal) == []


def test_type_error_hidden_behind_a_short_circuit_is_still_found(minimal):
    minimal["entities"][0]["fields"] += [
        {"key": "vip", "type": "boolean"},
        {"key": "since", "type": "date"},
    ]
    minimal["entities"][0]["validations"][0]["rule"] = "record.vip || record.since > 'x'"
    assert messages(minimal) == [
        "entities[0].validations[0].rule: type error: No such overload: the operation is not "
        "defined for the given operand types"
    ]


def test_cel_naming_an_unknown_field_is_refused_even_when_short_circuited(minimal):
    minimal["entities"][0]["validations"][0]["rule"] = "true || record.credit > 0.0"
    assert messages(minimal) == [
        "entities[0].validations[0].rule: unknown field 'credit' in record.credit"
    ]


def test_field_names_inside_string_literals_are_not_references(minimal):
    minimal["entities"][0]["validations"][0]["rule"] = "'record.nothing' != record.name"
    assert messages(minimal) == []


def test_validation_rule_must_give_a_bool(minimal):
    minimal["entities"][0]["validations"][0]["rule"] = "record.credit_limit * 2.0"
    assert messages(minimal) == [
        "entities[0].validations[0].rule: must give a bool, but gives a double"
    ]


def test_formula_must_give_its_result_type(starter):
    field(starter, "deal", "weighted_amount")["result_type"] = "date"
    assert messages(starter) == [
        "entities[1].fields[5].expression: must give a timestamp, but gives a double"
    ]


def test_mixing_int_and_double_arithmetic_is_refused(starter):
    field(starter, "deal", "weighted_amount")["expression"] = "record.amount * 2"
    assert messages(starter) == [
        "entities[1].fields[5].expression: type error: Unsupported operation: double * int"
    ]


def test_formula_cycle_is_named(minimal):
    minimal["entities"][0]["fields"] += [
        {"key": "a", "type": "formula", "expression": "record.b + 1", "result_type": "integer"},
        {"key": "b", "type": "formula", "expression": "record.c + 1", "result_type": "integer"},
        {"key": "c", "type": "formula", "expression": "record.a + 1", "result_type": "integer"},
    ]
    assert messages(minimal) == [
        "entities[0].fields[3]: computed fields depend on themselves: "
        "account.a → account.b → account.c → account.a"
    ]


def test_cycle_through_rollups_across_entities_is_named(starter):
    deal = next(e for e in starter["entities"] if e["key"] == "deal")
    deal["fields"].append(
        {
            "key": "company_total",
            "type": "rollup",
            "source": "company",
            "via": "parent",
            "function": "sum",
            "field": "open_pipeline",
        }
    )
    company = starter["entities"][0]
    company["fields"].append({"key": "parent", "type": "lookup", "target": "deal"})
    field(starter, "company", "open_pipeline")["field"] = "company_total"
    assert (
        "computed fields depend on themselves: company.open_pipeline → "
        "deal.company_total → company.open_pipeline" in " ".join(messages(starter))
    )


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["entities"].append(dict(d["entities"][0])),
            "entities[1].key: the entity 'account' is defined twice",
        ),
        (
            lambda d: d["entities"][0]["fields"].append({"key": "name", "type": "text"}),
            "entities[0].fields[3].key: the field 'name' is defined twice",
        ),
        (
            lambda d: d["entities"][0]["validations"].append(
                dict(d["entities"][0]["validations"][0])
            ),
            "entities[0].validations[1].key: the validation rule 'credit_ok' is defined twice",
        ),
    ],
)
def test_duplicate_keys_are_named(minimal, mutate, expected):
    mutate(minimal)
    assert expected in messages(minimal)


def test_plural_key_clashing_with_another_entity_is_named(minimal):
    minimal["entities"].append(
        {
            "key": "accounts",
            "plural_key": "account_list",
            "label": {"en": "X"},
            "fields": [{"key": "n", "type": "text"}],
        }
    )
    assert messages(minimal) == [
        "entities[1].key: 'accounts' is already used as entities[0].plural_key"
    ]


def test_reserved_field_key_is_refused(minimal):
    minimal["entities"][0]["fields"][0]["key"] = "created_at"
    assert messages(minimal) == [
        "entities[0].fields[0].key: 'created_at' is reserved for a field every record has"
    ]


def test_unique_on_a_type_that_cannot_be_unique_is_refused(minimal):
    minimal["entities"][0]["fields"][2]["unique"] = True
    assert messages(minimal) == ["entities[0].fields[2].unique: a decimal field cannot be unique"]


def test_invalid_default_is_named(minimal):
    minimal["entities"][0]["fields"][2]["default"] = "lots"
    assert messages(minimal) == ["entities[0].fields[2].default: 'lots' is not a number"]


def test_cel_default_is_type_checked(minimal):
    minimal["entities"][0]["fields"][2]["default"] = {"cel": "'zero'"}
    assert messages(minimal) == [
        "entities[0].fields[2].default.cel: must give a double, but gives a string"
    ]


def test_computed_field_cannot_be_required(starter):
    field(starter, "deal", "weighted_amount")["required"] = True
    assert messages(starter) == [
        "entities[1].fields[5].required: a formula field is computed: it takes no required"
    ]


def test_rollup_through_a_field_that_is_not_a_lookup_here_is_named(starter):
    field(starter, "company", "deal_count")["via"] = "name"
    assert messages(starter) == ["entities[0].fields[16].via: deal.name is not a lookup to company"]


def test_rollup_of_a_non_numeric_field_is_named(starter):
    field(starter, "company", "open_pipeline")["field"] = "name"
    assert messages(starter) == ["entities[0].fields[17].field: deal.name is not numeric"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"function": "max", "field": "close_date"},
            "entities[0].fields[17].result_type: the max of deal.close_date is a date: give "
            "result_type 'date'",
        ),
        (
            {"function": "sum", "field": "close_date", "result_type": "date"},
            "entities[0].fields[17].function: sum needs numbers; deal.close_date is a date "
            "(min and max take dates)",
        ),
        (
            {"function": "max", "field": "amount", "result_type": "date"},
            "entities[0].fields[17].result_type: deal.amount is a decimal: result_type is for "
            "the min or max of a date or date-time",
        ),
        (
            {"function": "min", "field": "last_contacted", "result_type": "date"},
            "entities[0].fields[17].result_type: the min of deal.last_contacted is a datetime: "
            "give result_type 'datetime'",
        ),
    ],
)
def test_rollups_of_dates_name_their_result_type(starter, change, message):
    field(starter, "company", "open_pipeline").update(change)
    assert messages(starter) == [message]


def test_a_rollup_of_dates_publishes_and_formulas_read_it_as_a_timestamp(starter):
    field(starter, "company", "open_pipeline").update(
        {"function": "max", "field": "close_date", "result_type": "date"}
    )
    company = next(e for e in starter["entities"] if e["key"] == "company")
    company["fields"].append(
        {
            "key": "quiet_days",
            "type": "formula",
            "result_type": "integer",
            "expression": "(now - record.open_pipeline).getHours() / 24",
        }
    )
    assert messages(starter) == []


def test_rollup_filter_is_checked_against_the_source_entity(starter):
    field(starter, "company", "open_pipeline")["filter"] = "record.tier == 'a'"
    assert messages(starter) == [
        "entities[0].fields[17].filter: unknown field 'tier' in record.tier"
    ]


def test_choice_with_duplicate_options_is_named(starter):
    field(starter, "company", "tier")["options"].append({"value": "a"})
    assert messages(starter) == [
        "entities[0].fields[6].options[3].value: the option 'a' appears twice"
    ]


def test_title_field_must_exist(minimal):
    minimal["entities"][0]["title_field"] = "nom"
    assert messages(minimal) == ["entities[0].title_field: 'nom' is not a field of account"]


def test_layout_naming_an_unknown_entity_or_field_is_named(minimal):
    minimal["layouts"] = [
        {
            "key": "account_form",
            "type": "form",
            "entity": "account",
            "tabs": [{"sections": [{"fields": ["name", "nickname"]}]}],
        },
        {"key": "ghost_form", "type": "list", "entity": "ghost", "columns": ["name"]},
    ]
    assert messages(minimal) == [
        "layouts[0].tabs[0].sections[0].fields[1]: 'nickname' is not a field of account",
        "layouts[1].entity: the entity 'ghost' does not exist",
    ]


def test_state_machine_with_an_unknown_state_is_named(starter):
    starter["workflows"] = [
        {
            "key": "deal_stages",
            "entity": "deal",
            "type": "state_machine",
            "field": "stage",
            "transitions": [
                {"from": "new", "to": "proposal"},
                {"from": "proposal", "to": "signed"},
            ],
        }
    ]
    assert messages(starter) == [
        "workflows[0].transitions[1].to: 'signed' is not an option of stage"
    ]


REP = {"en": "Rep"}


def test_role_naming_an_unknown_entity_is_named(minimal):
    minimal["roles"] = [{"key": "rep", "label": REP, "entities": {"account": {}, "lead": {}}}]
    assert messages(minimal) == ["roles[0].entities.lead: the entity 'lead' does not exist"]


def test_a_valid_role_and_sharing_rule_pass(minimal):
    minimal["roles"] = [
        {
            "key": "rep",
            "label": REP,
            "permissions": ["export", "view_audit"],
            "entities": {
                "account": {
                    "create": True,
                    "read": "team",
                    "update": "own",
                    "delete": "none",
                    "fields": {"credit_limit": "read"},
                },
                "*": {"read": "all"},
            },
        }
    ]
    minimal["sharing_rules"] = [
        {
            "key": "big",
            "entity": "account",
            "condition": "record.credit_limit > 1000.0",
            "access": "read",
            "roles": ["rep"],
            "teams": ["east"],
        }
    ]
    assert messages(minimal) == []


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            {"entities": {"account": {"fields": {"balance": "read"}}}},
            "roles[0].entities.account.fields.balance: 'balance' is not a field of account",
        ),
        (
            {"entities": {"*": {"fields": {"name": "read"}}}},
            'roles[0].entities.*.fields: field access needs a named entity, not "*"',
        ),
        (
            {"entities": {"account": {"read": "everyone"}}},
            "roles[0].entities.account.read: 'everyone' is not one of "
            "['none', 'own', 'team', 'subordinates', 'all']",
        ),
        (
            {"permissions": ["fly"]},
            "roles[0].permissions[0]: 'fly' is not one of "
            "['export', 'import', 'mass_update', 'configure', 'view_audit', 'edit_locked']",
        ),
        (
            {"entities": {"account": {"fields": {"name": "write"}}}},
            "roles[0].entities.account.fields.name: 'write' is not one of "
            "['hidden', 'read', 'edit']",
        ),
    ],
)
def test_bad_roles_are_named(minimal, role, expected):
    minimal["roles"] = [{"key": "rep", "label": REP, **role}]
    assert messages(minimal) == [expected]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            {"condition": "record.credit_limit >"},
            "sharing_rules[0].condition: ",
        ),
        (
            {"condition": "record.credit_limit + 1.0"},
            "sharing_rules[0].condition: must give a bool, but gives a double",
        ),
        ({"roles": ["director"]}, "sharing_rules[0].roles[0]: there is no role 'director'"),
        ({"roles": []}, "sharing_rules[0]: name the roles or teams it shares with"),
        ({"entity": "lead"}, "sharing_rules[0].entity: the entity 'lead' does not exist"),
    ],
)
def test_bad_sharing_rules_are_named(minimal, rule, expected):
    minimal["roles"] = [{"key": "rep", "label": REP}]
    minimal["sharing_rules"] = [
        {
            "key": "big",
            "entity": "account",
            "condition": "record.credit_limit > 1000.0",
            "access": "read",
            "roles": ["rep"],
            **rule,
        }
    ]
    (message,) = messages(minimal)
    assert message.startswith(expected)


def test_schema_json_file_is_valid_json():
    assert json.loads(SCHEMA_PATH.read_text())["title"] == "Tenant configuration"
