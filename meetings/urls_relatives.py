from django.urls import path

from . import views_relatives

# Swedish paths: relatives type and read these.
urlpatterns = [
    path("", views_relatives.home, name="relatives_home"),
    path("logga-in/", views_relatives.signin, name="relatives_signin"),
    path("ny-lank/", views_relatives.link_request, name="relatives_link_request"),
    path("moten/<int:pk>/", views_relatives.meeting, name="relatives_meeting"),
    path(
        "moten/<int:pk>/sammanfattning.pdf",
        views_relatives.summary_pdf,
        name="relatives_summary_pdf",
    ),
]
