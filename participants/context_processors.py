from .selectors import CARE_ROLES, active_memberships, admin_organisations


def memberships(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "my_memberships": active_memberships(user),
        # Only someone in a care role has persons, meetings and decisions to see.
        "my_care_roles": any(m.role in CARE_ROLES for m in active_memberships(user)),
        "my_admin_organisations": admin_organisations(user),
    }
