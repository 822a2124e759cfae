"""Everything that writes people data. Each service is atomic and leaves an audit trail."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from vom.errors import DomainError

from . import audit
from .models import (
    AccessLog,
    AccessLogPerson,
    AccessLogReview,
    CareTeamEntry,
    Membership,
    Organisation,
    Person,
    Relative,
    Role,
    User,
)

PERSON_FIELDS = [
    "first_name",
    "last_name",
    "personnummer",
    "date_of_birth",
    "street_address",
    "postal_code",
    "city",
    "access_notes",
    "phone",
    "preferred_language",
    "interpreter_needed",
    "hearing_vision_notes",
    "representative_kind",
    "representative_name",
    "representative_phone",
    "representative_email",
]
RELATIVE_FIELDS = ["name", "relation", "phone", "email", "wants_involved", "preferred_language"]
CARE_TEAM_FIELDS = ["organisation", "member", "role", "start_date", "end_date"]
MEMBERSHIP_FIELDS = ["role", "title", "direct_phone", "is_active"]


def person_create(
    *, actor: User, organisation: Organisation, data: dict, request=None
) -> tuple[Person, bool]:
    """Register a person served by the actor's organisation.

    If the personnummer is already registered, the actor's organisation joins the
    existing person's care team instead of creating a duplicate. Returns (person, created).
    """
    with transaction.atomic():
        existing = (
            Person.objects.select_for_update().filter(personnummer=data["personnummer"]).first()
        )
        if existing is not None:
            if not existing.care_team.current().filter(organisation=organisation).exists():
                entry = CareTeamEntry.objects.create(person=existing, organisation=organisation)
                audit.record_change(
                    user=actor,
                    obj=entry,
                    action="create",
                    before={},
                    after=audit.snapshot(entry, CARE_TEAM_FIELDS),
                    person=existing,
                )
            audit.log_access(request, user=actor, person=existing, action=AccessLog.Action.VIEW)
            return existing, False
        person = Person(**{k: v for k, v in data.items() if k in PERSON_FIELDS})
        try:
            with transaction.atomic():
                person.save()
        except IntegrityError:
            raise DomainError(
                _("A person with this personal identity number was registered just now."),
                field="personnummer",
            ) from None
        CareTeamEntry.objects.create(person=person, organisation=organisation)
        audit.record_and_log(
            request,
            user=actor,
            obj=person,
            action="create",
            before={},
            after=audit.snapshot(person, PERSON_FIELDS),
            person=person,
        )
        return person, True


def person_update(*, actor: User, person: Person, data: dict, request=None) -> Person:
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        before = audit.snapshot(locked, PERSON_FIELDS)
        for key, value in data.items():
            if key in PERSON_FIELDS:
                setattr(locked, key, value)
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError:
            raise DomainError(
                _("Another person already has this personal identity number."),
                field="personnummer",
            ) from None
        audit.record_and_log(
            request,
            user=actor,
            obj=locked,
            action="update",
            before=before,
            after=audit.snapshot(locked, PERSON_FIELDS),
            person=locked,
        )
        return locked


def relative_save(
    *, actor: User, person: Person, data: dict, relative: Relative | None = None, request=None
) -> Relative:
    with transaction.atomic():
        if relative is None:
            relative = Relative(person=person)
            before = {}
            action = "create"
        else:
            relative = Relative.objects.select_for_update().get(pk=relative.pk, person=person)
            before = audit.snapshot(relative, RELATIVE_FIELDS)
            action = "update"
        for key, value in data.items():
            if key in RELATIVE_FIELDS:
                setattr(relative, key, value)
        relative.save()
        audit.record_and_log(
            request,
            user=actor,
            obj=relative,
            action=action,
            before=before,
            after=audit.snapshot(relative, RELATIVE_FIELDS),
            person=person,
        )
        return relative


def care_team_add(
    *,
    actor: User,
    person: Person,
    organisation: Organisation,
    member: User | None,
    role: str,
    start_date: dt.date,
    end_date: dt.date | None = None,
    request=None,
) -> CareTeamEntry:
    if (
        member is not None
        and not Membership.objects.active().filter(user=member, organisation=organisation).exists()
    ):
        raise DomainError(
            _("This staff member does not work for that organisation."), field="member"
        )
    if end_date is not None and end_date < start_date:
        raise DomainError(_("The end date is before the start date."), field="end_date")
    with transaction.atomic():
        entry = CareTeamEntry.objects.create(
            person=person,
            organisation=organisation,
            member=member,
            role=role or "",
            start_date=start_date,
            end_date=end_date,
        )
        audit.record_change(
            user=actor,
            obj=entry,
            action="create",
            before={},
            after=audit.snapshot(entry, CARE_TEAM_FIELDS),
            person=person,
        )
        audit.log_access(
            request, user=actor, person=person, action=AccessLog.Action.UPDATE, obj=entry
        )
        return entry


def care_team_end(
    *, actor: User, entry: CareTeamEntry, end_date: dt.date | None = None, request=None
) -> CareTeamEntry:
    end_date = end_date or timezone.localdate()
    with transaction.atomic():
        locked = CareTeamEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.end_date is not None and locked.end_date <= end_date:
            return locked  # already ended: a second click changes nothing
        if end_date < locked.start_date:
            raise DomainError(_("The end date is before the start date."), field="end_date")
        before = audit.snapshot(locked, CARE_TEAM_FIELDS)
        locked.end_date = end_date
        locked.save(update_fields=["end_date"])
        audit.record_and_log(
            request,
            user=actor,
            obj=locked,
            action="update",
            before=before,
            after=audit.snapshot(locked, CARE_TEAM_FIELDS),
            person=locked.person,
        )
        return locked


def staff_create(
    *,
    actor: User,
    organisation: Organisation,
    username: str,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    title: str = "",
    direct_phone: str = "",
    request=None,
) -> Membership:
    """Add a staff member to the organisation; a new user gets an email to set a password.

    An existing user (same username) gets one more membership: staff can work for several
    organisations.
    """
    with transaction.atomic():
        user = User.objects.filter(username__iexact=username).first()
        new_user = user is None
        if new_user:
            user = User(username=username, email=email, first_name=first_name, last_name=last_name)
            user.set_unusable_password()
            user.save()
        elif Membership.objects.filter(user=user, organisation=organisation, role=role).exists():
            raise DomainError(
                _("This user already has that role in the organisation."), field="username"
            )
        membership = Membership.objects.create(
            user=user,
            organisation=organisation,
            role=role,
            title=title,
            direct_phone=direct_phone,
        )
        if not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active"])
        audit.record_change(
            user=actor,
            obj=membership,
            action="create",
            before={},
            after=audit.snapshot(membership, MEMBERSHIP_FIELDS),
            person=None,
        )
        if new_user and email:
            # Through the outbox, in this transaction: a mail server that is down delays
            # the link (the staff list shows it), it neither loses it nor fails the request.
            from meetings import notifications

            notifications.account_email(
                user, notifications.Kind.ACCOUNT_WELCOME, organisation=organisation
            )
        return membership


def staff_update(*, actor: User, membership: Membership, data: dict) -> Membership:
    with transaction.atomic():
        locked = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
        before = audit.snapshot(locked, MEMBERSHIP_FIELDS) | audit.snapshot(
            locked.user, ["first_name", "last_name", "email"]
        )
        for key in ("role", "title", "direct_phone"):
            if key in data:
                setattr(locked, key, data[key])
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError:
            raise DomainError(
                _("This user already has that role in the organisation."), field="role"
            ) from None
        user = locked.user
        for key in ("first_name", "last_name", "email"):
            if key in data:
                setattr(user, key, data[key])
        user.save(update_fields=["first_name", "last_name", "email"])
        audit.record_change(
            user=actor,
            obj=locked,
            action="update",
            before=before,
            after=audit.snapshot(locked, MEMBERSHIP_FIELDS)
            | audit.snapshot(user, ["first_name", "last_name", "email"]),
            person=None,
        )
        return locked


def staff_deactivate(*, actor: User, membership: Membership) -> Membership:
    """End the membership; a user with no other active membership can no longer sign in.

    Their open sessions end at once too: the auth backend refuses inactive users on every
    request, and access is recomputed from active memberships on every request.
    """
    if membership.user_id == actor.pk and membership.role == Role.ORG_ADMIN:
        raise DomainError(_("You cannot deactivate your own administrator account."))
    with transaction.atomic():
        locked = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
        if not locked.is_active:
            return locked
        before = audit.snapshot(locked, MEMBERSHIP_FIELDS)
        locked.is_active = False
        # Ended by hand, it stays ended: an identity provider's next sign-in does not
        # reopen a membership an administrator ended (sso.services follows its own only).
        locked.from_provider = False
        locked.save(update_fields=["is_active", "from_provider"])
        user = locked.user
        if not Membership.objects.filter(user=user, is_active=True).exists():
            user.is_active = False
            user.save(update_fields=["is_active"])
        audit.record_change(
            user=actor,
            obj=locked,
            action="update",
            before=before,
            after=audit.snapshot(locked, MEMBERSHIP_FIELDS),
            person=None,
        )
        return locked


def staff_reactivate(*, actor: User, membership: Membership) -> Membership:
    with transaction.atomic():
        locked = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
        if locked.is_active and locked.user.is_active:
            return locked
        before = audit.snapshot(locked, MEMBERSHIP_FIELDS)
        locked.is_active = True
        locked.save(update_fields=["is_active"])
        if not locked.user.is_active:
            locked.user.is_active = True
            locked.user.save(update_fields=["is_active"])
        audit.record_change(
            user=actor,
            obj=locked,
            action="update",
            before=before,
            after=audit.snapshot(locked, MEMBERSHIP_FIELDS),
            person=None,
        )
        return locked


# --- Second factor (TOTP) ---


def totp_device_confirm(*, user: User, key: str, token: str) -> TOTPDevice:
    """Enrol an authenticator app: the first correct code proves the app holds the key.

    A confirmed device replaces any earlier one (a new phone); the user is already verified
    with the old one when they get here, or has none.
    """
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)  # one enrolment at a time per user
        device = TOTPDevice.objects.create(
            user=user, name=_("Authenticator app"), key=key, confirmed=False
        )
        if not device.verify_token(_normalise_token(token)):
            # Rolls the unconfirmed device back with the transaction.
            raise DomainError(_("The code is not correct. Try the current one."), field="token")
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        replaced = list(
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).values_list("pk", flat=True)
        )
        TOTPDevice.objects.filter(pk__in=replaced).delete()
        audit.record_change(
            user=user,
            obj=device,
            action="create",
            before={},
            after={"confirmed": True, "replaced_devices": len(replaced)},
            person=None,
        )
        return device


# Backup codes for a lost phone (django-otp's static tokens): ten single-use codes, shown once.
BACKUP_CODE_COUNT = 10
BACKUP_CODE_LOW = 3  # at or below this many left, the user is asked to make new ones


def is_backup_code(token: str) -> bool:
    """A backup code is eight letters and digits (django-otp's random_token); a TOTP code is
    six digits. The two never look alike, so one field takes either."""
    token = normalise_backup_code(token)
    return len(token) == 8 and token.isascii() and token.isalnum() and not token.isdigit()


def normalise_backup_code(token: str) -> str:
    return "".join((token or "").split()).replace("-", "").lower()


def backup_codes_issue(*, user: User) -> list[str]:
    """New backup codes for the user; earlier ones stop working. They are shown once, on the
    page that made them; django-otp keeps them as they are, so no page shows them again."""
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)
        replaced = StaticDevice.objects.filter(user=user).delete()[0] > 0
        device = StaticDevice.objects.create(user=user, name=_("Backup codes"), confirmed=True)
        codes = [StaticToken.random_token() for _i in range(BACKUP_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
        audit.record_change(
            user=user,
            obj=device,
            action="create",
            before={},
            after={"backup_codes": len(codes), "replaced_earlier_codes": replaced},
            person=None,
        )
    return codes


def backup_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _backup_code_verify(*, user: User, token: str) -> StaticDevice:
    code = normalise_backup_code(token)
    with transaction.atomic():
        devices = list(StaticDevice.objects.select_for_update().filter(user=user, confirmed=True))
        throttled = False
        for device in devices:
            allowed, _details = device.verify_is_allowed()
            if not allowed:
                throttled = True
                continue
            if device.verify_token(code):  # deletes the code: each works once
                audit.record_change(
                    user=user,
                    obj=device,
                    action="update",
                    before={},
                    after={"backup_code_used": True, "backup_codes_left": device.token_set.count()},
                    person=None,
                )
                return device
    if throttled:
        raise DomainError(
            _("Too many wrong codes. Wait a little and try again."),
            field="token",
        )
    raise DomainError(
        _("That backup code is not correct, or it has already been used."), field="token"
    )


def totp_verify(*, user: User, token: str) -> TOTPDevice | StaticDevice:
    """Check a code against the user's confirmed devices; refuse while throttled. A backup
    code (for a lost phone) is checked against the user's backup codes and used up."""
    if is_backup_code(token):
        return _backup_code_verify(user=user, token=token)
    token = _normalise_token(token)
    with transaction.atomic():
        devices = list(
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk")
        )
        throttled = False
        for device in devices:
            allowed, _details = device.verify_is_allowed()
            if not allowed:
                throttled = True
                continue
            if device.verify_token(token):
                return device
    if throttled:
        raise DomainError(
            _("Too many wrong codes. Wait a little and try again with the current code."),
            field="token",
        )
    raise DomainError(_("The code is not correct. Try the current one."), field="token")


def totp_reset(*, actor: User, membership: Membership) -> int:
    """An organisation admin removes a staff member's devices (a lost phone).

    Staff who must use a second factor are sent to enrolment at their next sign-in.
    """
    with transaction.atomic():
        locked = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
        count, _deleted = TOTPDevice.objects.filter(user=locked.user).delete()
        StaticDevice.objects.filter(user=locked.user).delete()  # the backup codes go with it
        if count:
            audit.record_change(
                user=actor,
                obj=locked,
                action="update",
                before={"second_factor": True},
                after={"second_factor": False},
                person=None,
            )
        return count


def _normalise_token(token: str) -> str:
    return "".join((token or "").split())


# --- Access log review ---

REVIEW_SAMPLE_SIZE = 20


def access_review_start(
    *,
    reviewer: User,
    organisation: Organisation,
    period_start: dt.date,
    period_end: dt.date,
    size: int = REVIEW_SAMPLE_SIZE,
) -> AccessLogReview:
    """Draw a random sample of the organisation's access log for a period and record it.

    Drawing writes the review at once, so every draw is on record and the reviewer cannot
    redraw until the sample looks harmless.
    """
    from .selectors import access_log_for_organisation, start_of_day

    if period_end < period_start:
        raise DomainError(_("The end date is before the start date."), field="period_end")
    rows = access_log_for_organisation(organisation).filter(
        at__gte=start_of_day(period_start),
        at__lt=start_of_day(period_end + dt.timedelta(days=1)),
    )
    with transaction.atomic():
        # ORDER BY random() scans the period once; a review period is weeks, not years.
        sample = sorted(rows.order_by("?").values_list("pk", flat=True)[:size])
        if not sample:
            raise DomainError(_("Nothing was logged in this period."), field="period_start")
        review = AccessLogReview.objects.create(
            organisation=organisation,
            reviewer=reviewer,
            period_start=period_start,
            period_end=period_end,
            sample_ids=sample,
        )
        audit.record_change(
            user=reviewer,
            obj=review,
            action="create",
            before={},
            after={"period": f"{period_start}–{period_end}", "sample_size": len(sample)},
            person=None,
        )
        return review


def access_review_complete(
    *, reviewer: User, review: AccessLogReview, note: str
) -> AccessLogReview:
    with transaction.atomic():
        locked = AccessLogReview.objects.select_for_update().get(pk=review.pk)
        if locked.is_completed:
            raise DomainError(_("This review is already completed and cannot be changed."))
        locked.note = note
        locked.completed_at = timezone.now()
        locked.save(update_fields=["note", "completed_at"])
        audit.record_change(
            user=reviewer,
            obj=locked,
            action="update",
            before={"note": ""},
            after={"note": note},
            person=None,
        )
        return locked


# --- Retention of the access log ---


def access_log_purge(*, dry_run: bool, years: int | None = None) -> tuple[int, dt.datetime]:
    """Delete access-log rows older than AUDIT_RETENTION_YEARS; return (count, cutoff).

    On PostgreSQL the append-only triggers (migrations 0004 and 0010) let these DELETEs
    through only because this transaction declares the cutoff with a transaction-local
    setting, and only for rows older than it and at least five years old (for a list's
    persons: whose log row is). The setting is cleared straight after the two DELETE
    statements, so nothing else in the transaction can use it. A list's persons go first,
    while their log row is there for the trigger to check.
    """
    from django.conf import settings
    from django.db import connection

    years = settings.AUDIT_RETENTION_YEARS if years is None else years
    if years < 5:
        raise DomainError(_("The access log is kept for at least five years."))
    with transaction.atomic():
        cutoff = _retention_cutoff(years)
        old_rows = AccessLog.objects.filter(at__lt=cutoff)
        if dry_run:
            return old_rows.count(), cutoff

        def delete() -> int:
            AccessLogPerson.objects.filter(log__in=old_rows.values("pk")).delete()
            count, _by_model = old_rows.delete()
            return count

        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('vom.accesslog_purge_before', %s, true)",
                    [cutoff.isoformat()],
                )
                try:
                    count = delete()
                finally:
                    cursor.execute("SELECT set_config('vom.accesslog_purge_before', '', true)")
        else:
            count = delete()
        return count, cutoff


def _retention_cutoff(years: int) -> dt.datetime:
    """Now minus whole years, by the database's clock where the trigger checks it."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT now() - make_interval(years => %s)", [years])
            return cursor.fetchone()[0]
    now = timezone.now()
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)
