from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParticipantsConfig(AppConfig):
    name = "participants"
    verbose_name = _("Participants")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .auth import remember_login_time

        user_logged_in.connect(remember_login_time, dispatch_uid="vom_remember_login_time")
