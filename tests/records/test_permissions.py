"""Role permissions through the records service and its query compiler.

One organisation (teams east and west, dave managing alice managing carol) and deals owned
across it; each test gives users roles and checks, with ids and counts, that every channel
shows and changes exactly what the configuration grants.
"""

import copy
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from metadata.errors import ConfigError
from metadata.publish import active_version, document_of, publish, save_draft
from records.errors import RecordError
from records.models import AuditEntry, Record
from records.service import RecordService
from tenants.context import tenant_context
from tenants.models import Membership
from tenants.organisation import add_to_team, create_team, set_manager

SCOPES = ("none", "own", "team", "subordinates", "all")
PEOPLE = ("alice", "bob", "carol", "dave", "eve")
TEAMS = {"east": ("alice", "bob"), "west": ("carol",)}
MANAGERS = {"alice": "dave", "carol": "alice"}


def scoped_role(scope: str) -> dict:
    return {
        "key": f"r_{scope}",
        "label": {"en": f"Deals: {scope}"},
        "entities": {
            "deal": {"create": True, "read": scope, "update": scope, "delete": scope},
            "company": {"create": True, "read": "all", "update": "all"},
        },
    }


ROLES = [scoped_role(scope) for scope in SCOPES] + [
    {
        "key": "reader",
        "label": {"en": "Reads every deal, changes none"},
        "entities": {"deal": {"read": "all"}, "company": {"read": "all"}},
    },
    {
        "key": "clerk",
        "label": {"en": "Amounts read-only, probabilities hidden"},
        "permissions": ["view_audit"],
        "entities": {
            "deal": {
                "create": True,
                "read": "all",
                "update": "all",
                "fields": {"amount": "read", "probability": "hidden"},
            },
            "company": {"read": "own"},
        },
    },
]
SHARING_RULES = [
    {
        "key": "big_deals",
        "entity": "deal",
        "condition": "record.amount > 1000.0",
        "access": "read",
        "roles": ["r_own"],
    }
]


@pytest.fixture
def org(make_tenant):
    made = make_tenant("perm", pack="starter")
    tenant, admin = made.tenant, made.admin
    document = copy.deepcopy(document_of(active_version(tenant)))
    document["roles"] += ROLES
    document["sharing_rules"] = SHARING_RULES
    save_draft(tenant, document, overwrite=True)
    publish(tenant)
    users = {}
    from tenants.models import User

    with tenant_context(tenant):
        for name in PEOPLE:
            user = User.objects.create_user(email=f"{name}@perm.test", password="x-Pass-12345")
            Membership.objects.create(tenant=tenant, user=user, roles=[])
            users[name] = user
    for key, members in TEAMS.items():
        create_team(tenant, key, key.title())
        for name in members:
            add_to_team(tenant, key, f"{name}@perm.test")
    for name, manager in MANAGERS.items():
        set_manager(tenant, f"{name}@perm.test", f"{manager}@perm.test")
    service = RecordService(tenant, admin)
    company = service.create("company", {"name": "Acme"})
    deals = {}
    for name in PEOPLE:
        for n in (1, 2):
            view = service.create(
                "deal",
                {"name": f"D {name} {n}", "company": company.id, "amount": 100},
                owner=users[name],
            )
            deals[view.id] = {"owner": name, "team": None, "amount": 100}
    west = service.create("deal", {"name": "D west", "company": company.id}, team="west")
    deals[west.id] = {"owner": "admin", "team": "west", "amount": None}
    big = service.create("deal", {"name": "D big", "company": company.id, "amount": 5000})
    deals[big.id] = {"owner": "admin", "team": None, "amount": 5000}

    class Org:
        pass

    org = Org()
    org.tenant, org.admin, org.users, org.deals, org.company = tenant, admin, users, deals, company
    org.as_user = lambda name, roles: as_user(org, name, roles)
    return org


def as_user(org, name: str, roles: list[str]) -> RecordService:
    with tenant_context(org.tenant):
        Membership.objects.filter(user=org.users[name]).update(roles=roles)
    return RecordService(org.tenant, org.users[name])


def reports_of(name: str) -> set[str]:
    found, frontier = {name}, {name}
    while frontier:
        frontier = {person for person, boss in MANAGERS.items() if boss in frontier} - found
        found |= frontier
    return found


