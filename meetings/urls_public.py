"""Links from emails: answering without signing in, and the outbox's resend button."""

from django.urls import path

from . import views_outbox, views_public

urlpatterns = [
    path("outbox/<int:pk>/resend/", views_outbox.outbox_resend, name="outbox_resend"),
    path("<str:token>/", views_public.reply, name="reply"),
]
