"""Drafts, publishing, impact report, rollback and the compiled model, against PostgreSQL."""

import copy

import pytest
from django.db import DatabaseError, connection

from metadata import compiled
from metadata.compiled import active_config
from metadata.errors import ConfigError
from metadata.models import ConfigDraft, ConfigVersion
from metadata.packs import load_pack
from metadata.publish import active_version, get_draft, publish, rollback, save_draft
from tenants.context import tenant_context
from tests.metadata.conftest import field

# The small CRM these tests rename and remove fields of (tests/fixtures.py).
pytestmark = pytest.mark.usefixtures("small_crm_pack")


@pytest.fixture
def tenant(make_tenant):
    return make_tenant("acme", name="Acme Ltd").tenant


@pytest.fixture
def admin(tenant):
    from tenants.models import User

    return User.objects.get(email="admin@acme.test")


def versions(tenant) -> list[int]:
    with tenant_context(tenant):
        return list(ConfigVersion.objects.values_list("number", flat=True))


def edited(tenant, change) -> dict:
    document = copy.deepcopy(active_version(tenant).document)
    change(document)
    return document


def test_the_pack_is_published_as_version_1_and_is_the_draft(tenant, admin):
    version = active_version(tenant)
    assert (version.number, version.published_by, version.comment) == (1, admin, "pack crm")
    assert version.document == load_pack("crm")
    assert get_draft(tenant).document == load_pack("crm")


def test_publishing_the_draft_creates_the_next_version_with_its_audit(tenant, admin):
    document = edited(tenant, lambda d: field(d, "account", "region").update(required=True))
    save_draft(tenant, document, user=admin, etag=get_draft(tenant).etag)
    version = publish(tenant, user=admin, strategies=["breaking-api"], comment="region needed")
    assert versions(tenant) == [1, 2]
    assert (version.based_on, version.published_by, version.comment) == (1, admin, "region needed")
    assert version.diff["entities"]["changed"]["account"]["fields"]["changed"] == {
        "region": {"required": {"from": None, "to": True}}
    }
    assert version.strategies == ["breaking-api"]
    assert [i["code"] for i in version.impact["breaking_api"]] == ["field_now_required"]


def test_saving_over_a_newer_draft_is_a_conflict(tenant, admin):
    etag = get_draft(tenant).etag
    first = save_draft(
        tenant, edited(tenant, lambda d: d["entities"][0].update(icon="a")), user=admin, etag=etag
    )
    with pytest.raises(ConfigError) as error:
        save_draft(
            tenant,
            edited(tenant, lambda d: d["entities"][0].update(icon="b")),
            user=admin,
            etag=etag,
        )
    assert error.value.code == "etag_conflict"
    assert get_draft(tenant).etag == first.etag
    assert get_draft(tenant).document["entities"][0]["icon"] == "a"


def test_saving_without_etag_over_unpublished_changes_needs_overwrite(tenant, admin):
    save_draft(
        tenant,
        edited(tenant, lambda d: d["entities"][0].update(icon="a")),
        user=admin,
        etag=get_draft(tenant).etag,
    )
    with pytest.raises(ConfigError, match="holds unpublished changes"):
        save_draft(tenant, edited(tenant, lambda d: d["entities"][0].update(icon="b")))
    save_draft(tenant, edited(tenant, lambda d: d["entities"][0].update(icon="b")), overwrite=True)
    assert get_draft(tenant).document["entities"][0]["icon"] == "b"


def test_publishing_an_invalid_draft_changes_nothing(tenant):
    document = edited(tenant, lambda d: field(d, "account", "parent").update(target="nowhere"))
    save_draft(tenant, document, overwrite=True)
    with pytest.raises(ConfigError) as error:
        publish(tenant)
    assert error.value.code == "invalid_config"
    assert [str(p) for p in error.value.problems] == [
        "entities[0].fields[7].target: the target entity 'nowhere' does not exist"
    ]
    assert versions(tenant) == [1]