def in_scope(scope: str, name: str, deal: dict) -> bool:
    """The scopes' meaning, in plain Python."""
    my_teams = {team for team, members in TEAMS.items() if name in members}
    teammates = {member for team in my_teams for member in TEAMS[team]} | {name}
    return {
        "none": False,
        "own": deal["owner"] == name,
        "team": deal["owner"] in teammates or deal["team"] in my_teams,
        "subordinates": deal["owner"] in reports_of(name),
        "all": True,
    }[scope]


def expected(org, name: str, roles: list[str], action: str = "read") -> set[int]:
    scopes = {role[2:] for role in roles if role.startswith("r_")} - {"none"}
    visible = set()
    for deal_id, deal in org.deals.items():
        if any(in_scope(scope, name, deal) for scope in scopes):
            visible.add(deal_id)
        elif action == "read" and scopes and "r_own" in roles and (deal["amount"] or 0) > 1000:
            visible.add(deal_id)  # the big_deals sharing rule
    return visible


def listed(service) -> list[int]:
    """The deals a list shows the user; none when their roles read no deal at all (the list
    is then refused outright)."""
    try:
        page = service.query("deal", order_by=[{"field": "name"}], first=500, with_total=True)
    except RecordError as error:
        refusal = (error.code, error.message)
        if refusal != ("permission_denied", "You may not read deals."):
            raise
        return []
    assert page.total == len(page.rows)
    return sorted(row.id for row in page.rows)


@pytest.mark.parametrize("scope", SCOPES)
def test_each_scope_on_every_read_channel(org, scope):
    for name in PEOPLE:
        check_read_channels(org, scope, name)


def check_read_channels(org, scope, name):
    service = org.as_user(name, [f"r_{scope}"])
    visible = expected(org, name, [f"r_{scope}"])
    assert listed(service) == sorted(visible)
    if scope == "none":
        for refused in (
            lambda: service.aggregate("deal", metrics=[{"fn": "count"}]),
            lambda: service.query("deal", search="D "),
        ):
            with pytest.raises(RecordError) as error:
                refused()
            assert error.value.code == "permission_denied"
    else:
        (group,) = service.aggregate("deal", metrics=[{"fn": "count"}])
        assert group["count"] == len(visible)
        searched = service.query("deal", search="D ", first=500, with_total=True)
        assert searched.total == len(visible)
    for deal_id in org.deals:
        if deal_id in visible:
            assert service.get("deal", deal_id).id == deal_id
        else:
            with pytest.raises(RecordError) as hidden:
                service.get("deal", deal_id)
            with pytest.raises(RecordError) as missing:
                service.get("deal", 10**12)
            # The same answer as for a record that does not exist: nothing leaks.
            assert hidden.value.code == missing.value.code == "not_found"
            assert hidden.value.message == f"There is no deal {deal_id}."


@pytest.mark.parametrize("scope", SCOPES)
def test_updates_and_deletes_follow_the_scope(org, scope):
    service = org.as_user("alice", [f"r_{scope}", "reader"])
    allowed = expected(org, "alice", [f"r_{scope}"], action="update")
    for deal_id in org.deals:
        if deal_id in allowed:
            assert service.update("deal", deal_id, {"stage": "proposal"}).version == 2
        else:
            with pytest.raises(RecordError) as error:
                service.update("deal", deal_id, {"stage": "proposal"})
            assert error.value.code == "permission_denied"  # readable through "reader"
    with tenant_context(org.tenant):
        changed = set(Record.objects.filter(entity="deal", version=2).values_list("id", flat=True))
    assert changed == allowed
    victim = next(iter(sorted(set(org.deals) - allowed)), None)
    if victim is not None:
        with pytest.raises(RecordError) as error:
            service.delete("deal", victim)
        assert error.value.code == "permission_denied"


def test_a_user_without_the_entity_sees_nothing_and_cannot_create(org):
    service = org.as_user("eve", [])
    assert listed(service) == []
    with pytest.raises(RecordError) as error:
        service.get("deal", next(iter(org.deals)))
    assert error.value.code == "not_found"
    nobody = org.as_user("bob", [])
    with pytest.raises(RecordError) as error:
        nobody.create("deal", {"name": "X", "company": org.company.id})
    assert (error.value.code, error.value.message) == (
        "permission_denied",
        "You may not create deals.",
    )


