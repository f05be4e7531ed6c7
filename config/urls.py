from django.urls import include, path
from django.views.generic import RedirectView

from config.health import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="tenants:home", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("app/", include("tenants.urls")),
    path("api/", include("api.urls")),
]
