"""A care meeting in the home and everything recorded in it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from participants.models import Organisation, Person, Relative, Role

from .choices import (
    AgendaItem,
    AgreementKind,
    DecisionCategory,
    MeetingKind,
    PersonAnswer,
    PreparationTask,
    RaisedBy,
    Reason,
    Urgency,
)


class Meeting(models.Model):
    class State(models.TextChoices):
        INITIATED = "initiated", _("Initiated")
        CONSENT = "consent", _("Consent given")
        CONVENING = "convening", _("Convening")
        SCHEDULED = "scheduled", _("Scheduled")
        HELD = "held", _("Held")
        CLOSED = "closed", _("Closed")
        DECLINED = "declined", _("Declined by the person")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN_STATES = (State.INITIATED, State.CONSENT, State.CONVENING, State.SCHEDULED)
    ENDED_STATES = (State.CLOSED, State.DECLINED, State.CANCELLED)

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="meetings")
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.INITIATED
    )
    kind = models.CharField(
        _("type"), max_length=8, choices=MeetingKind.choices, default=MeetingKind.FULL
    )
    urgency = models.CharField(
        _("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.ROUTINE
    )
    reason_text = models.TextField(_("more about the reasons"), blank=True)
    raised_by = models.CharField(
        _("who raised the concern"), max_length=20, choices=RaisedBy.choices
    )
    raised_by_detail = models.CharField(_("who, more precisely"), max_length=200, blank=True)

    initiated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    initiator_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+"
    )
    initiator_role = models.CharField(max_length=32, choices=Role.choices)
    # A default rather than auto_now_add so bulk loads and imports can set the real date.
    initiated_at = models.DateTimeField(default=timezone.now, editable=False)

    # Whether the other organisations may see the meeting: consent (c) is yes and not
    # withdrawn. Maintained only by the consent services; the access rule reads it.
    shared = models.BooleanField(default=False)
    consent_at = models.DateTimeField(null=True, blank=True)
    # When a consent to share was withdrawn (or changed to no) after sharing had begun: from
    # then on each organisation sees only its own parts of the meeting (permissions.py).
    sharing_ended_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The home health care organisation asked to provide a convener when someone else took
    # the initiative (seed step 3): its nurses see the meeting in their worklists until one
    # of them takes it on.
    convening_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    convener = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("convener"),
    )
    time_agreed_with_person = models.BooleanField(default=False)
    time_agreement_note = models.CharField(max_length=300, blank=True)
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), default=60)
    location = models.CharField(
        _("place"), max_length=300, blank=True, help_text=_("Empty: the person's home.")
    )
    scheduled_at = models.DateTimeField(null=True, blank=True)
    ical_sequence = models.PositiveIntegerField(default=0)

    actual_start = models.DateTimeField(_("actual start"), null=True, blank=True)
    actual_end = models.DateTimeField(_("actual end"), null=True, blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    convening_minutes = models.PositiveSmallIntegerField(_("convening (minutes)"), default=20)

    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    # Set when the retention period ran out and the free text, the relatives and the link to
    # the person were removed (retention.anonymise); only the figures' data is left.
    anonymised_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Bumped by every change to what the summary shows; stored PDFs carry it.
    content_version = models.PositiveIntegerField(default=1)
    previous_meeting = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-initiated_at"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        indexes = [
            models.Index(fields=["person", "state"], name="meeting_person_state_idx"),
            models.Index(fields=["state", "starts_at"], name="meeting_state_starts_idx"),
            models.Index(fields=["initiator_organisation", "state"], name="meeting_initorg_idx"),
            models.Index(fields=["convener", "state"], name="meeting_convener_idx"),
            models.Index(fields=["initiated_at"], name="meeting_initiated_idx"),
            # The managers' report counts held and ended meetings by these dates.
            models.Index(fields=["held_at"], name="meeting_held_idx"),
            models.Index(fields=["ended_at"], name="meeting_ended_idx"),
            # The worklists of a home health care organisation's nurses: meetings waiting
            # for one of them to convene.
            models.Index(
                fields=["convening_organisation"],
                name="meeting_awaiting_convener_idx",
                condition=Q(state="consent", convener__isnull=True),
            ),
        ]

    def __str__(self):
        return f"{self.person} – {self.get_state_display()}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def when(self):
        """The meeting's one date: when it actually started once held, else the planned
        start (None before a time is fixed)."""
        return self.actual_start or self.starts_at

    @property
    def sharing_withdrawn(self) -> bool:
        """Sharing had begun and was then withdrawn: each organisation keeps its own parts."""
        return not self.shared and self.sharing_ended_at is not None

    @property
    def place(self) -> str:
        return self.location or self.person.address

    @property
    def ends_at(self):
        if self.starts_at is None:
            return None
        import datetime as dt

        return self.starts_at + dt.timedelta(minutes=self.duration_minutes)


class MeetingReason(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="reasons")
    code = models.CharField(max_length=32, choices=Reason.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "code"], name="meetingreason_unique")
        ]
        indexes = [models.Index(fields=["code"], name="meetingreason_code_idx")]

    def __str__(self):
        return self.get_code_display()


class StateChange(models.Model):
    """Who moved the meeting from which state to which, when, and why."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="state_changes")
    from_state = models.CharField(max_length=16, choices=Meeting.State.choices, blank=True)
    to_state = models.CharField(max_length=16, choices=Meeting.State.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.from_state} → {self.to_state}"


