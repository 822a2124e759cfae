"""Joint follow-up of a meeting: decision status over time, checkpoints, health care use and
outcome measures. Written only by `followup.services`."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from meetings.models import Decision, Meeting
from participants.models import Person


class DecisionStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    IMPLEMENTED = "implemented", _("Implemented")
    PARTLY = "partly", _("Partly implemented")
    DECLINED_BY_PERSON = "declined_by_person", _("Declined by the person")
    NO_LONGER_RELEVANT = "no_longer_relevant", _("No longer relevant")


# A decision in one of these needs nothing more; any other status (or none yet) is open.
# "Partly" stays open: the rest is still to be done.
CLOSED_STATUSES = frozenset(
    {
        DecisionStatus.IMPLEMENTED,
        DecisionStatus.DECLINED_BY_PERSON,
        DecisionStatus.NO_LONGER_RELEVANT,
    }
)


class DecisionStatusChange(models.Model):
    """One report on a decision. The decision's current status is its latest report."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(_("status"), max_length=24, choices=DecisionStatus.choices)
    date = models.DateField(_("since"), help_text=_("The day the status applied from."))
    note = models.TextField(_("note"), blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Not auto_now_add: the demo area back-dates reports; services leave the default.
    reported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["reported_at", "pk"]
        verbose_name = _("decision status")
        verbose_name_plural = _("decision statuses")
        indexes = [
            # The current status is read as the newest row per decision.
            models.Index(
                fields=["decision", "-reported_at", "-id"], name="statuschange_latest_idx"
            ),
        ]

    def __str__(self):
        return f"{self.decision_id}: {self.status} ({self.date})"

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


class Checkpoint(models.Model):
    """The joint follow-up 2 weeks and 2 months after the meeting (seed 000's phone follow-up)."""

    class Kind(models.TextChoices):
        TWO_WEEKS = "two_weeks", _("2 weeks")
        TWO_MONTHS = "two_months", _("2 months")

    class Situation(models.TextChoices):
        AT_HOME = "at_home", _("At home")
        SHORT_TERM_CARE = "short_term_care", _("Short-term care")
        SPECIAL_HOUSING = "special_housing", _("Special housing")
        HOSPITAL = "hospital", _("In hospital")
        DECEASED = "deceased", _("Deceased")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="checkpoints")
    kind = models.CharField(_("checkpoint"), max_length=12, choices=Kind.choices)
    due_date = models.DateField(_("due"))
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    person_situation = models.CharField(
        _("the person's situation"), max_length=20, choices=Situation.choices
    )
    home_help_hours_before = models.DecimalField(
        _("home-help hours per week before the meeting"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(168)],
    )
    home_help_hours_after = models.DecimalField(
        _("home-help hours per week now"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(168)],
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "kind"], name="checkpoint_unique_kind"),
            models.CheckConstraint(
                condition=(
                    Q(home_help_hours_before__isnull=True)
                    | Q(home_help_hours_before__gte=0, home_help_hours_before__lte=168)
                )
                & (
                    Q(home_help_hours_after__isnull=True)
                    | Q(home_help_hours_after__gte=0, home_help_hours_after__lte=168)
                ),
                name="checkpoint_hours_in_week",
            ),
        ]

    def __str__(self):
        return f"{self.meeting_id}: {self.get_kind_display()}"

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None


class HealthCareUse(models.Model):
    """Hospital admissions and emergency visits in the months before or after a meeting."""

    class Period(models.TextChoices):
        BEFORE = "before", _("Before the meeting")
        AFTER = "after", _("After the meeting")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="health_care_use")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="health_care_use")
    period = models.CharField(_("period"), max_length=8, choices=Period.choices)
    months = models.PositiveSmallIntegerField(
        _("months covered"), default=6, validators=[MinValueValidator(1), MaxValueValidator(24)]
    )
    hospital_admissions = models.PositiveSmallIntegerField(
        _("hospital admissions"), validators=[MaxValueValidator(100)]
    )
    emergency_visits = models.PositiveSmallIntegerField(
        _("emergency visits"), validators=[MaxValueValidator(100)]
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["meeting", "period"]
        verbose_name = _("health care use")
        verbose_name_plural = _("health care use")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "period"], name="healthcareuse_unique"),
            models.CheckConstraint(
                condition=Q(months__gte=1, months__lte=24), name="healthcareuse_months"
            ),
        ]

    def __str__(self):
        return (
            f"{self.meeting_id} {self.period}: {self.hospital_admissions}/{self.emergency_visits}"
        )


