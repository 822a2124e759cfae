class DomainError(Exception):
    """A refused action with a message for the user (already translated)."""

    def __init__(self, message, *, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


def apply_domain_error(form, exc: DomainError) -> None:
    """Put a refused action's message next to the field it names, or at the top."""
    form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
