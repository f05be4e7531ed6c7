"""Settings of the gunicorn server ``python -m bench graphql-http`` starts: the project's own,
with the hand-written API mounted next to the platform's (bench/http_urls.py)."""

from config.settings import *  # noqa: F403

DEBUG = False
ROOT_URLCONF = "bench.http_urls"