class Consent(models.Model):
    """The person's answer to (a) a meeting, (b) which relatives, (c) sharing between
    organisations. A new row for every change; the newest row is the one in force."""

    class How(models.TextChoices):
        ORALLY = "orally", _("Orally")
        IN_WRITING = "in_writing", _("In writing")
        REPRESENTATIVE = "representative", _("By a representative")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="consents")
    wants_meeting = models.BooleanField(_("the person wants a meeting"))
    share_information = models.BooleanField(
        _("the other organisations may be contacted and information shared between them")
    )
    relatives = models.ManyToManyField(
        Relative, blank=True, related_name="+", verbose_name=_("relatives to invite")
    )
    how = models.CharField(_("how consent was given"), max_length=16, choices=How.choices)
    representative_name = models.CharField(_("representative's name"), max_length=200, blank=True)
    given_at = models.DateTimeField(_("when"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    withdrawal_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-recorded_at", "-pk"]

    def __str__(self):
        return f"consent {self.pk} for meeting {self.meeting_id}"


class TimeOption(models.Model):
    """A time agreed as possible with the person; invitees mark which suit them."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="time_options")
    starts_at = models.DateTimeField(_("starts"))

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "starts_at"], name="timeoption_unique")
        ]

    def __str__(self):
        return f"{self.starts_at:%Y-%m-%d %H:%M}"


class Participant(models.Model):
    """Someone invited to the meeting: staff, a relative, or the person."""

    class Kind(models.TextChoices):
        STAFF = "staff", _("Staff")
        RELATIVE = "relative", _("Relative")
        PERSON = "person", _("The person")

    class Response(models.TextChoices):
        NEEDS_ACTION = "needs_action", _("Not answered")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        TENTATIVE = "tentative", _("Tentative")

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        VIDEO = "video", _("By video")
        PHONE = "phone", _("By phone")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.STAFF)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meeting_participations",
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    relative = models.ForeignKey(
        Relative, on_delete=models.PROTECT, null=True, blank=True, related_name="participations"
    )
    is_convener = models.BooleanField(default=False)
    invited_at = models.DateTimeField(auto_now_add=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    response = models.CharField(
        _("response"), max_length=16, choices=Response.choices, default=Response.NEEDS_ACTION
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    mode = models.CharField(
        _("attends"), max_length=12, choices=Mode.choices, default=Mode.IN_PERSON
    )
    removed_at = models.DateTimeField(null=True, blank=True)

    # What happened at the meeting, and the minutes for the cost report.
    attended = models.BooleanField(_("attended"), null=True)
    attended_mode = models.CharField(max_length=12, choices=Mode.choices, blank=True)
    preparation_minutes = models.PositiveSmallIntegerField(
        _("preparation (minutes)"), null=True, blank=True
    )
    travel_minutes = models.PositiveSmallIntegerField(_("travel (minutes)"), null=True, blank=True)
    meeting_minutes = models.PositiveSmallIntegerField(
        _("meeting (minutes)"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        ordering = ["kind", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "user"],
                condition=Q(user__isnull=False, removed_at__isnull=True),
                name="participant_unique_user",
            ),
            models.UniqueConstraint(
                fields=["meeting", "relative"],
                condition=Q(relative__isnull=False, removed_at__isnull=True),
                name="participant_unique_relative",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "meeting"], name="participant_user_idx"),
            models.Index(fields=["organisation", "meeting"], name="participant_org_idx"),
        ]

    def __str__(self):
        if self.kind == self.Kind.STAFF:
            return str(self.user)
        if self.kind == self.Kind.RELATIVE:
            return str(self.relative)
        return str(self.meeting.person)

    @property
    def is_active(self) -> bool:
        return self.removed_at is None

    @property
    def attended_remotely(self) -> bool:
        """Took part by video or phone (as recorded at the meeting, else as planned): such a
        participant has no travel time."""
        return (self.attended_mode or self.mode) in (self.Mode.VIDEO, self.Mode.PHONE)

    @property
    def is_organisation_staff(self) -> bool:
        """Staff taking part for an organisation: who reads and confirms the summary
        (summary_services.staff_participant asks the same in SQL)."""
        return self.kind == self.Kind.STAFF and self.organisation_id is not None


class TimeVote(models.Model):
    option = models.ForeignKey(TimeOption, on_delete=models.CASCADE, related_name="votes")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="votes")
    suits = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["option", "participant"], name="timevote_unique")
        ]

    def __str__(self):
        return f"{self.participant_id}: {self.option_id} {self.suits}"


class PreparationStep(models.Model):
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="preparation_steps"
    )
    task = models.CharField(max_length=32, choices=PreparationTask.choices)
    done_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["participant", "task"], name="prepstep_unique")
        ]

    def __str__(self):
        return self.get_task_display()


class Contribution(models.Model):
    """ "What matters to you?": the person's and relatives' own words before the meeting."""

    class Author(models.TextChoices):
        PERSON = "person", _("The person")
        RELATIVE = "relative", _("Relative")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="contributions")
    author = models.CharField(max_length=8, choices=Author.choices)
    relative = models.ForeignKey(Relative, on_delete=models.PROTECT, null=True, blank=True)
    what_matters = models.TextField(_("what matters"), blank=True)
    questions = models.TextField(_("questions"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("what matters to the person")
        verbose_name_plural = _("what matters to the person")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.get_author_display()}: {self.what_matters[:40]}"


class AgendaNote(models.Model):
    """The shared notes of one agenda item. `revision` guards autosave against lost updates."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_notes")
    item = models.PositiveSmallIntegerField(choices=AgendaItem.choices)
    text = models.TextField(blank=True)
    revision = models.PositiveIntegerField(default=0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("meeting notes")
        verbose_name_plural = _("meeting notes")
        ordering = ["item"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "item"], name="agendanote_unique")
        ]

    def __str__(self):
        return f"{self.meeting_id}/{self.item}"


