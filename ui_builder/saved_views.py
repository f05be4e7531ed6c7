"""Users' saved list views: their own, and those shared with a team they belong to."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from tenants.context import tenant_context
from tenants.models import Team
from ui_builder.listing import ListState
from ui_builder.models import SavedView

MAX_NAME = 100


class SavedViewError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _my_teams(user):
    return Team.objects.filter(members__user=user)


def visible(tenant, user, entity: str) -> list[SavedView]:
    with tenant_context(tenant, user=user):
        return list(
            SavedView.objects.filter(entity=entity)
            .filter(Q(owner=user) | Q(team__in=_my_teams(user)))
            .select_related("team", "owner")
            .order_by("name", "id")
        )


def teams_of(tenant, user) -> list[Team]:
    with tenant_context(tenant, user=user):
        return list(_my_teams(user).order_by("name"))


def get(tenant, user, entity: str, view_id) -> SavedView:
    found = next((v for v in visible(tenant, user, entity) if str(v.pk) == str(view_id)), None)
    if found is None:
        raise SavedViewError(_("There is no such saved view."))
    return found


def save(tenant, user, entity: str, name: str, state: ListState, team_id=None) -> SavedView:
    """Save the list as ``name`` (saving again under a name of one's own replaces it);
    ``team_id``: share it with that team of the user's, else it is private."""
    name = (name or "").strip()
    if not name:
        raise SavedViewError(_("Give the view a name."))
    if len(name) > MAX_NAME:
        raise SavedViewError(_("A view's name has at most %(n)d characters.") % {"n": MAX_NAME})
    with tenant_context(tenant, user=user):
        team = None
        if team_id not in (None, ""):
            team = _my_teams(user).filter(pk=team_id).first() if str(team_id).isdigit() else None
            if team is None:
                raise SavedViewError(_("You can share a view only with a team of yours."))
        view, _created = SavedView.objects.update_or_create(
            owner=user,
            entity=entity,
            name=name,
            defaults={"state": state.saved(), "team": team, "tenant": tenant},
        )
        return view


def delete(tenant, user, entity: str, view_id) -> None:
    with tenant_context(tenant, user=user):
        deleted, _rows = SavedView.objects.filter(
            pk=view_id if str(view_id).isdigit() else None, owner=user, entity=entity
        ).delete()
    if not deleted:
        raise SavedViewError(_("Only the view's owner can delete it."))
