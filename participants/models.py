"""The people around a care meeting: organisations, their staff, older persons and relatives."""

import datetime as dt

import pgtrigger
from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Right
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import personnummer as pnr

# HSA ids: the country code, the issuer's number and a local part (SE2321000016-1234).
HSA_ID_VALIDATOR = RegexValidator(
    r"^SE[0-9]{10}-[0-9A-Za-z]{1,31}$", _("An HSA id looks like SE2321000016-1234.")
)


class Language(models.TextChoices):
    SWEDISH = "sv", _("Swedish")
    ENGLISH = "en", _("English")


class User(AbstractUser):
    """A staff member or a relative who can sign in."""

    email = models.EmailField(_("email address"), blank=True, db_index=True)
    preferred_language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.SWEDISH
    )
    # The national directory's id of a member of staff (e.g. SE2321000016-1234), vouched
    # for by the identity provider: a provider sign-in finds or creates the account by it,
    # never by name or email, and it is the Practitioner identifier other record systems
    # know. NULL when unknown, so it can be unique.
    hsa_id = models.CharField(
        _("HSA id"), max_length=64, unique=True, null=True, blank=True,
        validators=[HSA_ID_VALIDATOR],
    )  # fmt: skip

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.get_full_name() or self.username


class Organisation(models.Model):
    class Kind(models.TextChoices):
        HOME_HEALTH_CARE = "home_health_care", _("Home health care (region)")
        NEEDS_ASSESSMENT = "needs_assessment", _("Needs assessment (municipality)")
        HOME_HELP = "home_help", _("Home-help provider")
        OTHER = "other", _("Other")

    class Principal(models.TextChoices):
        REGION = "region", _("Region")
        MUNICIPALITY = "municipality", _("Municipality")
        PRIVATE = "private", _("Private company")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    principal = models.CharField(_("principal"), max_length=32, choices=Principal.choices)
    # "One way in": contact points that do not depend on one named person.
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    email = models.EmailField(_("email"), blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    out_of_hours_phone = models.CharField(_("out-of-hours phone"), max_length=40, blank=True)
    # The unit's or care provider's id in the national directory (HSA), where it has one:
    # the Organization identifier of the FHIR API and the national care-plan exchange.
    hsa_id = models.CharField(_("HSA id"), max_length=64, blank=True, validators=[HSA_ID_VALIDATOR])
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self):
        return self.name

    @property
    def is_health_care(self) -> bool:
        return self.principal == self.Principal.REGION


class Role(models.TextChoices):
    PHYSICIAN = "physician", _("Physician")
    NURSE = "nurse", _("Nurse")
    ASSISTANT_NURSE = "assistant_nurse", _("Assistant nurse")
    NEEDS_ASSESSOR = "needs_assessor", _("Needs assessor")
    HOME_HELP_COORDINATOR = "home_help_coordinator", _("Home-help coordinator")
    CONTACT_PERSON = "contact_person", _("Home-help contact person")
    MANAGER = "manager", _("Manager")
    ORG_ADMIN = "org_admin", _("Organisation administrator")
    # Sees every organisation's report figures in aggregate only (reports.selectors).
    STEERING_GROUP = "steering_group", _("Steering group")


class MembershipQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True, user__is_active=True, organisation__is_active=True)