class PrivateTopic(models.Model):
    """A topic the person or a relative wants to take outside the group (incontinence,
    alcohol, suspected dementia). Never part of the shared notes or the summary; seen only
    by the organisation that takes it."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="private_topics")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    raised_by = models.CharField(max_length=20, choices=RaisedBy.choices)
    text = models.TextField(_("topic"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("topic outside the group")
        verbose_name_plural = _("topics outside the group")

    def __str__(self):
        return f"private topic {self.pk}"


class Decision(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(_("category"), max_length=32, choices=DecisionCategory.choices)
    description = models.TextField(_("what"))
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="responsible_decisions",
        verbose_name=_("responsible"),
    )
    due_date = models.DateField(_("by when"), null=True, blank=True)
    person_answer = models.CharField(
        _("the person's answer"), max_length=12, choices=PersonAnswer.choices
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the convener was told the decision is overdue (once per decision).
    overdue_notice_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["organisation__name", "created_at", "pk"]
        indexes = [
            models.Index(fields=["organisation", "meeting"], name="decision_org_idx"),
            models.Index(fields=["responsible", "due_date"], name="decision_resp_due_idx"),
            models.Index(fields=["category"], name="decision_category_idx"),
            # The hourly overdue check reads decisions past due that nobody was told about.
            models.Index(
                fields=["due_date"],
                name="decision_overdue_todo_idx",
                condition=Q(overdue_notice_at__isnull=True),
            ),
        ]

    def __str__(self):
        return self.description[:60]


class Agreement(models.Model):
    """Agreements about care: goal, acute deterioration, contingencies ("if X, contact Y")."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agreements")
    kind = models.CharField(_("kind"), max_length=24, choices=AgreementKind.choices)
    situation = models.CharField(_("if this happens"), max_length=300, blank=True)
    text = models.TextField(_("what we agree"))
    contact = models.CharField(_("contact"), max_length=300, blank=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("agreement about care")
        verbose_name_plural = _("agreements about care")
        ordering = ["kind", "pk"]

    def __str__(self):
        return self.text[:60]


class DecisionConfirmation(models.Model):
    """An organisation confirms its own decisions at the end of the meeting."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="confirmations")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(auto_now_add=True)
    decision_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("confirmation of decisions")
        verbose_name_plural = _("confirmations of decisions")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "organisation"], name="confirmation_unique")
        ]

    def __str__(self):
        return f"{self.organisation} confirmed {self.meeting_id}"


class OutboxMessage(models.Model):
    """A message that must not be lost: written in the same transaction as the change that
    causes it, delivered by a task after commit, swept up by a periodic task otherwise."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Not delivered")
        CANCELLED = "cancelled", _("Cancelled")

    class Kind(models.TextChoices):
        INVITATION = "invitation", _("Invitation")
        RESCHEDULED = "rescheduled", _("New time")
        CANCELLED = "cancelled", _("Cancellation")
        UNINVITED = "uninvited", _("Invitation withdrawn")
        REMINDER_NO_REPLY = "reminder_no_reply", _("Reminder to reply")
        REMINDER_DAY_BEFORE = "reminder_day_before", _("Reminder the day before")
        ROLE_DECLINED = "role_declined", _("A participant declined")
        FOLLOWUP_2W = "followup_2w", _("Follow-up after 2 weeks")
        FOLLOWUP_2M = "followup_2m", _("Follow-up after 2 months")
        DECISION_OVERDUE = "decision_overdue", _("Decision overdue")
        RELATIVE_SIGNIN = "relative_signin", _("Sign-in link")
        CONVENER_NEEDED = "convener_needed", _("A meeting waits for a convener")
        ACCOUNT_WELCOME = "account_welcome", _("New account: choose a password")
        PASSWORD_RESET = "password_reset", _("Choose a new password")
        SUMMARY_READY = "summary_ready", _("Summary ready")

    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, null=True, blank=True, related_name="outbox"
    )
    participant = models.ForeignKey(
        Participant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recipient_relative = models.ForeignKey(
        Relative, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_address = models.CharField(max_length=254, blank=True)
    language = models.CharField(max_length=8, default="sv")
    # One message per key, ever: a task run twice or two sweeps cannot send it twice.
    idempotency_key = models.CharField(max_length=200, unique=True)
    payload = models.JSONField(default=dict, blank=True)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [
            # The sweep reads due, undelivered rows.
            models.Index(
                fields=["status", "due_at"],
                name="outbox_due_idx",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["meeting", "status"], name="outbox_meeting_idx"),
        ]

    def __str__(self):
        return f"{self.kind} → {self.to_address} ({self.status})"


class SummaryDocument(models.Model):
    """A stored rendering of the shared summary. A new version whenever the meeting's
    content changes; the stored file is what is served."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="summaries")
    version = models.PositiveIntegerField()
    content_version = models.PositiveIntegerField()
    language = models.CharField(max_length=8, default="sv")
    file = models.FileField(upload_to="summaries/%Y/%m/", blank=True)
    render_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("summary")
        verbose_name_plural = _("summaries")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "version", "language"], name="summary_version_unique"
            )
        ]

    def __str__(self):
        return f"summary {self.meeting_id} v{self.version} ({self.language})"


class ReadReceipt(models.Model):
    """A participant confirms having read a version of the summary: the person and relatives
    see that their information reached each organisation (trygghetskvitto)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="read_receipts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    content_version = models.PositiveIntegerField()
    read_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-read_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "user", "content_version"], name="readreceipt_unique"
            )
        ]

    def __str__(self):
        return f"{self.user_id} read {self.meeting_id} v{self.content_version}"
