from django.urls import path

from . import views_summary

urlpatterns = [
    path("<int:pk>/", views_summary.summary_page, name="summary_page"),
    path("<int:pk>/pdf/", views_summary.summary_pdf, name="summary_pdf"),
    path("<int:pk>/pdf/<int:version>/", views_summary.summary_pdf, name="summary_pdf_version"),
    path("<int:pk>/read/", views_summary.summary_confirm_read, name="summary_confirm_read"),
    path(
        "<int:pk>/relatives/<int:relative_pk>/link/",
        views_summary.relative_send_link,
        name="summary_relative_link",
    ),
]
