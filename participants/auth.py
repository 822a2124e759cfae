from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class UsernameOrEmailBackend(ModelBackend):
    """Staff sign in with their username or their email address."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        from .lockout import find_account

        user = find_account(username)
        if user is None:
            get_user_model()().set_password(password)  # same work as a real check: no oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id):
        """The signed-in user of each request, read from the database on every request
        (so every change of access, however it was made, counts on the next one), with
        whether they have a confirmed TOTP device (vom.middleware.SecondFactorMiddleware
        asks on every request) and their active memberships (every staff page asks): for
        staff one query, the memberships with their user and organisation."""
        user = self._load_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    @staticmethod
    def _load_user(user_id):
        from django.db.models import Exists, OuterRef
        from django_otp.plugins.otp_totp.models import TOTPDevice

        user_model = get_user_model()
        try:
            pk = user_model._meta.pk.to_python(user_id)
        except Exception:  # noqa: BLE001 - a session's user id that is no id: nobody
            return None
        if pk is None:
            return None
        memberships, has_device = _active_memberships_with_user(pk)
        if memberships:
            user = memberships[0].user
        else:  # a relative or an operator: no membership to read them with
            devices = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
            try:
                user = user_model._default_manager.annotate(vom_device=Exists(devices)).get(pk=pk)
            except user_model.DoesNotExist:
                return None
            has_device = user.vom_device
        user._vom_has_device = has_device  # read by participants.selectors
        user._vom_memberships = memberships  # read by participants.selectors.active_memberships
        return user


_MEMBERSHIP_SQL = None


def _membership_sql():
    """The one statement behind every signed-in request: the user's active memberships
    (`Membership.objects.active()`) with user and organisation, and whether the user has a
    confirmed TOTP device. Written out once per process: building it through the ORM
    (select_related + an Exists annotation) cost about 1.8 ms of Python on every request,
    six times what PostgreSQL needs to answer it. Each membership also says whether its
    organisation signs in through an active identity provider (`vom_connected`): a session
    keeps only the memberships of its way of signing in (sso.session.narrow)."""
    global _MEMBERSHIP_SQL
    if _MEMBERSHIP_SQL is None:
        from django.db import connection
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from sso.models import ConnectedOrganisation, IdentityProvider

        from .models import Membership, Organisation

        q = connection.ops.quote_name
        link, provider = ConnectedOrganisation._meta, IdentityProvider._meta
        models = [("m", Membership), ("u", get_user_model()), ("o", Organisation)]
        columns = ", ".join(
            f"{alias}.{q(f.column)}" for alias, model in models for f in model._meta.concrete_fields
        )
        device = TOTPDevice._meta
        sql = (
            f"SELECT {columns}, EXISTS (SELECT 1 FROM {q(device.db_table)} d"  # noqa: S608 - names from the models
            f" WHERE d.{q(device.get_field('user').column)} = m.{q('user_id')}"
            f" AND d.{q(device.get_field('confirmed').column)}),"
            f" EXISTS (SELECT 1 FROM {q(link.db_table)} c"
            f" JOIN {q(provider.db_table)} p"
            f" ON p.{q('id')} = c.{q(link.get_field('provider').column)}"
            f" WHERE c.{q(link.get_field('organisation').column)} = m.{q('organisation_id')}"
            f" AND p.{q(provider.get_field('is_active').column)})"
            f" FROM {q(Membership._meta.db_table)} m"
            f" JOIN {q(get_user_model()._meta.db_table)} u ON u.{q('id')} = m.{q('user_id')}"
            f" JOIN {q(Organisation._meta.db_table)} o ON o.{q('id')} = m.{q('organisation_id')}"
            f" WHERE m.{q('user_id')} = %s AND m.{q('is_active')} AND u.{q('is_active')}"
            f" AND o.{q('is_active')} ORDER BY m.{q('id')}"
        )
        fields = [
            (model, [f.attname for f in model._meta.concrete_fields]) for _alias, model in models
        ]
        _MEMBERSHIP_SQL = sql, fields
    return _MEMBERSHIP_SQL


def _active_memberships_with_user(pk) -> tuple[list, bool]:
    from django.db import connection

    sql, fields = _membership_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        rows = cursor.fetchall()
    memberships, user, has_device = [], None, False
    db = connection.alias
    for row in rows:
        start, parts = 0, []
        for model, names in fields:
            parts.append(model.from_db(db, names, row[start : start + len(names)]))
            start += len(names)
        membership, row_user, organisation = parts
        user = user or row_user
        membership.user = user
        membership.organisation = organisation
        membership.vom_connected = bool(row[-1])
        memberships.append(membership)
        has_device = bool(row[-2])
    return memberships, has_device


def remember_login_time(sender, request, user, **kwargs):
    """The absolute session limit counts from here (enforced in vom.middleware)."""
    import time

    from vom.middleware import SESSION_LAST_SEEN_KEY, SESSION_LOGIN_AT_KEY

    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SESSION_LOGIN_AT_KEY] = now
        request.session[SESSION_LAST_SEEN_KEY] = now