def test_several_roles_give_the_most_permissive(org):
    service = org.as_user("carol", ["r_own", "r_team"])
    assert listed(service) == sorted(expected(org, "carol", ["r_own", "r_team"]))
    assert len(listed(service)) == len(
        expected(org, "carol", ["r_team"]) | {*expected(org, "carol", ["r_own"])}
    )


def test_hidden_fields_never_leave_and_read_only_fields_cannot_be_written(org):
    clerk = org.as_user("bob", ["clerk"])
    deal_id = next(i for i, d in org.deals.items() if d["amount"] == 5000)
    view = clerk.get("deal", deal_id)
    assert "probability" not in view.values
    assert view.values["amount"] == Decimal("5000.00")
    row = clerk.query("deal", filter_tree={"field": "amount", "op": "gt", "value": 1000}).rows[0]
    assert "probability" not in row.values
    for bad in (
        {"filter_tree": {"field": "probability", "op": "gt", "value": 1}},
        {"order_by": [{"field": "probability"}]},
    ):
        with pytest.raises(RecordError) as error:
            clerk.query("deal", **bad)
        assert "deal has no field 'probability'" in error.value.message
    with pytest.raises(RecordError) as error:
        clerk.aggregate("deal", group_by=[{"field": "probability"}])
    assert "deal has no field 'probability'" in error.value.message
    with pytest.raises(RecordError) as error:
        clerk.update("deal", deal_id, {"amount": 1, "probability": 50, "stage": "won"})
    assert sorted((e.field, e.code) for e in error.value.errors) == [
        ("amount", "read_only"),
        ("probability", "unknown_field"),
    ]
    assert org.as_user("dave", ["reader"]).get("deal", deal_id).version == 1  # nothing written
    # The history leaves hidden fields out.
    history = clerk.history("deal", deal_id)
    assert history
    assert all(change["field"] != "probability" for entry in history for change in entry.changes)


def test_the_history_needs_view_audit(org):
    deal_id = next(iter(org.deals))
    with pytest.raises(RecordError) as error:
        org.as_user("bob", ["reader"]).history("deal", deal_id)
    assert error.value.code == "permission_denied"


def test_lookups_need_read_rights_on_the_target(org):
    # clerk reads only the companies it owns: Acme (the admin's) does not exist for it.
    clerk = org.as_user("bob", ["clerk"])
    with pytest.raises(RecordError) as error:
        clerk.create("deal", {"name": "New", "company": org.company.id})
    assert [(e.field, e.code, e.message) for e in error.value.errors] == [
        ("company", "invalid_reference", f"there is no company {org.company.id}")
    ]
    # A hop filter never matches through a target the user may not read.
    assert (
        clerk.query("deal", filter_tree={"field": "company.name", "op": "eq", "value": "Acme"}).rows
        == []
    )
    reader = org.as_user("dave", ["reader"])
    hop = {"field": "company.name", "op": "eq", "value": "Acme"}
    assert len(reader.query("deal", filter_tree=hop, first=500).rows) == len(org.deals)
    # Bulk creates check the same way.
    with pytest.raises(RecordError):
        clerk.bulk_create("deal", [{"name": "B", "company": org.company.id}])


def test_sharing_one_record_with_a_user_or_a_team(org):
    alice = org.as_user("alice", ["r_own"])
    bobs = next(i for i, d in org.deals.items() if d["owner"] == "bob")
    assert bobs not in listed(alice)
    admin = RecordService(org.tenant, org.admin)
    assert admin.share("deal", bobs, user=org.users["alice"], access="read") is True
    assert bobs in listed(alice)
    with pytest.raises(RecordError) as error:
        alice.update("deal", bobs, {"stage": "won"})
    assert error.value.code == "permission_denied"
    admin.share("deal", bobs, user=org.users["alice"], access="edit")
    assert alice.update("deal", bobs, {"stage": "won"}).values["stage"] == "won"
    admin.unshare("deal", bobs, user=org.users["alice"])
    assert bobs not in listed(alice)
    # With a team: every member reads it.
    carols = next(i for i, d in org.deals.items() if d["owner"] == "carol")
    admin.share("deal", carols, team="east", access="read")
    assert carols in listed(org.as_user("bob", ["r_own"]))
    with tenant_context(org.tenant):
        actions = list(
            AuditEntry.objects.filter(record_id__in=[bobs, carols])
            .exclude(action__in=["create", "update"])
            .values_list("action", flat=True)
        )
    assert sorted(actions) == ["share", "share", "share", "unshare"]
    # Sharing needs edit rights on the record, and a real target.
    with pytest.raises(RecordError) as error:
        org.as_user("eve", ["reader"]).share("deal", bobs, user=org.users["eve"])
    assert error.value.code == "permission_denied"
    with pytest.raises(RecordError) as error:
        admin.share("deal", bobs, team="north")
    assert error.value.errors[0].code == "unknown_team"
    with pytest.raises(RecordError) as error:
        admin.share("deal", bobs, user=org.users["eve"], team="east")
    assert error.value.errors[0].code == "share_target"


