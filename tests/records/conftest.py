import pytest

from records.service import RecordService


@pytest.fixture
def shop(make_tenant):
    """A tenant on the starter pack (companies and deals), with its admin's service."""
    made = make_tenant("shop", pack="starter")
    return RecordService(made.tenant, made.admin)


@pytest.fixture
def crm(make_tenant):
    """A tenant on the crm pack (accounts, contacts, opportunities)."""
    made = make_tenant("acme", pack="crm")
    return RecordService(made.tenant, made.admin)


@pytest.fixture
def company(shop):
    return shop.create("company", {"name": "Acme", "employees": 12})
