from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("refresh/", views.refresh, name="refresh"),
    path("export/<str:what>.<str:fmt>", views.export, name="export"),
    path("organisations/<int:org_pk>/rates/", views.rates, name="rates"),
]
