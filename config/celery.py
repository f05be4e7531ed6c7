"""The Celery application; settings come from Django's, under the ``CELERY_`` prefix."""

import os

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _verify_backing_services(**_kwargs) -> None:
    # Fail at start with a message naming the unreachable service, not at the first task.
    from config.startup import exit_unless_backing_services

    exit_unless_backing_services()
