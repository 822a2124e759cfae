from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParticipantsConfig(AppConfig):
    name = "participants"
    verbose_name = _("Participants")

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_delete, post_migrate, post_save
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from .auth import forget_on_change, remember_login_time
        from .models import Membership, Organisation
        from .pagechanges import install_triggers

        # The change rows behind cached pages (participants/pagechanges.py, PostgreSQL).
        post_migrate.connect(
            lambda sender, using="default", **kw: install_triggers(using),
            sender=self,
            weak=False,
            dispatch_uid="vom_pagechange_triggers",
        )
        user_logged_in.connect(remember_login_time, dispatch_uid="vom_remember_login_time")
        # The sign-in data cached per user (participants.auth) is cleared when it changes.
        for model in (get_user_model(), Membership, Organisation, TOTPDevice):
            for signal in (post_save, post_delete):
                signal.connect(
                    forget_on_change, sender=model, dispatch_uid=f"vom_auth_cache_{model.__name__}"
                )
