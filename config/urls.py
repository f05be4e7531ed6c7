from django.urls import include, path
from django.views.generic import RedirectView
from wagtail.admin import urls as studio_urls

from api.schema.view import graphql_view
from config.health import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="tenants:home", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),  # the user's choice of language
    path("app/r/", include("ui_builder.urls")),
    path("app/", include("tenants.urls")),
    path("api/", include("api.urls")),
    path("studio/", include(studio_urls)),
    path("graphql/", graphql_view(), name="graphql"),
]
