"""The compiled config validator: the errors of the literal JSON Schema evaluation, and a
schema that follows the registries."""

import copy

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metadata.fieldtypes import FieldType, field_types
from metadata.packs import load_pack
from metadata.schema_builder import build_schema
from metadata.schema_validator import config_errors
from metadata.semantics import schema_problems
from workflows.actions import actions
from workflows.approvers import approver_kinds


def nodes(value, path=()):
    yield path, value
    if isinstance(value, dict):
        children = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return
    for key, child in children:
        yield from nodes(child, (*path, key))


def one_of_each(items: list[dict], kind) -> list[dict]:
    chosen: dict = {}
    for item in items:
        chosen.setdefault(kind(item), item)
    return list(chosen.values())


def inner_types(item: dict) -> set[str]:
    """The types of what ``item`` holds: a workflow's actions and approvers."""
    return {n["type"] for _, n in list(nodes(item))[1:] if isinstance(n, dict) and "type" in n}


def sample_document() -> dict:
    """The CRM pack cut down to one field of each type, one workflow of each type and set of
    actions, one layout of each kind, and a few roles, reports and dashboards."""
    pack = load_pack("crm")
    fields = [field for entity in pack["entities"] for field in entity["fields"]]
    return {
        **pack,
        "entities": [{**pack["entities"][0], "fields": one_of_each(fields, lambda f: f["type"])}],
        "roles": pack["roles"][:2],
        "workflows": one_of_each(
            pack["workflows"],
            lambda w: (w["type"], *sorted(inner_types(w))),
        ),
        "layouts": one_of_each(pack["layouts"], lambda layout: layout["type"]),
        "reports": pack["reports"][:3],
        "dashboards": pack["dashboards"][:1],
    }


SAMPLE = sample_document()
LITERAL = jsonschema.Draft202012Validator(build_schema())
TYPES = [
    *field_types.keys(),
    *actions.keys(),
    *approver_kinds.keys(),
    "automation",
    "approval",
    "form",
    "kanban",
    "hologram",
]
VALUES = [None, 0, 2.5, True, "", "x", "Bad Key", [], ["a"], {}, {"en": "A"}, *TYPES]
OPTIONS = ["type", "options", "target", "precision", "to", "params", "steps", "tabs", "extra"]


@st.composite
def mutated_documents(draw):
    """The sample with a few changes: a type swapped, an option added or dropped, a value
    replaced by one of another type."""
    document = copy.deepcopy(SAMPLE)
    for _ in range(draw(st.integers(1, 4))):
        path, node = draw(st.sampled_from(list(nodes(document))[1:]))
        if isinstance(node, dict) and node and draw(st.booleans()):
            change = draw(st.sampled_from(["type", "add", "drop"]))
            if change == "type":
                node["type"] = draw(st.sampled_from(TYPES))
            elif change == "add":
                node[draw(st.sampled_from(OPTIONS))] = copy.deepcopy(draw(st.sampled_from(VALUES)))
            else:
                del node[draw(st.sampled_from(sorted(node)))]
        else:
            parent = document
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = copy.deepcopy(draw(st.sampled_from(VALUES)))
    return document


def described(errors) -> list[tuple]:
    return [
        (list(e.path), list(e.schema_path), e.validator, e.validator_value, e.message, e.instance)
        for e in errors
    ]


def test_the_sample_covers_every_type_it_stands_for():
    # given the sample's field, workflow, action and layout types
    assert {f["type"] for f in SAMPLE["entities"][0]["fields"]} == {
        f["type"] for e in load_pack("crm")["entities"] for f in e["fields"]
    }
    assert {w["type"] for w in SAMPLE["workflows"]} == {"automation", "state_machine", "approval"}
    assert {layout["type"] for layout in SAMPLE["layouts"]} == {
        "form",
        "list",
        "kanban",
        "calendar",
    }
    # then the sample is valid as it is
    assert config_errors(SAMPLE) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=mutated_documents())
def test_errors_are_those_of_the_literal_2020_12_evaluation(document):
    # given a document with a few things wrong
    # when the compiled validator checks it
    errors = config_errors(document)
    # then it reports exactly what Draft202012Validator reports, in the same order
    assert described(errors) == described(LITERAL.iter_errors(document))


def test_the_schema_follows_a_type_registered_and_removed_between_validations(monkeypatch, minimal):
    # given a document with a field of a type nobody has registered, refused by the schema
    minimal["entities"][0]["fields"].append({"key": "mood", "type": "mood", "scale": 0})
    refused = schema_problems(minimal)
    assert [p.path for p in refused] == ["entities[0].fields[3].type"]

    class Mood(FieldType):
        key = "mood"
        description = "A mood on a scale."
        option_schema = {"scale": {"type": "integer", "minimum": 1}}

    with monkeypatch.context() as patch:
        # when a type "mood" with the option "scale" is registered
        patch.setattr(field_types, "_types", dict(field_types._types))
        field_types.register(Mood)
        # then the next validation knows it and checks its options
        assert [str(p) for p in schema_problems(minimal)] == [
            "entities[0].fields[3].scale: 0 is less than the minimum of 1"
        ]
    # when the registry is put back, then the type is refused again
    assert schema_problems(minimal) == refused