class Membership(models.Model):
    """A user works for an organisation in one role."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    title = models.CharField(_("title"), max_length=120, blank=True)
    direct_phone = models.CharField(_("direct phone"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Given by the organisation's identity provider (sso.services): follows the provider's
    # claims at every sign-in. Others are given by an administrator here.
    from_provider = models.BooleanField(_("from the identity provider"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="membership_unique_role"
            )
        ]

    def __str__(self):
        return f"{self.user} – {self.get_role_display()}, {self.organisation}"


class Person(models.Model):
    """The older person at the centre of the meeting."""

    class RepresentativeKind(models.TextChoices):
        NONE = "", _("None")
        GOD_MAN = "god_man", _("Guardian (god man)")
        FORVALTARE = "forvaltare", _("Trustee (förvaltare)")
        POWER_OF_ATTORNEY = "power_of_attorney", _("Power of attorney")

    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    personnummer = models.CharField(_("personal identity number"), max_length=12, unique=True)
    date_of_birth = models.DateField(_("date of birth"))
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    access_notes = models.TextField(
        _("access notes"), blank=True, help_text=_("Door code, key box. Shown only to staff.")
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    preferred_language = models.CharField(_("preferred language"), max_length=60, default="svenska")
    interpreter_needed = models.BooleanField(_("needs an interpreter"), default=False)
    hearing_vision_notes = models.TextField(_("hearing or vision"), blank=True)
    representative_kind = models.CharField(
        _("representative"), max_length=32, choices=RepresentativeKind.choices, blank=True
    )
    representative_name = models.CharField(_("representative's name"), max_length=200, blank=True)
    representative_phone = models.CharField(_("representative's phone"), max_length=40, blank=True)
    representative_email = models.EmailField(_("representative's email"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="person_name_idx"),
            # Staff search by the last four digits (selectors.search_persons).
            models.Index(Right("personnummer", 4), name="person_pnr_last4_idx"),
        ]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def personnummer_masked(self) -> str:
        return pnr.mask(self.personnummer)

    @property
    def personnummer_display(self) -> str:
        """The whole number, for staff in the care team on the person's own pages (whose
        look is in the access log); lists and the relatives see `personnummer_masked`."""
        digits = self.personnummer
        return f"{digits[:8]}-{digits[8:]}" if len(digits) == 12 else digits

    @property
    def personnummer_last_four(self) -> str:
        return self.personnummer[-4:]

    @property
    def address(self) -> str:
        return ", ".join(
            p for p in [self.street_address, f"{self.postal_code} {self.city}".strip()] if p
        )

    def age_on(self, day: dt.date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    @property
    def age(self) -> int:
        return self.age_on(timezone.localdate())


class CareTeamQuerySet(models.QuerySet):
    def current(self, day: dt.date | None = None):
        day = day or timezone.localdate()
        return self.filter(Q(start_date__lte=day), Q(end_date__isnull=True) | Q(end_date__gte=day))


class CareTeamEntry(models.Model):
    """An organisation, or one of its staff in a role, serving the person for a period.

    An entry without a member means the organisation itself serves the person (e.g. the
    person is enrolled in home health care since start_date).
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="care_team")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="care_team_entries",
        verbose_name=_("staff member"),
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, blank=True)
    start_date = models.DateField(_("from"), default=dt.date.today)
    end_date = models.DateField(_("until"), null=True, blank=True)

    objects = CareTeamQuerySet.as_manager()

    class Meta:
        ordering = ["organisation__name", "role"]
        verbose_name = _("care team entry")
        verbose_name_plural = _("care team entries")
        indexes = [
            # The access rule joins persons to organisations through current entries.
            models.Index(fields=["organisation", "person"], name="careteam_org_person_idx"),
            models.Index(fields=["member", "person"], name="careteam_member_person_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="careteam_end_after_start",
            )
        ]

    def __str__(self):
        who = self.member or self.organisation
        return f"{who} ({self.get_role_display() or self.organisation.get_kind_display()})"

    def is_current(self, day: dt.date | None = None) -> bool:
        day = day or timezone.localdate()
        return self.start_date <= day and (self.end_date is None or self.end_date >= day)


class Relative(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="relatives")
    name = models.CharField(_("name"), max_length=200)
    relation = models.CharField(_("relation"), max_length=80)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    wants_involved = models.BooleanField(_("the person wants them involved"), default=True)
    preferred_language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.SWEDISH
    )
    # A relative signs in with a link (no password); the user row carries the session.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="relative",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("relative")
        verbose_name_plural = _("relatives")

    def __str__(self):
        return f"{self.name} ({self.relation})"


# The access log and its list rows are evidence: the database refuses UPDATE, and DELETE
# except in the purge of rows past retention (`participants.services.access_log_purge`),
# which declares its cutoff with set_config('vom.accesslog_purge_before', ..., true)
# (transaction-local). The cutoff must lie at least five years back (the legal minimum,
# fixed here so no setting can lower it). Why not `session_replication_role = replica` or
# `ALTER TABLE ... DISABLE TRIGGER`: the first needs a superuser, which the application's
# role must not be; the second locks the table and lifts the protection for every row.
_PURGE_CUTOFF = """
    cutoff := NULLIF(current_setting('vom.accesslog_purge_before', true), '')::timestamptz;
    IF TG_OP = 'DELETE' AND cutoff IS NOT NULL AND cutoff <= now() - interval '5 years'
       AND {older} THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME;
"""


def _append_only(older: str) -> pgtrigger.Trigger:
    return pgtrigger.Trigger(
        name="append_only",
        when=pgtrigger.Before,
        operation=pgtrigger.Update | pgtrigger.Delete,
        declare=[("cutoff", "timestamptz")],
        func=_PURGE_CUTOFF.format(older=older),
    )


