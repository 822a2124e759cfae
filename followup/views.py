"""Pages of the joint follow-up. Each view finds the meeting or decision through a selector
(404 for what the user may not see), validates a form and calls one service; a refused
action is shown next to the field or at the top, never as a 500."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from meetings.forms import InitiativeForm
from meetings.models import Meeting
from meetings.permissions import MeetingContext
from participants import audit
from participants.models import AccessLog, Organisation
from participants.selectors import (
    CARE_ROLES,
    active_memberships,
    get_person_for_user,
)
from participants.views import staff_required
from vom.errors import DomainError, apply_domain_error, submit

from . import charts, rules, selectors, services
from .forms import (
    CheckpointForm,
    DecisionStatusForm,
    HealthCareUseForm,
    OutcomeForm,
)
from .models import Checkpoint, DecisionStatus, HealthCareUse, OutcomeMeasure

WORKLIST_PAGE_SIZE = 50


def _page_url(meeting, anchor: str = "") -> str:
    url = reverse("followup:meeting", kwargs={"pk": meeting.pk})
    return f"{url}#{anchor}" if anchor else url


def _load_context(request, pk) -> MeetingContext:
    """The meeting and the user's context if they may see it (404 otherwise); a look is
    logged. The context carries the person's care team for the page's other lookups."""
    ctx = MeetingContext.load_visible(request.user, pk, request=request)
    if request.method == "GET":
        ctx.log_view(request)
    return ctx


def _load_meeting(request, pk) -> Meeting:
    return _load_context(request, pk).meeting


def _form_page(request, meeting, form, *, title, submit, template="followup/form.html", **extra):
    context = {
        "meeting": meeting,
        "form": form,
        "title": title,
        "submit_label": submit,
        "cancel_url": _page_url(meeting),
    }
    return render(request, template, context | extra)


@staff_required
def followup_meeting(request, pk):
    ctx = _load_context(request, pk)
    meeting = ctx.meeting
    page = selectors.followup_page(request.user, meeting, team_org_ids=ctx.team_org_ids)
    for row in page.rows:
        if row.can_report:
            row.form = DecisionStatusForm(prefix=f"d{row.decision.pk}")
    measures = list(
        selectors.measures_visible_to(request.user, meeting.person, team_org_ids=ctx.team_org_ids)
    )
    return render(
        request,
        "followup/meeting.html",
        {
            "meeting": meeting,
            "page": page,
            "series": charts.person_charts(measures) if measures else [],
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def decision_status(request, pk):
    decision = selectors.get_decision_for_user(request.user, pk, request=request)
    meeting = decision.meeting
    can_report = meeting.state in rules.FOLLOWUP_STATES and rules.may_report_on(
        request.user, decision
    )
    form = DecisionStatusForm(request.POST or None, prefix=f"d{decision.pk}")
    if request.method == "POST":
        if form.is_valid():
            try:
                services.decision_status_report(
                    actor=request.user, decision=decision, request=request, **form.cleaned_data
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("The status was saved."))
                return redirect(_page_url(meeting, f"decision-{decision.pk}"))
    else:
        audit.log_access(request, person=meeting.person, action=AccessLog.Action.VIEW, obj=decision)
    return render(
        request,
        "followup/decision_status.html",
        {
            "meeting": meeting,
            "decision": decision,
            "history": selectors.status_history(decision),
            "form": form,
            "can_report": can_report,
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def checkpoint(request, pk, kind):
    if kind not in Checkpoint.Kind.values:
        raise Http404
    meeting = _load_meeting(request, pk)
    existing = meeting.checkpoints.filter(kind=kind).select_related("completed_by").first()
    initial = {}
    earlier = meeting.checkpoints.filter(completed_at__isnull=False).order_by("-completed_at")
    earlier = earlier.first()
    if earlier is not None:
        initial = {
            "person_situation": earlier.person_situation,
            "home_help_hours_before": earlier.home_help_hours_before,
            "home_help_hours_after": earlier.home_help_hours_after,
        }
    form = CheckpointForm(request.POST or None, initial=initial)
    if done := submit(
        request,
        form,
        lambda data: services.checkpoint_complete(
            actor=request.user, meeting=meeting, kind=kind, request=request, **form.cleaned_data
        ),
        done=_("The follow-up was completed."),
        to=_page_url(meeting, "checkpoints"),
    ):
        return done
    page = selectors.followup_page(request.user, meeting)
    return _form_page(
        request,
        meeting,
        form,
        title=_("Follow-up after %(when)s") % {"when": Checkpoint.Kind(kind).label},
        submit=_("Complete the follow-up"),
        template="followup/checkpoint.html",
        checkpoint=existing,
        due_date=rules.checkpoint_due_date(meeting, kind),
        missing=[row for row in page.rows if row.needs_report],
        can_complete=page.can_follow_up,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def health_care_use(request, pk, period):
    if period not in HealthCareUse.Period.values:
        raise Http404
    meeting = _load_meeting(request, pk)
    existing = meeting.health_care_use.filter(period=period).first()
    initial = {}
    if existing is not None:
        initial = {
            "months": existing.months,
            "hospital_admissions": existing.hospital_admissions,
            "emergency_visits": existing.emergency_visits,
        }
    form = HealthCareUseForm(request.POST or None, initial=initial)
    if done := submit(
        request,
        form,
        lambda data: services.health_care_use_record(
            actor=request.user,
            meeting=meeting,
            period=period,
            request=request,
            **form.cleaned_data,
        ),
        done=_("Hospital admissions and emergency visits were saved."),
        to=_page_url(meeting, "health-care-use"),
    ):
        return done
    return _form_page(
        request,
        meeting,
        form,
        title=_("Hospital admissions and emergency visits: %(period)s")
        % {"period": HealthCareUse.Period(period).label.lower()},
        submit=_("Save"),
    )


@staff_required
@require_http_methods(["GET", "POST"])
def outcome(request, pk, timepoint):
    if timepoint not in OutcomeMeasure.Timepoint.values:
        raise Http404
    meeting = _load_meeting(request, pk)
    existing = meeting.outcome_measures.filter(timepoint=timepoint).first()
    form = OutcomeForm(request.POST or None, initial=OutcomeForm.initial_from(existing))
    if done := submit(
        request,
        form,
        lambda data: services.outcome_record(
            actor=request.user,
            meeting=meeting,
            timepoint=timepoint,
            request=request,
            **form.service_kwargs(),
        ),
        done=_("The measures were saved."),
        to=_page_url(meeting, "measures"),
    ):
        return done
    return _form_page(
        request,
        meeting,
        form,
        title=_("Outcome measures: %(when)s")
        % {"when": OutcomeMeasure.Timepoint(timepoint).label.lower()},
        submit=_("Save the measures"),
        template="followup/outcome_form.html",
        existing=existing,
    )


@staff_required
def person_measures(request, pk):
    person = get_person_for_user(request.user, pk, request=request)
    measures = list(selectors.measures_visible_to(request.user, person))
    audit.log_access(
        request,
        person=person,
        action=AccessLog.Action.VIEW,
        object_type=OutcomeMeasure._meta.label_lower,
    )
    return render(
        request,
        "followup/person_measures.html",
        {"person": person, "measures": measures, "series": charts.person_charts(measures)},
    )


def _initiating_organisations(user, meeting) -> list[Organisation]:
    team = set(meeting.person.care_team.current().values_list("organisation_id", flat=True))
    seen = {}
    for m in active_memberships(user):
        if m.role in CARE_ROLES and m.organisation_id in team:
            seen.setdefault(m.organisation_id, m.organisation)
    return list(seen.values())


@staff_required
@require_http_methods(["GET", "POST"])
def new_meeting(request, pk):
    """Start a new meeting from the follow-up, prefilled with the previous meeting's reasons."""
    meeting = _load_meeting(request, pk)
    organisations = _initiating_organisations(request.user, meeting)
    if not organisations:
        messages.error(
            request, _("Your organisation must be in the person's care team to propose a meeting.")
        )
        return redirect(_page_url(meeting))
    initial = {
        "reasons": list(meeting.reasons.values_list("code", flat=True)),
        "reason_text": meeting.reason_text,
        "raised_by": meeting.raised_by,
        "raised_by_detail": meeting.raised_by_detail,
        "urgency": meeting.urgency,
        "kind": meeting.kind,
    }
    form = InitiativeForm(
        request.POST or None, initial=initial, organisations=organisations, consent_now=False
    )
    if request.method == "POST" and form.is_valid():
        try:
            new = services.followup_start_new_meeting(
                actor=request.user,
                previous_meeting=meeting,
                request=request,
                **form.cleaned_data,
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("A new meeting was proposed."))
            return redirect("meeting_detail", pk=new.pk)
    return _form_page(
        request,
        meeting,
        form,
        title=_("Propose a new meeting"),
        submit=_("Propose the meeting"),
        template="followup/new_meeting.html",
        intro=_(
            "The reasons of the previous meeting are filled in; change them to what applies now."
        ),
    )


@staff_required
def my_decisions(request):
    today = timezone.localdate()
    decisions = selectors.open_decisions_for_user(request.user, today=today)
    page = Paginator(decisions, WORKLIST_PAGE_SIZE).get_page(request.GET.get("page"))
    labels = dict(DecisionStatus.choices)
    for decision in page.object_list:
        decision.current_status_label = labels.get(decision.current_status, "")
    audit.log_list(
        request,
        person_ids=[d.meeting.person_id for d in page.object_list],
        list_name=AccessLog.ListName.DECISIONS,
        object_type="meetings.decision",
    )
    return render(
        request,
        "followup/my_decisions.html",
        {"page": page, "today": today, "user_id": request.user.pk},
    )
