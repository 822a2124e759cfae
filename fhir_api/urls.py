from django.urls import path, re_path

from . import auth, views

app_name = "fhir"

# FHIR ids: [A-Za-z0-9-.]{1,64}; resource types start with a capital letter.
TYPE = r"(?P<resource_type>[A-Z][A-Za-z]{1,40})"
ID = r"(?P<ident>[A-Za-z0-9\-.]{1,64})"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path(".well-known/smart-configuration", auth.smart_configuration, name="smart_configuration"),
    path("auth/token", auth.token, name="token"),
    re_path(rf"^{TYPE}$", views.search, name="search"),
    re_path(rf"^{TYPE}/{ID}$", views.read, name="read"),
    re_path(rf"^{TYPE}/{ID}/_history$", views.history, name="history"),
    re_path(
        rf"^{TYPE}/{ID}/_history/(?P<version>[A-Za-z0-9\-.]{{1,64}})$", views.history, name="vread"
    ),
]
