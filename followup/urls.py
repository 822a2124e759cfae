from django.urls import path

from . import views

app_name = "followup"

urlpatterns = [
    path("decisions/", views.my_decisions, name="my_decisions"),
    path("decisions/<int:pk>/status/", views.decision_status, name="decision_status"),
    path("meetings/<int:pk>/", views.followup_meeting, name="meeting"),
    path("meetings/<int:pk>/checkpoints/<str:kind>/", views.checkpoint, name="checkpoint"),
    path(
        "meetings/<int:pk>/health-care/<str:period>/",
        views.health_care_use,
        name="health_care_use",
    ),
    path("meetings/<int:pk>/measures/<str:timepoint>/", views.outcome, name="outcome"),
    path("meetings/<int:pk>/new-meeting/", views.new_meeting, name="new_meeting"),
    path("persons/<int:pk>/measures/", views.person_measures, name="person_measures"),
]
