from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from participants.forms import LoginForm, OutboxPasswordResetForm
from sso import views as sso_views

urlpatterns = [
    path(
        "accounts/login/",
        sso_views.LoginView.as_view(authentication_form=LoginForm),
        name="login",
    ),
    path("accounts/logout/", sso_views.logout_view, name="logout"),
    path("accounts/sso/", include("sso.urls")),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=OutboxPasswordResetForm),
        name="password_reset",
    ),
    path(
        "accounts/password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("operator/", admin.site.urls),
    path("meetings/", include("meetings.urls")),
    path("r/", include("meetings.urls_public")),
    path("followup/", include("followup.urls")),
    path("reports/", include("reports.urls")),
    path("summaries/", include("meetings.urls_summary")),
    path("anhorig/", include("meetings.urls_relatives")),
    path("fhir/R4/", include("fhir_api.urls")),
    path("", include("participants.urls")),
]

if settings.VOM_BENCH:
    from .bench_views import baseline

    urlpatterns.append(path("bench/baseline", baseline, name="bench_baseline"))

# A database that is down or too slow answers 503 with a page that says so (not a bare 500).
handler500 = "vom.error_pages.server_error"
