from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("persons/new/", views.person_create, name="person_create"),
    path("persons/<int:pk>/", views.person_detail, name="person_detail"),
    path("persons/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("persons/<int:pk>/relatives/new/", views.relative_edit, name="relative_create"),
    path(
        "persons/<int:pk>/relatives/<int:relative_pk>/edit/",
        views.relative_edit,
        name="relative_edit",
    ),
    path("persons/<int:pk>/team/new/", views.care_team_add, name="care_team_add"),
    path("persons/<int:pk>/team/<int:entry_pk>/end/", views.care_team_end, name="care_team_end"),
    path("persons/<int:pk>/extract/", views.person_extract_page, name="person_extract"),
    path("persons/<int:pk>/extract.json", views.person_extract_json, name="person_extract_json"),
    path("persons/<int:pk>/extract.pdf", views.person_extract_pdf, name="person_extract_pdf"),
    path("accounts/two-factor/", views.otp_verify, name="otp_verify"),
    path("accounts/two-factor/setup/", views.otp_setup, name="otp_setup"),
    path("accounts/two-factor/backup-codes/", views.otp_backup_codes, name="otp_backup_codes"),
    path("organisations/<int:org_pk>/staff/", views.staff_list, name="staff_list"),
    path("organisations/<int:org_pk>/staff/new/", views.staff_create, name="staff_create"),
    path(
        "organisations/<int:org_pk>/staff/<int:membership_pk>/edit/",
        views.staff_edit,
        name="staff_edit",
    ),
    path(
        "organisations/<int:org_pk>/staff/<int:membership_pk>/active/",
        views.staff_set_active,
        name="staff_set_active",
    ),
    path(
        "organisations/<int:org_pk>/staff/<int:membership_pk>/second-factor/reset/",
        views.staff_totp_reset,
        name="staff_totp_reset",
    ),
    path("organisations/<int:org_pk>/access-log/", views.access_log, name="access_log"),
    path(
        "organisations/<int:org_pk>/access-log/reviews/new/",
        views.access_review_start,
        name="access_review_start",
    ),
    path(
        "organisations/<int:org_pk>/access-log/reviews/<int:review_pk>/",
        views.access_review,
        name="access_review",
    ),
    path(
        "organisations/<int:org_pk>/access-log/persons/<int:person_pk>/",
        views.access_log_person,
        name="access_log_person",
    ),
    path(
        "organisations/<int:org_pk>/access-log/persons/<int:person_pk>/extract.csv",
        views.access_log_person_csv,
        name="access_log_person_csv",
    ),
]
