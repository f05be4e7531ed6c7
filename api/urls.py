from django.urls import path

from api import views

app_name = "api"

urlpatterns = [
    path("whoami", views.whoami, name="whoami"),
    path("files/", views.upload_file, name="files"),
]
