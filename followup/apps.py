from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "followup"

    def ready(self):
        # The register extract grows with the product: add the follow-up sections once.
        from participants.extract import EXTRACT_SECTIONS

        from .extract import SECTIONS

        EXTRACT_SECTIONS.extend(s for s in SECTIONS if s not in EXTRACT_SECTIONS)

        # The meeting's change history, the register extract and the anonymisation read the
        # follow-up's records through the meetings app's list of parts.
        from meetings.history import DECISION_PARTS_ABOVE, MEETING_PARTS_ABOVE

        from .models import Checkpoint, DecisionStatusChange, HealthCareUse, OutcomeMeasure

        for model in (Checkpoint, HealthCareUse, OutcomeMeasure):
            MEETING_PARTS_ABOVE[model] = "meeting"
        MEETING_PARTS_ABOVE[DecisionStatusChange] = "decision__meeting"
        DECISION_PARTS_ABOVE[DecisionStatusChange] = "decision"
