"""Sign-in, the tenant chooser and the app's landing page. Thin: services decide."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tenants.forms import SignInForm
from tenants.resolution import choose_tenant, forget_tenant
from tenants.services import memberships_of


def tenant_required(view):
    """Signed in, with a tenant chosen; otherwise off to sign-in or the chooser."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if request.tenant is None:
            return redirect("tenants:choose")
        return view(request, *args, **kwargs)

    return wrapper


class SignInView(LoginView):
    template_name = "tenants/login.html"
    form_class = SignInForm
    redirect_authenticated_user = False

    def form_valid(self, form):
        user = form.get_user()
        memberships = memberships_of(user)
        host_tenant = self.request.tenant
        if host_tenant is not None:
            if not any(m.tenant_id == host_tenant.pk for m in memberships):
                form.add_error(None, _("You have no access to this company."))
                return self.form_invalid(form)
        elif not memberships:
            form.add_error(None, _("Your account belongs to no company yet."))
            return self.form_invalid(form)
        response = super().form_valid(form)
        if user.language:
            response.set_cookie("django_language", user.language)
        if host_tenant is None:
            forget_tenant(self.request)
            active = [m for m in memberships if not m.tenant.is_suspended]
            if len(memberships) == 1 and active:
                choose_tenant(self.request, memberships[0].tenant)
            else:
                return HttpResponseRedirect(reverse("tenants:choose"))
        return response


class SignOutView(LogoutView):
    next_page = "tenants:login"


@login_required
@require_http_methods(["GET", "POST"])
def choose(request):
    memberships = memberships_of(request.user)
    if request.method == "POST":
        slug = request.POST.get("tenant", "")
        chosen = next((m for m in memberships if m.tenant.slug == slug), None)
        if chosen is None:
            messages.error(request, _("You have no access to that company."))
        elif chosen.tenant.is_suspended:
            messages.error(request, _("That company is suspended."))
        else:
            choose_tenant(request, chosen.tenant)
            return redirect("tenants:home")
    return render(
        request,
        "tenants/choose.html",
        {"memberships": memberships},
        status=200 if request.method == "GET" else 400,
    )


@tenant_required
def home(request):
    return render(request, "tenants/home.html")
