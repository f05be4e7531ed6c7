"""The consultant's round trip from the command line: export, edit, import, diff, publish,
rollback; and the command's refusals."""

import json

import pytest
from django.core.management import CommandError, call_command

from metadata.models import ConfigVersion
from metadata.packs import load_pack
from tenants.context import tenant_context

# The small CRM these tests rename and remove fields of (tests/fixtures.py).
pytestmark = pytest.mark.usefixtures("small_crm_pack")


def run(capsys, *args) -> str:
    call_command("config", *args)
    return capsys.readouterr().out


@pytest.fixture
def acme_config(make_tenant):
    return make_tenant("acme", name="Acme Ltd").tenant


def versions(tenant) -> list[int]:
    with tenant_context(tenant):
        return list(ConfigVersion.objects.values_list("number", flat=True))


def test_export_edit_import_diff_publish_rollback(acme_config, capsys, tmp_path):
    exported = json.loads(run(capsys, "export", "--tenant", "acme"))
    assert exported == load_pack("crm")

    exported["entities"][1]["fields"].append(
        {"key": "wechat", "type": "text", "label": {"en": "WeChat", "zh-Hans": "微信"}}
    )
    edited = tmp_path / "config.json"
    edited.write_text(json.dumps(exported, ensure_ascii=False))
    call_command("config", "export", "--tenant", "acme", "--draft")
    etag = capsys.readouterr().err.split()[1]

    out = run(
        capsys, "import", "--tenant", "acme", str(edited), "--etag", etag, "--as", "admin@acme.test"
    )
    assert "Saved the draft of acme" in out
    assert "+ field contact.wechat" in out

    assert run(capsys, "diff", "--tenant", "acme", "active", "draft").strip() == (
        "+ field contact.wechat"
    )
    diff_json = json.loads(run(capsys, "diff", "--tenant", "acme", "active", "draft", "--json"))
    assert diff_json["entities"]["changed"]["contact"]["fields"]["added"] == ["wechat"]

    assert "Published version 2 of acme." in run(
        capsys, "publish", "--tenant", "acme", "--as", "admin@acme.test"
    )
    assert "- field contact.wechat" in run(capsys, "diff", "--tenant", "acme", "2", "1")

    blocked = pytest.raises(CommandError, match=r"\[publish_blocked\]")
    with blocked:
        call_command("config", "rollback", "--tenant", "acme", "1")
    out = run(capsys, "rollback", "--tenant", "acme", "1", "--force", "remove-fields")
    assert "Published version 3 of acme with the content of version 1." in out
    assert versions(acme_config) == [1, 2, 3]
    history = run(capsys, "history", "--tenant", "acme")
    assert "rollback of 1" in history
    assert "admin@acme.test" in history


def test_dry_run_shows_the_impact_and_publishes_nothing(acme_config, capsys, tmp_path):
    document = load_pack("crm")
    document["entities"][1]["fields"].pop()  # contact.reports_to
    path = tmp_path / "c.json"
    path.write_text(json.dumps(document))
    run(capsys, "import", "--tenant", "acme", str(path), "--overwrite")
    out = run(capsys, "publish", "--tenant", "acme", "--dry-run")
    assert "BLOCKING contact.reports_to: the field contact.reports_to is removed" in out
    assert versions(acme_config) == [1]


