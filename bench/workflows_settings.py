"""Settings of the workers ``python -m bench workflows --polling-interval S`` starts: the
project's own, with kombu's ``polling_interval`` (how long a worker of a polling transport, such
as the filesystem broker, sleeps after finding its queue empty; kombu's default is 1 s) taken
from ``BENCH_BROKER_POLLING_INTERVAL``."""

import os

from config.settings import *  # noqa: F403

_interval = os.environ.get("BENCH_BROKER_POLLING_INTERVAL")
if _interval:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **globals().get("CELERY_BROKER_TRANSPORT_OPTIONS", {}),
        "polling_interval": float(_interval),
    }

# Celery's Django fixup closes every database connection before and after each task (a new
# PostgreSQL connection per task) unless this is set: how many tasks a connection may serve.
_reuse = os.environ.get("BENCH_CELERY_DB_REUSE_MAX")
if _reuse:
    CELERY_DB_REUSE_MAX = int(_reuse)