class OutcomeMeasure(models.Model):
    """EQ-5D-3L and STAI-6 taken with the person at one timepoint around a meeting."""

    class Timepoint(models.TextChoices):
        BASELINE = "baseline", _("Before the meeting")
        AFTER = "after", _("1–2 weeks after")
        TWO_MONTHS = "two_months", _("2 months after")

    class NoAnswerReason(models.TextChoices):
        MEMORY_PROBLEMS = "memory_problems", _("Memory problems")
        HOSPITAL_STAY = "hospital_stay", _("Hospital stay")
        OTHER = "other", _("Other reason")

    # Field names in the order of scoring.STAI6_ITEMS.
    STAI_FIELDS = (
        "stai_calm",
        "stai_tense",
        "stai_upset",
        "stai_relaxed",
        "stai_content",
        "stai_worried",
    )
    LEVELS = [(1, "1"), (2, "2"), (3, "3")]
    ANSWERS = [(1, "1"), (2, "2"), (3, "3"), (4, "4")]

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="outcome_measures")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="outcome_measures")
    timepoint = models.CharField(_("when"), max_length=12, choices=Timepoint.choices)
    date = models.DateField(_("date"))

    could_not_answer = models.BooleanField(_("the person could not answer"), default=False)
    no_answer_reason = models.CharField(
        _("why not"), max_length=20, choices=NoAnswerReason.choices, blank=True
    )
    no_answer_note = models.CharField(_("more about why"), max_length=300, blank=True)

    # EQ-5D-3L: five dimensions at levels 1-3, in the order of scoring.EQ5D_DIMENSIONS.
    mobility = models.PositiveSmallIntegerField(_("mobility"), null=True, choices=LEVELS)
    self_care = models.PositiveSmallIntegerField(_("self-care"), null=True, choices=LEVELS)
    usual_activities = models.PositiveSmallIntegerField(
        _("usual activities"), null=True, choices=LEVELS
    )
    pain_discomfort = models.PositiveSmallIntegerField(
        _("pain / discomfort"), null=True, choices=LEVELS
    )
    anxiety_depression = models.PositiveSmallIntegerField(
        _("anxiety / depression"), null=True, choices=LEVELS
    )
    eq5d_index = models.DecimalField(
        _("EQ-5D index"), max_digits=4, decimal_places=3, null=True, blank=True
    )
    eq5d_value_set = models.CharField(_("value set"), max_length=60, blank=True)
    eq5d_vas = models.PositiveSmallIntegerField(
        _("EQ VAS"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )

    # STAI-6: six answers 1-4 in the order of scoring.STAI6_ITEMS, and their scored sum.
    stai_calm = models.PositiveSmallIntegerField(_("calm"), null=True, choices=ANSWERS)
    stai_tense = models.PositiveSmallIntegerField(_("tense"), null=True, choices=ANSWERS)
    stai_upset = models.PositiveSmallIntegerField(_("upset"), null=True, choices=ANSWERS)
    stai_relaxed = models.PositiveSmallIntegerField(_("relaxed"), null=True, choices=ANSWERS)
    stai_content = models.PositiveSmallIntegerField(_("content"), null=True, choices=ANSWERS)
    stai_worried = models.PositiveSmallIntegerField(_("worried"), null=True, choices=ANSWERS)
    stai6_sum = models.PositiveSmallIntegerField(_("STAI-6 sum"), null=True, blank=True)

    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["date", "pk"]
        verbose_name = _("outcome measure")
        verbose_name_plural = _("outcome measures")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "timepoint"], name="outcome_unique_time"),
            # Either answered (index, VAS and STAI-6 sum all there) or marked with a reason.
            models.CheckConstraint(
                condition=(
                    Q(could_not_answer=True)
                    & ~Q(no_answer_reason="")
                    & Q(eq5d_index__isnull=True, eq5d_vas__isnull=True, stai6_sum__isnull=True)
                )
                | (
                    Q(could_not_answer=False, no_answer_reason="")
                    & Q(eq5d_index__isnull=False, eq5d_vas__isnull=False, stai6_sum__isnull=False)
                    & ~Q(eq5d_value_set="")
                ),
                name="outcome_answered_or_reason",
            ),
            models.CheckConstraint(
                condition=Q(eq5d_vas__isnull=True) | Q(eq5d_vas__lte=100),
                name="outcome_vas_range",
            ),
            models.CheckConstraint(
                condition=Q(stai6_sum__isnull=True) | Q(stai6_sum__gte=6, stai6_sum__lte=24),
                name="outcome_stai6_range",
            ),
        ]
        indexes = [models.Index(fields=["person", "date"], name="outcome_person_date_idx")]

    def __str__(self):
        return f"{self.person_id} {self.timepoint} {self.date}"

    @property
    def eq5d_profile(self) -> str:
        from .scoring import EQ5D_DIMENSIONS

        levels = [getattr(self, name) for name in EQ5D_DIMENSIONS]
        return "".join(str(level) for level in levels) if all(levels) else ""
