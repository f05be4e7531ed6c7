from django.urls import path

from tenants import views

app_name = "tenants"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("choose/", views.choose, name="choose"),
]