def test_a_sharing_rule_follows_the_records_values(org):
    alice = org.as_user("alice", ["r_own"])
    big = next(i for i, d in org.deals.items() if d["amount"] == 5000)
    assert big in listed(alice)
    admin = RecordService(org.tenant, org.admin)
    admin.update("deal", big, {"amount": 10})
    assert big not in listed(alice)
    bulk = admin.bulk_create(
        "deal", [{"name": "Bulk big", "company": org.company.id, "amount": 2000}]
    )
    assert bulk.created[0] in listed(alice)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.dictionaries(
        st.sampled_from(PEOPLE),
        st.lists(st.sampled_from([f"r_{s}" for s in SCOPES]), max_size=3, unique=True),
        min_size=1,
    )
)
def test_the_readable_set_matches_the_rules_in_python(org, assignment):
    for name, roles in assignment.items():
        service = org.as_user(name, roles)
        assert listed(service) == sorted(expected(org, name, roles)), (name, roles)


def run_access(*args) -> str:
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("access", *args, stdout=out)
    return out.getvalue()


def test_explain_names_the_role_scope_or_share_that_decided(org):
    org.as_user("alice", ["r_own", "clerk"])
    alices = next(i for i, d in org.deals.items() if d["owner"] == "alice")
    bobs = next(i for i, d in org.deals.items() if d["owner"] == "bob")
    base = ["explain", "--tenant", "perm", "--user", "alice@perm.test", "--entity", "deal"]
    text = run_access(*base, "--action", "update", "--record", str(alices))
    assert text.startswith(f"ALLOWED: may update deal {alices}")
    assert "read: allowed by scope all of read (role clerk); scope own of read (role r_own)" in text
    # bob's deal: readable and updatable through clerk's "all" only
    assert "update: allowed by scope all of update (role clerk)" in run_access(
        *base, "--action", "update", "--record", str(bobs)
    )
    org.as_user("alice", ["r_own"])
    text = run_access(*base, "--action", "read", "--record", str(bobs))
    assert text.startswith(
        f"DENIED: no role, share or sharing rule lets the user read deal {bobs} "
        "(so it does not exist for them)"
    )
    RecordService(org.tenant, org.admin).share("deal", bobs, team="east")
    assert "the record is shared with the user or one of their teams" in run_access(
        *base, "--action", "read", "--record", str(bobs)
    )
    big = next(i for i, d in org.deals.items() if d["amount"] == 5000)
    assert "sharing rule big_deals" in run_access(*base, "--action", "read", "--record", str(big))
    org.as_user("alice", ["clerk"])
    text = run_access(*base, "--action", "update", "--field", "amount")
    assert text.startswith("DENIED: may update deals within: all, but field amount is read")
    assert "role clerk: create yes, read all, update all, delete none" in text
    org.as_user("alice", ["ghost_role"])
    text = run_access(*base, "--action", "create")
    assert text.startswith("DENIED: no role grants create on deal")
    assert "role ghost_role: not in the configuration, grants nothing" in text


def test_explain_refuses_bad_input(org):
    from django.core.management.base import CommandError

    base = ["explain", "--tenant", "perm", "--user", "alice@perm.test"]
    with pytest.raises(CommandError, match="There is no entity 'lead'"):
        run_access(*base, "--entity", "lead", "--action", "read")
    with pytest.raises(CommandError, match="deal has no field 'price'"):
        run_access(*base, "--entity", "deal", "--action", "read", "--field", "price")
    with pytest.raises(CommandError, match="nobody@perm.test is not a member of perm"):
        run_access(
            "explain", "--tenant", "perm", "--user", "nobody@perm.test", "--entity", "deal",
            "--action", "read",
        )  # fmt: skip


