"""State machines on every write: initial states, allowed transitions, roles, required fields
and conditions, each refusal with its reason and nothing written."""

import pytest

from records.errors import RecordError
from records.models import Record
from records.service import RecordService
from tenants.context import tenant_context
from tenants.organisation import set_manager
from tests.workflows.test_configuration import STAGES


@pytest.fixture
def stages(flows, add_member):
    service = flows.publish([STAGES])
    flows.rep = RecordService(flows.tenant, add_member(flows.tenant, "rep@flow.test"))
    flows.manager = RecordService(
        flows.tenant, add_member(flows.tenant, "boss@flow.test", roles=("sales_manager",))
    )
    set_manager(flows.tenant, "rep@flow.test", "boss@flow.test")  # she sees the rep's deals
    flows.service = service
    flows.company = service.create("company", {"name": "Acme"})
    return flows


def refused(call) -> tuple[str, str, str]:
    with pytest.raises(RecordError) as caught:
        call()
    (problem,) = caught.value.errors
    return problem.field, problem.code, problem.message


def stored_stage(flows, record_id):
    with tenant_context(flows.tenant):
        return Record.objects.get(pk=record_id).data.get("stage")


def test_a_new_record_starts_in_an_initial_state(stages):
    assert refused(
        lambda: stages.rep.create(
            "deal", {"name": "D", "company": stages.company.id, "stage": "won", "amount": 5}
        )
    ) == ("stage", "invalid_initial_state", "a new deal starts as new, not 'won'")
    deal = stages.rep.create("deal", {"name": "D", "company": stages.company.id, "stage": "new"})
    assert deal.values["stage"] == "new"


def test_transitions_follow_their_rules(stages):
    deal = stages.rep.create("deal", {"name": "D", "company": stages.company.id, "stage": "new"})
    # not a transition at all: the reason lists where it may go
    assert refused(lambda: stages.rep.update("deal", deal.id, {"stage": "won", "amount": 10})) == (
        "stage",
        "transition_not_allowed",
        "stage cannot go from 'new' to 'won'; from 'new' it may go to lost, proposal",
    )
    # a required field missing
    assert refused(lambda: stages.rep.update("deal", deal.id, {"stage": "proposal"})) == (
        "stage",
        "transition_refused",
        "propose needs amount",
    )
    assert stored_stage(stages, deal.id) == "new"
    stages.rep.update("deal", deal.id, {"stage": "proposal", "amount": 2000000})
    # a role needed
    assert refused(lambda: stages.rep.update("deal", deal.id, {"stage": "won"})) == (
        "stage",
        "transition_refused",
        "win: only sales_manager may do it",
    )
    # a condition that does not hold
    assert refused(lambda: stages.rep.update("deal", deal.id, {"stage": "lost"})) == (
        "stage",
        "transition_refused",
        "lose: the condition record.amount < 1000000.0 does not hold",
    )
    assert stored_stage(stages, deal.id) == "proposal"
    assert stages.manager.update("deal", deal.id, {"stage": "won"}).values["stage"] == "won"


def test_the_platform_needs_no_role_but_follows_the_transitions(stages):
    deal = stages.rep.create("deal", {"name": "D", "company": stages.company.id, "amount": 5})
    system = RecordService.system(stages.tenant)
    system.update("deal", deal.id, {"stage": "proposal"})
    assert system.update("deal", deal.id, {"stage": "won"}).values["stage"] == "won"
    with pytest.raises(RecordError):
        system.update("deal", deal.id, {"stage": "new"})
