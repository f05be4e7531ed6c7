"""gunicorn settings for the web process; every value can be overridden from the environment."""

import os

bind = os.environ.get("WEB_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 20
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
accesslog = None  # the request log middleware writes one structured line per request
errorlog = "-"
wsgi_app = "config.wsgi:application"


def on_starting(server):
    # Refuse to start, naming the service, when the database or broker cannot be reached.
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from config.startup import exit_unless_backing_services

    exit_unless_backing_services()