def test_publishing_what_is_already_active_is_refused(tenant):
    with pytest.raises(ConfigError) as error:
        publish(tenant)
    assert error.value.code == "nothing_to_publish"


def test_a_changed_key_without_rename_strategy_is_blocked(tenant):
    document = edited(tenant, lambda d: field(d, "account", "region").update(key="territory"))
    save_draft(tenant, document, overwrite=True)
    with pytest.raises(ConfigError) as error:
        publish(tenant)
    assert error.value.code == "publish_blocked"
    assert [(i.code, i.path, i.strategy) for i in error.value.report] == [
        ("field_removed", "account.region", "remove-fields")
    ]
    assert 'add "renamed_from": "region"' in error.value.report[0].message
    assert versions(tenant) == [1]


def test_a_declared_rename_is_a_breaking_api_change_not_a_removal(tenant):
    def rename(document):
        field(document, "account", "region").update(key="territory", renamed_from="region")

    save_draft(tenant, edited(tenant, rename), overwrite=True)
    with pytest.raises(ConfigError) as error:
        publish(tenant)
    assert [(i.code, i.strategy) for i in error.value.report] == [("field_renamed", "breaking-api")]
    version = publish(tenant, strategies=["breaking-api"])
    assert version.diff["entities"]["changed"]["account"]["fields"]["renamed"] == [
        {"from": "region", "to": "territory"}
    ]


def remove_entity(document, key):
    """An entity goes, and with it the roles' access to it (a role may not name it)."""
    document["entities"] = [e for e in document["entities"] if e["key"] != key]
    for role in document["roles"]:
        role.get("entities", {}).pop(key, None)


@pytest.mark.parametrize(
    ("change", "codes"),
    [
        (lambda d: remove_entity(d, "contact"), [("entity_removed", "remove-entities")]),
        (
            lambda d: field(d, "account", "region").update(type="long_text", indexed=False),
            [("type_changed", "convert-types")],
        ),
        (
            lambda d: d["entities"][2].update(plural_key="deals"),
            [("plural_key_changed", "breaking-api")],
        ),
        (
            lambda d: field(d, "opportunity", "forecast_category")["options"].pop(),
            [("option_removed", "breaking-api")],
        ),
    ],
)
def test_breaking_changes_are_reported_with_their_strategy(tenant, change, codes):
    save_draft(tenant, edited(tenant, change), overwrite=True)
    with pytest.raises(ConfigError) as error:
        publish(tenant)
    assert [(i.code, i.strategy) for i in error.value.report] == codes
    publish(tenant, strategies=[strategy for _, strategy in codes])
    assert versions(tenant) == [1, 2]


def test_an_unknown_strategy_is_refused(tenant):
    with pytest.raises(ConfigError) as error:
        publish(tenant, strategies=["yolo"])
    assert error.value.code == "strategy_unknown"


def test_rollback_publishes_an_old_version_as_a_new_one(tenant, admin):
    save_draft(
        tenant, edited(tenant, lambda d: d["entities"][0].update(icon="star")), overwrite=True
    )
    publish(tenant)
    version = rollback(tenant, 1, user=admin)
    assert versions(tenant) == [1, 2, 3]
    assert (version.rollback_of, version.based_on) == (1, 2)
    assert version.document == load_pack("crm")
    # The draft keeps the consultant's work.
    assert get_draft(tenant).document["entities"][0]["icon"] == "star"


def test_rollback_to_an_unknown_version_is_refused(tenant):
    with pytest.raises(ConfigError) as error:
        rollback(tenant, 9)
    assert (error.value.code, error.value.message) == (
        "version_unknown",
        "The tenant acme has no version 9.",
    )


