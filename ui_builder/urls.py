from django.urls import path

from ui_builder import views

app_name = "records"

urlpatterns = [
    path("<slug:entity>/", views.record_list, name="list"),
    path("<slug:entity>/<int:record_id>/", views.record_detail, name="detail"),
]