def test_teams_and_reporting_lines_by_command(org):
    from django.core.management.base import CommandError

    assert "Created the team north" in run_access(
        "create-team", "--tenant", "perm", "--key", "north", "--name", "North"
    )
    run_access("add-to-team", "--tenant", "perm", "--team", "north", "--user", "eve@perm.test")
    eve = org.as_user("eve", ["r_team"])
    assert listed(eve) == sorted(expected(org, "eve", ["r_team"]))
    with pytest.raises(CommandError, match="team_taken"):
        run_access("create-team", "--tenant", "perm", "--key", "north", "--name", "N")
    with pytest.raises(CommandError, match="team_invalid"):
        run_access("create-team", "--tenant", "perm", "--key", "North!", "--name", "N")
    with pytest.raises(CommandError, match="team_unknown"):
        run_access("add-to-team", "--tenant", "perm", "--team", "south", "--user", "eve@perm.test")
    # dave manages alice who manages carol: carol may not become dave's manager.
    with pytest.raises(CommandError, match="reporting_cycle"):
        run_access(
            "set-manager", "--tenant", "perm", "--user", "dave@perm.test",
            "--manager", "carol@perm.test",
        )  # fmt: skip
    assert "eve@perm.test reports to dave@perm.test." in run_access(
        "set-manager", "--tenant", "perm", "--user", "eve@perm.test", "--manager", "dave@perm.test"
    )
    dave = org.as_user("dave", ["r_subordinates"])
    owners = {org.deals[i]["owner"] for i in listed(dave)}
    assert owners == {"dave", "alice", "carol", "eve"}


def test_a_published_sharing_rule_is_applied_to_stored_records_by_a_job(org):
    from records.models import SchemaJob
    from records.schema_jobs import run_pending

    bob = org.as_user("bob", ["r_own"])
    assert {org.deals[i]["owner"] for i in listed(bob)} == {"bob", "admin"}  # + big_deals
    document = copy.deepcopy(document_of(active_version(org.tenant)))
    document["sharing_rules"].append(
        {
            "key": "carols_team",
            "entity": "deal",
            "condition": "record.name.startsWith('D carol')",
            "access": "read",
            "teams": ["east"],
        }
    )
    save_draft(org.tenant, document, overwrite=True)
    publish(org.tenant)
    with tenant_context(org.tenant):
        jobs = list(SchemaJob.objects.filter(kind="reshare").order_by("id"))
    # one for the fixture's publish of big_deals, one for this
    assert [job.entity for job in jobs] == ["deal", "deal"]
    run_pending(org.tenant.pk)
    owners = sorted(org.deals[i]["owner"] for i in listed(bob))
    assert owners == ["admin", "bob", "bob", "carol", "carol"]


def test_assigning_a_record_moves_it_between_scopes(org):
    bobs = next(i for i, d in org.deals.items() if d["owner"] == "bob")
    alice = org.as_user("alice", ["r_own"])
    assert bobs not in listed(alice)
    with pytest.raises(RecordError) as error:
        alice.assign("deal", bobs, owner=org.users["alice"])
    assert error.value.code == "not_found"  # alice cannot even see it
    admin = RecordService(org.tenant, org.admin)
    view = admin.assign("deal", bobs, owner=org.users["alice"])
    assert (view.owner_id, view.version) == (org.users["alice"].pk, 2)
    assert bobs in listed(alice)
    carol = org.as_user("carol", ["r_team"])
    assert bobs not in listed(carol)
    admin.assign("deal", bobs, team="west")
    assert bobs in listed(carol)
    admin.assign("deal", bobs, team="")
    assert bobs not in listed(carol)
    with tenant_context(org.tenant):
        changes = [
            entry.changes[0]["field"]
            for entry in AuditEntry.objects.filter(record_id=bobs, action="assign").order_by("id")
        ]
    assert changes == ["_owner", "_team", "_team"]
    with pytest.raises(RecordError) as error:
        admin.assign("deal", bobs, owner=10**9)
    assert error.value.errors[0].code == "not_a_member"


ROLE_KEYS = ("p1", "p2", "p3")


