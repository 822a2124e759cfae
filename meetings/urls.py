from django.urls import path

from . import views

urlpatterns = [
    path("", views.meeting_list, name="meeting_list"),
    path("new/<int:person_pk>/", views.meeting_new, name="meeting_new"),
    path("register/<int:person_pk>/", views.meeting_register_held, name="meeting_register_held"),
    path("import/<int:org_pk>/", views.meeting_import, name="meeting_import"),
    path(
        "import/<int:org_pk>/template.<str:fmt>",
        views.meeting_import_template,
        name="meeting_import_template",
    ),
    path("<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("<int:pk>/consent/", views.consent_record, name="meeting_consent"),
    path("<int:pk>/consent/withdraw/", views.consent_withdraw, name="meeting_consent_withdraw"),
    path("<int:pk>/convening/", views.convening_start, name="meeting_convening_start"),
    path("<int:pk>/invitations/", views.invitations, name="meeting_invitations"),
    path(
        "<int:pk>/participants/<int:participant_pk>/mode/",
        views.participant_mode,
        name="meeting_participant_mode",
    ),
    path(
        "<int:pk>/participants/<int:participant_pk>/remove/",
        views.participant_remove,
        name="meeting_participant_remove",
    ),
    path("<int:pk>/schedule/", views.schedule, name="meeting_schedule"),
    path("<int:pk>/reschedule/", views.reschedule, name="meeting_reschedule"),
    path("<int:pk>/cancel/", views.cancel, name="meeting_cancel"),
    path("<int:pk>/respond/", views.respond, name="meeting_respond"),
    path("<int:pk>/preparation/", views.preparation, name="meeting_preparation"),
    path("<int:pk>/contributions/new/", views.contribution_add, name="meeting_contribution"),
    path("<int:pk>/day/", views.meeting_day, name="meeting_day"),
    path("<int:pk>/notes/<int:item>/", views.note_save, name="meeting_note_save"),
    path("<int:pk>/attendance/", views.attendance, name="meeting_attendance"),
    path("<int:pk>/private-topics/new/", views.private_topic_add, name="meeting_private_topic"),
    path("<int:pk>/decisions/new/", views.decision_edit, name="meeting_decision_new"),
    path(
        "<int:pk>/decisions/<int:decision_pk>/", views.decision_edit, name="meeting_decision_edit"
    ),
    path("<int:pk>/decisions/confirm/", views.decisions_confirm, name="meeting_decisions_confirm"),
    path("<int:pk>/agreements/new/", views.agreement_add, name="meeting_agreement"),
    path("<int:pk>/held/", views.mark_held, name="meeting_mark_held"),
    path("<int:pk>/minutes/", views.minutes, name="meeting_minutes"),
    path("<int:pk>/close/", views.close, name="meeting_close"),
]
