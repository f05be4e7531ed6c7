"""Property: whatever a broken document holds, publishing either applies it whole or not at all,
and never fails with anything but a ConfigError."""

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metadata.errors import ConfigError
from metadata.impact import STRATEGIES
from metadata.models import ConfigVersion
from metadata.packs import load_pack
from metadata.publish import active_version, publish, save_draft
from metadata.semantics import validate_document
from tenants.context import tenant_context

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-10, 10**6)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "text",
            "lookup",
            "account",
            "record.name > 1",
            "formula",
            "choice",
            "deal",
            "company",
            "name",
        ]
    ),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["key", "type", "target", "options", "value", "rule"]),
            children,
            max_size=3,
        )
    ),
    max_leaves=6,
)


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths(value, (*prefix, index))


@st.composite
def broken_documents(draw):
    document = copy.deepcopy(load_pack("starter"))
    for _ in range(draw(st.integers(1, 3))):
        candidates = [p for p in paths(document) if p]
        path = draw(st.sampled_from(candidates))
        parent = document
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["delete", "replace", "duplicate"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = draw(JSON_VALUES)
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
    return document


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=broken_documents())
def test_publish_applies_a_document_whole_or_not_at_all(make_tenant, document):
    from tenants.models import Tenant

    tenant = Tenant.objects.filter(slug="prop").first() or make_tenant("prop").tenant
    before = active_version(tenant)
    refusal, version = None, None
    try:
        save_draft(tenant, document, overwrite=True)
        version = publish(tenant, strategies=STRATEGIES)
    except ConfigError as error:
        refusal = error.code
    if refusal is not None:
        assert refusal in {"invalid_json", "invalid_config", "nothing_to_publish"}
        after = active_version(tenant)
        assert (after.number, after.document) == (before.number, before.document)
    else:
        assert validate_document(document) == []
        assert (version.number, version.document) == (before.number + 1, document)
    with tenant_context(tenant):
        numbers = list(ConfigVersion.objects.values_list("number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))