@st.composite
def worlds(draw):
    """Random roles (read and update scopes), role holders, records and a share."""
    roles = [
        {
            "key": key,
            "label": {"en": key},
            "entities": {
                "deal": {
                    "read": draw(st.sampled_from(SCOPES)),
                    "update": draw(st.sampled_from(SCOPES)),
                },
                "company": {"read": "all"},
            },
        }
        for key in ROLE_KEYS
    ]
    holders = {
        name: draw(st.lists(st.sampled_from(ROLE_KEYS), max_size=2, unique=True)) for name in PEOPLE
    }
    records = draw(
        st.lists(
            st.tuples(st.sampled_from(PEOPLE), st.sampled_from([None, "east", "west"])),
            min_size=1,
            max_size=8,
        )
    )
    share = draw(st.none() | st.tuples(st.integers(0, 7), st.sampled_from(PEOPLE)))
    return roles, holders, records, share


def test_random_roles_and_records_read_and_update_what_python_says(org):
    from django.db import connection

    admin = RecordService(org.tenant, org.admin)
    base = copy.deepcopy(document_of(active_version(org.tenant)))

    def role(key, read, update):
        return {
            "key": key,
            "label": {"en": key},
            "entities": {"deal": {"read": read, "update": update}, "company": {"read": "all"}},
        }

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(worlds())
    @example(  # a read share plus an update scope: updatable (reading came from the share)
        (
            [
                role("p1", "none", "none"),
                role("p2", "none", "none"),
                role("p3", "own", "subordinates"),
            ],
            {"alice": [], "bob": [], "carol": [], "dave": ["p1", "p3"], "eve": []},
            [("alice", None)],
            (0, "dave"),
        )
    )
    def check(world):
        roles, holders, records, share = world
        document = copy.deepcopy(base)
        document["roles"] = [r for r in document["roles"] if r["key"] == "tenant_admin"] + roles
        document["sharing_rules"] = []
        save_draft(org.tenant, document, overwrite=True)
        try:
            publish(org.tenant)
        except ConfigError as error:  # the same roles as the example before
            if error.code != "nothing_to_publish":
                raise
        with tenant_context(org.tenant):
            Record.objects.filter(entity="deal").delete()
        made = {}
        for owner, team in records:
            view = admin.create(
                "deal", {"name": "R", "company": org.company.id}, owner=org.users[owner], team=team
            )
            made[view.id] = {"owner": owner, "team": team, "amount": None}
        shared = None
        if share is not None and share[0] < len(made):
            shared = (sorted(made)[share[0]], share[1])
            admin.share("deal", shared[0], user=org.users[shared[1]], access="read")
        by_key = {role["key"]: role["entities"]["deal"] for role in roles}
        for name, held in holders.items():
            service = as_user(org, name, held)
            for action in ("read", "update"):
                scopes = {by_key[key][action] for key in held} - {"none"}
                want = {
                    deal_id
                    for deal_id, deal in made.items()
                    if any(in_scope(scope, name, deal) for scope in scopes)
                }
                read = {by_key[key]["read"] for key in held} - {"none"}
                readable = {i for i, d in made.items() if any(in_scope(s, name, d) for s in read)}
                if read and shared and shared[1] == name:
                    readable.add(shared[0])  # a read share opens it to reading only
                # Updating needs reading, by a scope or a share.
                want = readable if action == "read" else want & readable
                with tenant_context(org.tenant, user=org.users[name]):
                    config = admin._config()
                    sql, params = service.permissions.scope_sql(
                        config, config.entities["deal"], action
                    )
                    with connection.cursor() as cursor:
                        cursor.execute(
                            f"SELECT r.id FROM records_record r WHERE r.entity = 'deal' "
                            f"AND ({sql})",
                            params,
                        )
                        got = {row[0] for row in cursor.fetchall()}
                assert got == want, (name, held, action, roles)
                if action == "read":
                    assert set(listed(service)) == want

    check()


def test_bulk_updates_are_all_or_nothing_within_the_scope(org):
    from records.bulk import BulkError

    alice = org.as_user("alice", ["r_own", "reader"])
    rows = [{"id": deal_id, "values": {"stage": "won"}} for deal_id in sorted(org.deals)]
    with pytest.raises(BulkError) as error:
        alice.bulk_update("deal", rows)
    refused = {failure.index for failure in error.value.rows}
    mine = {
        i for i, (deal_id) in enumerate(sorted(org.deals)) if org.deals[deal_id]["owner"] == "alice"
    }
    assert refused == set(range(len(rows))) - mine
    assert all(f.errors[0].code == "permission_denied" for f in error.value.rows)
    with tenant_context(org.tenant):
        assert not Record.objects.filter(entity="deal", version__gt=1).exists()
    result = alice.bulk_update("deal", [rows[i] for i in sorted(mine)])
    assert len(result.updated) == 2


