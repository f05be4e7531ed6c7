import copy

import pytest

from metadata.publish import active_version, document_of, publish
from records.service import RecordService


@pytest.fixture
def flows(make_tenant):
    """A tenant on the starter pack (companies, deals); ``flows.publish(workflows)`` publishes
    them and returns the admin's records service."""
    made = make_tenant("flow", pack="starter")

    def publish_workflows(workflows: list[dict], roles: list[dict] | None = None):
        document = copy.deepcopy(document_of(active_version(made.tenant)))
        document["workflows"] = workflows
        document["roles"] += roles or []
        publish(made.tenant, document=document)
        return RecordService(made.tenant, made.admin)

    made.publish = publish_workflows
    return made


def automation(key: str, actions: list[dict], *, on: str = "create", **extra) -> dict:
    trigger = {"on": on, **extra.pop("trigger", {})}
    return {
        "key": key,
        "type": "automation",
        "entity": "deal",
        "trigger": trigger,
        "actions": actions,
        **extra,
    }
