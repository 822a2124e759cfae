from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "followup"

    def ready(self):
        # The register extract grows with the product: add the follow-up sections once.
        from participants.extract import EXTRACT_SECTIONS

        from .extract import SECTIONS

        EXTRACT_SECTIONS.extend(s for s in SECTIONS if s not in EXTRACT_SECTIONS)
