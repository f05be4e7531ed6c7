"""A real Celery worker process, fed through the real broker, sets the tenant for its work."""

import pytest
from django.core.management import call_command

from tenants.tasks import count_members

pytestmark = pytest.mark.worker


@pytest.mark.django_db(transaction=True)
def test_worker_runs_a_task_under_the_tenants_row_level_security(
    celery_worker_queue, acme, globex, add_member
):
    add_member(acme.tenant, "rep1@acme.test")
    add_member(acme.tenant, "rep2@acme.test")

    acme_result = count_members.apply_async([acme.tenant.pk], queue=celery_worker_queue)
    globex_result = count_members.apply_async([globex.tenant.pk], queue=celery_worker_queue)

    assert acme_result.get(timeout=60) == {"tenant_id": acme.tenant.pk, "members": 3}
    assert globex_result.get(timeout=60) == {"tenant_id": globex.tenant.pk, "members": 1}


@pytest.mark.django_db(transaction=True)
def test_check_worker_command_reports_the_answer(celery_worker_queue, acme, capsys, settings):
    call_command("check_worker", "--tenant", "acme", "--timeout", "60")
    assert "A worker answered: tenant acme has 1 members." in capsys.readouterr().out
