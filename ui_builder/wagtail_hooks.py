"""The studio's pages and menu in the Wagtail admin at /studio/ (ui_builder/studio/)."""

from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component

from ui_builder.studio import operations, preview, publishing, roles_matrix, views


@hooks.register("register_admin_urls")
def studio_urls():
    field = "config/entities/<slug:parent>/fields/"
    return [
        path("config/", publishing.overview, name="studio_overview"),
        path("config/publish/", publishing.review, name="studio_publish"),
        path("config/versions/", publishing.versions, name="studio_versions"),
        path("config/versions/<int:number>/", publishing.version, name="studio_version"),
        path("config/versions/<int:number>/rollback/", publishing.rollback, name="studio_rollback"),
        path("config/preview/", preview.preview, name="studio_preview"),
        path("config/preview/page/", preview.preview_page, name="studio_preview_page"),
        path("config/roles-matrix/", roles_matrix.roles_matrix, name="studio_roles"),
        path(f"{field}new/", views.item_editor, {"name": "fields"}, name="studio_field_new"),
        path(f"{field}<slug:key>/", views.item_editor, {"name": "fields"}, name="studio_field"),
        path(
            f"{field}<slug:key>/delete/",
            views.item_delete,
            {"name": "fields"},
            name="studio_field_delete",
        ),
        path(
            f"{field}<slug:key>/move/",
            views.item_move,
            {"name": "fields"},
            name="studio_field_move",
        ),
        path("config/<slug:name>/", views.collection_list, name="studio_collection"),
        path("config/<slug:name>/new/", views.item_editor, name="studio_new"),
        path("config/<slug:name>/<slug:key>/", views.item_editor, name="studio_item"),
        path("config/<slug:name>/<slug:key>/delete/", views.item_delete, name="studio_delete"),
        path("config/<slug:name>/<slug:key>/move/", views.item_move, name="studio_move"),
        path("jobs/", publishing.jobs, name="studio_jobs"),
        path("dead-letters/", operations.dead_letters, name="studio_dead_letters"),
        path(
            "dead-letters/retry/",
            operations.retry_dead_letters,
            name="studio_dead_letters_retry",
        ),
        path("explain/", operations.explain_access, name="studio_explain"),
        path("tenants/", operations.tenants, name="studio_tenants"),
    ]


class StaffMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.is_staff


class TenantMenuItem(MenuItem):
    """Shown once a company is chosen for the session."""

    def is_shown(self, request):
        return getattr(request, "tenant", None) is not None


MENU = [
    ("configuration", _("Configuration"), "studio_overview", "cogs"),
    ("entities", _("Entities"), ("studio_collection", "entities"), "table"),
    ("roles", _("Roles matrix"), "studio_roles", "group"),
    ("layouts", _("Layouts"), ("studio_collection", "layouts"), "form"),
    ("workflows", _("Workflows"), ("studio_collection", "workflows"), "tasks"),
    ("sharing", _("Sharing rules"), ("studio_collection", "sharing_rules"), "link"),
    ("preview", _("Preview as a role"), "studio_preview", "view"),
    ("publish", _("Review and publish"), "studio_publish", "upload"),
    ("versions", _("Version history"), "studio_versions", "history"),
    ("jobs", _("Data migrations"), "studio_jobs", "resubmit"),
    ("dead_letters", _("Failed deliveries"), "studio_dead_letters", "warning"),
    ("explain", _("Explain access"), "studio_explain", "lock"),
]


def _url(target) -> str:
    name, *args = target if isinstance(target, tuple) else (target,)
    return reverse(name, args=args)


def _register(name, label, target, icon, order):
    @hooks.register("register_admin_menu_item")
    def item():
        return TenantMenuItem(label, _url(target), name=name, icon_name=icon, order=order)


for order, (name, label, target, icon) in enumerate(MENU, start=100):
    _register(name, label, target, icon, order)


@hooks.register("register_admin_menu_item")
def tenants_item():
    return StaffMenuItem(
        _("Companies"), reverse("studio_tenants"), name="tenants", icon_name="site", order=300
    )


@hooks.register("insert_global_admin_css")
def studio_css():
    return format_html('<link rel="stylesheet" href="{}">', static("studio/studio.css"))


@hooks.register("insert_global_admin_js")
def studio_js():
    return format_html('<script src="{}" defer></script>', static("studio/studio.js"))


class DraftPanel(Component):
    """The studio's home: the company, the state of its draft and the way in."""

    name = "studio_draft"
    order = 10
    template_name = "studio/home_panel.html"

    def __init__(self, request):
        self.request = request

    def get_context_data(self, parent_context=None):
        from ui_builder.studio import drafts

        tenant = getattr(self.request, "tenant", None)
        return {"tenant": tenant, "work": drafts.working(tenant) if tenant else None}


@hooks.register("construct_homepage_panels")
def studio_home(request, panels):
    panels.insert(0, DraftPanel(request))


@hooks.register("construct_main_menu")
def without_wagtail_help(request, menu_items):
    """Wagtail's own help menu (its editor guide, what's new) is not the studio's."""
    menu_items[:] = [item for item in menu_items if item.name != "help"]
