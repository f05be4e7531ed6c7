from django.urls import path

from ui_builder import files, views

app_name = "records"

urlpatterns = [
    path("approvals/", views.approval_inbox, name="inbox"),  # before the entities' pages
    path("notifications/", views.notifications, name="notifications"),
    path("dashboards/", views.dashboard_page, name="dashboards"),
    path("dashboards/<slug:key>/", views.dashboard_page, name="dashboard"),
    path("reports/<slug:key>/", views.report_page, name="report"),
    path("reports/<slug:key>/export.csv", views.report_export, name="report_export"),
    path("<slug:entity>/", views.record_list, name="list"),
    path("<slug:entity>/board/", views.record_board, name="board"),
    path("<slug:entity>/lookup/", views.record_lookup, name="lookup"),
    path("<slug:entity>/bulk/", views.bulk_action, name="bulk"),
    path("<slug:entity>/views/", views.save_list_view, name="save_view"),
    path("<slug:entity>/views/<int:view_id>/delete/", views.delete_list_view, name="delete_view"),
    path("<slug:entity>/export.csv", views.record_export, name="export"),
    path("<slug:entity>/calendar/", views.record_calendar, name="calendar"),
    path("<slug:entity>/<int:record_id>/move/", views.board_move, name="move"),
    path("<slug:entity>/new/", views.record_new, name="new"),
    path("<slug:entity>/new/preview/", views.form_preview, name="new_preview"),
    path("<slug:entity>/<int:record_id>/", views.record_detail, name="detail"),
    path("<slug:entity>/<int:record_id>/edit/", views.record_edit, name="edit"),
    path("<slug:entity>/<int:record_id>/files/<slug:field>/", files.download, name="file"),
    path(
        "<slug:entity>/<int:record_id>/related/<slug:key>/",
        views.related_save,
        name="related",
    ),
    path("<slug:entity>/<int:record_id>/approval/", views.approval_action, name="approval"),
    path("<slug:entity>/<int:record_id>/edit/preview/", views.form_preview, name="edit_preview"),
]
