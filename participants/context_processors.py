from .selectors import active_memberships, admin_organisations


def memberships(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "my_memberships": active_memberships(user),
        "my_admin_organisations": admin_organisations(user),
    }
