"""The project's urls plus ``/bench/graphql/``: the hand-written API (bench/handwritten_api.py).

Both endpoints go through the same middleware: the API token names the tenant, and the request
runs in that tenant's transaction, so row-level security applies to the baseline tables too.
"""

from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView

from bench.handwritten_api import schema
from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    *project_urlpatterns,
    path("bench/graphql/", csrf_exempt(GraphQLView.as_view(schema=schema)), name="bench-graphql"),
]