def test_rollback_goes_through_the_same_checks(tenant):
    save_draft(
        tenant,
        edited(tenant, lambda d: d["entities"][0]["fields"].append({"key": "vat", "type": "text"})),
        overwrite=True,
    )
    publish(tenant)
    with pytest.raises(ConfigError) as error:
        rollback(tenant, 1)
    assert [(i.code, i.path) for i in error.value.report] == [("field_removed", "account.vat")]
    assert versions(tenant) == [1, 2]


def test_published_versions_are_immutable_in_the_database(tenant):
    with pytest.raises(DatabaseError, match="immutable"), tenant_context(tenant):
        ConfigVersion.objects.filter(number=1).update(document={})
    with pytest.raises(DatabaseError, match="immutable"), tenant_context(tenant):
        ConfigVersion.objects.filter(number=1).delete()
    assert active_version(tenant).document == load_pack("crm")


def test_configuration_tables_are_isolated_per_tenant(tenant, make_tenant):
    other = make_tenant("globex").tenant
    with tenant_context(other), connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tenant_id FROM metadata_configversion")
        assert cursor.fetchall() == [(other.pk,)]
        assert ConfigDraft.objects.count() == 1


def test_every_process_sees_a_new_version_on_its_next_read(tenant):
    compiled.cache.clear()
    compilations = compiled.cache.compilations
    first = active_config(tenant)
    assert first.version == 1
    assert "region" in first.entity("account").fields
    save_draft(
        tenant,
        edited(tenant, lambda d: d["entities"][0]["fields"].append({"key": "vat", "type": "text"})),
        overwrite=True,
    )
    publish(tenant)
    second = active_config(tenant)
    assert second.version == 2
    assert "vat" in second.entity("account").fields
    assert compiled.cache.compilations == compilations + 2


def test_a_warm_compiled_config_costs_one_query_in_a_tenant_transaction(
    tenant, django_assert_num_queries
):
    active_config(tenant)
    with tenant_context(tenant), django_assert_num_queries(1) as captured:
        config = active_config(tenant)
    assert config.version == 1
    assert "SELECT max(number) FROM metadata_configversion" in captured.captured_queries[0]["sql"]


def test_compiled_entity_orders_formulas_by_dependency(tenant):
    def add_formulas(document):
        document["entities"][2]["fields"] += [
            {
                "key": "b",
                "type": "formula",
                "expression": "record.a * 2.0",
                "result_type": "decimal",
            },
            {
                "key": "a",
                "type": "formula",
                "expression": "record.weighted_amount + 1.0",
                "result_type": "decimal",
            },
        ]

    save_draft(tenant, edited(tenant, add_formulas), overwrite=True)
    publish(tenant)
    order = active_config(tenant).entity("opportunity").formula_order
    assert order.index("weighted_amount") < order.index("a") < order.index("b")


def test_a_nul_character_is_refused_with_its_path(tenant):
    document = edited(tenant, lambda d: d["entities"][0].update(icon="star\x00"))
    with pytest.raises(ConfigError) as error:
        save_draft(tenant, document, overwrite=True)
    assert (error.value.code, error.value.message) == (
        "invalid_json",
        "entities[0].icon: contains a NUL character (\\u0000), which cannot be stored.",
    )
    assert get_draft(tenant).document == load_pack("crm")


def test_rollback_renames_back_what_was_renamed_since(tenant):
    def rename(document):
        field(document, "account", "region").update(key="territory", renamed_from="region")

    save_draft(tenant, edited(tenant, rename), overwrite=True)
    publish(tenant, strategies=["breaking-api"])
    with pytest.raises(ConfigError) as error:
        rollback(tenant, 1)
    assert [(i.code, i.path) for i in error.value.report] == [("field_renamed", "account.region")]
    version = rollback(tenant, 1, strategies=["breaking-api"])
    assert version.diff["entities"]["changed"]["account"]["fields"]["renamed"] == [
        {"from": "territory", "to": "region"}
    ]
    assert field(version.document, "account", "region")["renamed_from"] == "territory"
