class DomainError(Exception):
    """A refused action with a message for the user (already translated)."""

    def __init__(self, message, *, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


def apply_domain_error(form, exc: DomainError) -> None:
    """Put a refused action's message next to the field it names, or at the top."""
    form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))


def submit(request, form, action, *, done: str, to, level: str = "success"):
    """The one shape of a form page's POST (post/redirect/get).

    A valid form runs `action(cleaned_data)`, a service call. A refused action (DomainError)
    puts its message next to the field it names and the page is shown again with what was
    typed; a done one is told with `done` (a message of `level`: success, warning, info) and
    the browser is sent to `to` (a URL, or a function giving one after the action, for a
    target that depends on what the action changed). Returns that redirect, or
    None when the view is to show its page: a GET, an invalid form or a refused action.
    """
    from django.contrib import messages
    from django.shortcuts import redirect

    if request.method != "POST" or not form.is_valid():
        return None
    try:
        action(form.cleaned_data)
    except DomainError as exc:
        apply_domain_error(form, exc)
        return None
    getattr(messages, level)(request, done)
    return redirect(to() if callable(to) else to)