def test_import_of_malformed_json_is_refused(acme_config, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"format": 1,')
    with pytest.raises(CommandError, match=r"\[invalid_json\] Malformed JSON at line 1"):
        call_command("config", "import", "--tenant", "acme", str(path))


def test_import_with_publish_of_an_invalid_document_keeps_the_active_version(acme_config, tmp_path):
    document = load_pack("crm")
    document["entities"][0]["fields"][0]["type"] = "hologram"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(CommandError, match=r"entities\[0\]\.fields\[0\]\.type: 'hologram'"):
        call_command("config", "import", "--tenant", "acme", str(path), "--publish", "--overwrite")
    assert versions(acme_config) == [1]


def test_validate_reports_problems_with_their_paths(acme_config, tmp_path, capsys):
    document = load_pack("crm")
    document["entities"][2]["fields"][5]["expression"] = "record.amount * 'x'"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(CommandError, match=r"\[invalid_config\] 1 problem"):
        call_command("config", "validate", "--tenant", "acme", str(path))
    assert "entities[2].fields[5].expression: type error" in capsys.readouterr().out


def test_unknown_tenant_file_version_and_user_are_refused(acme_config, tmp_path):
    with pytest.raises(CommandError, match=r"\[tenant_unknown\]"):
        call_command("config", "export", "--tenant", "nobody")
    with pytest.raises(CommandError, match=r"Cannot read .*missing.json"):
        call_command("config", "import", "--tenant", "acme", str(tmp_path / "missing.json"))
    with pytest.raises(
        CommandError,
        match=r"\[version_unknown\] The tenant acme has no "
        r"version 7",
    ):
        call_command("config", "export", "--tenant", "acme", "--version", "7")
    with pytest.raises(CommandError, match=r"\[user_unknown\]"):
        call_command("config", "publish", "--tenant", "acme", "--as", "who@x.test")


def test_schema_command_prints_the_committed_schema(capsys):
    from metadata.schema_builder import SCHEMA_PATH

    assert run(capsys, "schema") == SCHEMA_PATH.read_text()


def test_export_keeps_the_authors_key_order(acme_config, capsys):
    exported = run(capsys, "export", "--tenant", "acme")
    assert exported == json.dumps(load_pack("crm"), indent=2, ensure_ascii=False) + "\n"
    first_field = json.loads(exported)["entities"][0]["fields"][0]
    assert list(first_field) == [
        "key",
        "type",
        "label",
        "required",
        "unique",
        "searchable",
        "max_length",
    ]


def test_import_of_an_invalid_document_leaves_the_draft_unchanged(acme_config, tmp_path):
    from metadata.publish import get_draft

    before = get_draft(acme_config).etag
    document = load_pack("crm")
    document["entities"][0]["fields"][7]["target"] = "planet"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(CommandError) as error:
        call_command("config", "import", "--tenant", "acme", str(path), "--overwrite")
    assert str(error.value) == (
        "[invalid_config] 1 problem(s); the draft was not changed.\n"
        "  entities[0].fields[7].target: the target entity 'planet' does not exist"
    )
    assert get_draft(acme_config).etag == before


def test_a_tenant_predating_roles_adopts_the_packs_roles(make_tenant, capsys):
    from metadata.publish import active_version, document_of, publish
    from records.errors import RecordError
    from records.service import RecordService

    made = make_tenant("old", pack="crm")
    document = document_of(active_version(made.tenant))
    document["roles"] = [document["roles"][0]]  # only tenant_admin survives…
    document["roles"][0] = {**document["roles"][0], "key": "legacy_admin"}  # …renamed
    document["entities"] = [e for e in document["entities"] if e["key"] != "contact"]
    for role in document["roles"]:
        role["entities"].pop("contact", None)
    publish(made.tenant, document=document, strategies=["remove-entities"])
    service = RecordService(made.tenant, made.admin)  # holds tenant_admin, which is gone
    with pytest.raises(RecordError) as error:
        service.create("account", {"name": "A"})
    assert error.value.code == "permission_denied"
    out = run(capsys, "adopt-roles", "--tenant", "old", "--pack", "crm")
    assert "+ role tenant_admin" in out
    assert "+ role sales_rep" in out
    assert "Published version 3 of old." in out
    roles = {r["key"]: r for r in document_of(active_version(made.tenant))["roles"]}
    assert "contact" not in roles["sales_rep"]["entities"]  # the entity is gone here
    assert RecordService(made.tenant, made.admin).create("account", {"name": "A"}).id
    assert "old has every role of the pack crm." in run(
        capsys, "adopt-roles", "--tenant", "old", "--pack", "crm"
    )
    assert versions(made.tenant) == [1, 2, 3]
    with pytest.raises(CommandError, match="pack_unknown"):
        run(capsys, "adopt-roles", "--tenant", "old", "--pack", "nope")


def test_changing_the_configuration_needs_the_configure_permission(make_tenant, add_member):
    from metadata.errors import ConfigError
    from metadata.publish import active_version, document_of, publish, save_draft

    made = make_tenant("cfg", pack="crm")
    rep = add_member(made.tenant, "rep@cfg.test", roles=("sales_rep",))
    consultant = add_member(made.tenant, "consultant@cfg.test", roles=("consultant",))
    document = document_of(active_version(made.tenant))
    document["entities"][0]["icon"] = "briefcase-test"
    for attempt in (
        lambda: save_draft(made.tenant, document, user=rep, overwrite=True),
        lambda: publish(made.tenant, user=rep, document=document),
    ):
        with pytest.raises(ConfigError) as error:
            attempt()
        assert error.value.code == "configure_denied"
        assert "rep@cfg.test may not change the configuration of cfg" in error.value.message
    assert versions(made.tenant) == [1]
    with pytest.raises(CommandError, match="configure_denied"):
        call_command("config", "publish", "--tenant", "cfg", "--as", "rep@cfg.test")
    save_draft(made.tenant, document, user=consultant, overwrite=True)
    publish(made.tenant, user=consultant)
    assert versions(made.tenant) == [1, 2]
