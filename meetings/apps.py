from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"

    def ready(self):
        # The register extract: the meetings sections, and what a viewer may see of the rest.
        from participants.extract import EXTRACT_SCOPES, EXTRACT_SECTIONS

        from .extract import SECTIONS, MeetingScope

        EXTRACT_SECTIONS.extend(s for s in SECTIONS if s not in EXTRACT_SECTIONS)
        if not any(isinstance(scope, MeetingScope) for scope in EXTRACT_SCOPES):
            EXTRACT_SCOPES.append(MeetingScope())

        # `make run` without Redis: due reminders need a clock in the serving process.
        from .scheduler import maybe_start

        maybe_start()