class AccessLog(models.Model):
    """Who looked at or changed whose data, when (Patient Data Act access logging).

    Append-only: the application never updates or deletes a row; on PostgreSQL a trigger
    refuses it as well (`_append_only`).
    """

    class Action(models.TextChoices):
        VIEW = "view", _("view")
        LIST = "list", _("list")
        CREATE = "create", _("create")
        UPDATE = "update", _("update")
        PRINT = "print", _("print")
        EXPORT = "export", _("export")
        DISCLOSE = "disclose", _("disclose")
        CONSENT = "consent", _("consent change")

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", _("allowed")
        DENIED = "denied", _("denied")

    class ListName(models.TextChoices):
        """Which list a row of action "list" records; its persons are its `listed` rows."""

        CASELOAD = "caseload", _("My persons")
        SERVED = "served", _("Persons served by your organisations")
        SEARCH = "search", _("Search")
        WORKLIST = "worklist", _("What waits for you")
        MEETINGS = "meetings", _("Meetings")
        DECISIONS = "decisions", _("My decisions")
        ACCESS_LOG = "access_log", _("Access log")
        REVIEW_SAMPLE = "review_sample", _("Access log review")
        RECORD_SYSTEM = "record_system", _("Search by a record system (FHIR)")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # No single-column indexes on user and person: the (user, at) and (person, at) indexes
    # serve every lookup by them, and each index costs every one of the rows a list writes.
    # No foreign-key constraints in the database either: they cost three lookups per row at
    # every commit, and the log refers to, it does not depend on, those rows. Deleting a
    # user, organisation or person that the log names is still refused (PROTECT, by Django).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, related_name="+", db_constraint=False
    )
    role = models.CharField(max_length=32, blank=True)
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.ALLOWED)
    request_id = models.CharField(max_length=32, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    # A list shown (action "list") is one row naming the list; each person it showed is an
    # `AccessLogPerson` row, so the look at every one of them can be followed up.
    list_name = models.CharField(max_length=16, blank=True, choices=ListName.choices)
    # Another organisation's record system that read through the FHIR API (no user then).
    system_client = models.ForeignKey(
        "SystemClient", on_delete=models.PROTECT, null=True, related_name="+", db_constraint=False
    )

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["person", "at"], name="accesslog_person_at_idx"),
            models.Index(fields=["user", "at"], name="accesslog_user_at_idx"),
        ]
        triggers = [_append_only("OLD.at < cutoff")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.action} {self.object_type}"

    @property
    def role_label(self) -> str:
        if self.role == "system":
            return _("Record system")
        return Role(self.role).label if self.role in Role.values else self.role


class SystemClient(models.Model):
    """Another organisation's record system that reads the FHIR API (OAuth 2.0 client
    credentials, SMART Backend Services). Bound to one organisation: it sees what that
    organisation's care staff may see, nothing more, and every read names it in the log.

    It signs in with a JWT signed by its private key (`public_key` holds the PEM of the
    public half) or with a client secret (only its hash is kept)."""

    name = models.CharField(_("name"), max_length=200)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="system_clients"
    )
    client_id = models.CharField(_("client id"), max_length=64, unique=True)
    secret_hash = models.CharField(max_length=256, blank=True)
    public_key = models.TextField(_("public key (PEM)"), blank=True)
    # Space-separated SMART scopes it may be granted, e.g. "system/CarePlan.read system/Task.read".
    scopes = models.TextField(_("scopes"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("record system client")
        verbose_name_plural = _("record system clients")

    def __str__(self):
        return f"{self.name} ({self.organisation})"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class AccessLogPerson(models.Model):
    """A person shown in the list that one access-log row records: the narrow rows that
    let each person's log, the organisation's review, purge and the person's extract find
    a list look as they find any other (`participants.selectors.looks_at`).

    Append-only like the log: on PostgreSQL a trigger refuses UPDATE, and DELETE except by
    the purge of log rows past retention (`_append_only`). The key is the pair, and the
    (person, log) index finds a person's looks; no id column, no foreign-key checks per row.
    """

    pk = models.CompositePrimaryKey("log", "person")
    # DO_NOTHING: the log row is deleted only by the purge, which deletes these first.
    log = models.ForeignKey(
        AccessLog,
        on_delete=models.DO_NOTHING,
        related_name="listed",
        db_index=False,
        db_constraint=False,
    )
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )

    class Meta:
        indexes = [models.Index(fields=["person", "log"], name="accesslogperson_person_idx")]
        # A list's persons go only while their log row is older than the cutoff (the purge
        # deletes them before the row).
        triggers = [
            _append_only(
                "EXISTS (SELECT 1 FROM participants_accesslog l"
                " WHERE l.id = OLD.log_id AND l.at < cutoff)"
            )
        ]

    def __str__(self):
        return f"{self.log_id} {self.person_id}"


class ChangeRecord(models.Model):
    """Who changed what on an object, with old and new values."""

    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, related_name="+")
    action = models.CharField(max_length=16)
    changes = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="change_object_idx")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}:{self.object_id}"


class AccessLogReview(models.Model):
    """An organisation admin's recurring check of a random sample of the access log.

    The sample is drawn by the application when the review starts and stored with it, so
    the reviewer cannot choose which rows to look at; a completed review is not changed.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="access_log_reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    sample_ids = models.JSONField(default=list)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("access log review")
        verbose_name_plural = _("access log reviews")
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="accesslogreview_end_after_start",
            )
        ]

    def __str__(self):
        return f"{self.organisation} {self.period_start}–{self.period_end}"

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None