def test_bad_share_and_assign_inputs_change_nothing(org):
    admin = RecordService(org.tenant, org.admin)
    bobs = next(i for i, d in org.deals.items() if d["owner"] == "bob")
    with pytest.raises(RecordError) as error:
        admin.share("deal", bobs, user=org.users["alice"], access="write")
    assert error.value.errors[0].code == "invalid_choice"
    with pytest.raises(RecordError) as error:
        admin.assign("deal", bobs, team="north")
    assert error.value.errors[0].code == "unknown_team"
    assert bobs not in listed(org.as_user("alice", ["r_own"]))
    assert admin.get("deal", bobs).version == 1


def test_a_sharing_rule_may_read_the_owner_and_follows_a_reassignment(org):
    document = copy.deepcopy(document_of(active_version(org.tenant)))
    bob_id = org.users["bob"].pk
    document["sharing_rules"].append(
        {
            "key": "bobs_deals",
            "entity": "deal",
            "condition": f"record.owner == {bob_id}",
            "access": "read",
            "roles": ["r_own"],
        }
    )
    save_draft(org.tenant, document, overwrite=True)
    publish(org.tenant)
    admin = RecordService(org.tenant, org.admin)
    new = admin.create("deal", {"name": "New", "company": org.company.id}, owner=org.users["bob"])
    carol = org.as_user("carol", ["r_own"])
    assert new.id in listed(carol)
    admin.assign("deal", new.id, owner=org.users["eve"])
    assert new.id not in listed(carol)


def test_owner_fields_give_the_users_they_name_the_owners_scopes(make_tenant, add_member):
    """A company's account manager reaches it as its owner does: own for themselves,
    subordinates for their manager; nobody else."""
    made = make_tenant("owners", pack="starter")
    document = copy.deepcopy(document_of(active_version(made.tenant)))
    company = next(e for e in document["entities"] if e["key"] == "company")
    company["owner_fields"] = ["account_manager"]
    document["roles"] += [
        {
            "key": "am",
            "label": {"en": "Account manager"},
            "entities": {"company": {"read": "own", "update": "own"}},
        },
        {
            "key": "am_lead",
            "label": {"en": "Leads account managers"},
            "entities": {"company": {"read": "subordinates"}},
        },
    ]
    publish(made.tenant, document=document)
    alice = add_member(made.tenant, "alice@owners.test", roles=("am",))
    bob = add_member(made.tenant, "bob@owners.test", roles=("am",))
    dave = add_member(made.tenant, "dave@owners.test", roles=("am_lead",))
    set_manager(made.tenant, "alice@owners.test", "dave@owners.test")
    admin = RecordService(made.tenant, made.admin)
    managed = admin.create("company", {"name": "Managed", "account_manager": alice.pk}).id
    owned = admin.create("company", {"name": "Owned"}, owner=alice).id
    other = admin.create("company", {"name": "Other", "account_manager": bob.pk}).id

    def visible(user) -> list[int]:
        return sorted(v.id for v in RecordService(made.tenant, user).query("company").rows)

    assert visible(alice) == sorted([managed, owned])
    assert visible(bob) == [other]
    assert visible(dave) == sorted([managed, owned])  # his report's, by owner or by field
    RecordService(made.tenant, alice).update("company", managed, {"phone": "+86 10 1234"})
    with pytest.raises(RecordError) as refused:
        RecordService(made.tenant, bob).update("company", managed, {"phone": "+1"})
    assert refused.value.code == "not_found"


def test_owner_fields_must_be_user_fields(make_tenant):
    made = make_tenant("owners", pack="starter")
    document = copy.deepcopy(document_of(active_version(made.tenant)))
    company = next(e for e in document["entities"] if e["key"] == "company")
    company["owner_fields"] = ["name"]
    with pytest.raises(ConfigError) as refused:
        publish(made.tenant, document=document)
    assert [str(p) for p in refused.value.problems] == [
        "entities[0].owner_fields[0]: 'name' is not a user field of company"
    ]
