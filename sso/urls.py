from django.urls import path

from . import views

urlpatterns = [
    path("<int:pk>/start/", views.start, name="sso_start"),
    path("oidc/callback/", views.oidc_callback, name="sso_oidc_callback"),
    path("saml/metadata/", views.saml_metadata, name="sso_saml_metadata"),
    path("saml/acs/", views.saml_acs, name="sso_saml_acs"),
]
