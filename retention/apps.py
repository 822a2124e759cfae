from django.apps import AppConfig


class RetentionConfig(AppConfig):
    """What is kept how long: ended meetings past MEETING_RETENTION_YEARS are anonymised,
    then the person records nothing keeps any more. It reads the meetings and their
    follow-up, so it sits above both."""

    name = "retention"
