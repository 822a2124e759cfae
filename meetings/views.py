"""Pages of the meeting lifecycle. Each view finds the meeting through the selector (404 for
what the user may not see), checks the permission table for a clear message, validates a
form and calls one service. A refused action answers with a message, never a 500."""

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.db.models import Count, Q, prefetch_related_objects
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from participants import audit
from participants.models import AccessLog, Organisation, Role
from participants.selectors import (
    CARE_ROLES,
    active_memberships,
    get_admin_organisation,
    get_person_for_user,
)
from participants.views import staff_required
from vom.errors import DomainError, apply_domain_error, submit

from . import importing, registration, services
from .choices import AGENDA_HINTS, AGENDA_LEADS, AgendaItem, MeetingKind
from .forms import (
    AgendaNoteForm,
    AgreementForm,
    AttendanceForm,
    CancelForm,
    ConsentForm,
    ContributionForm,
    ConveneForm,
    DecisionForm,
    HeldMeetingForm,
    ImportFileForm,
    InitiativeForm,
    InviteForm,
    MarkHeldForm,
    MinutesForm,
    ModeForm,
    PreparationForm,
    PrivateTopicForm,
    RescheduleForm,
    RespondForm,
    ScheduleForm,
    WithdrawConsentForm,
)
from .models import Decision, Meeting, Participant, TimeVote
from .permissions import MeetingContext, allowed_actions, can, require
from .selectors import active_participants, get_meeting_for_user, parts_present
from .worklist import worklist

S = Meeting.State

# --- helpers ---


def _load(request, pk, *, log: bool = True, full: bool = False) -> tuple[Meeting, MeetingContext]:
    ctx = MeetingContext.load_visible(request.user, pk, request=request, full=full)
    meeting = ctx.meeting
    if log and request.method == "GET":
        ctx.log_view(request)
    return meeting, ctx


def _detail(meeting) -> str:
    return reverse("meeting_detail", kwargs={"pk": meeting.pk})


def _day(meeting, anchor: str = "") -> str:
    url = reverse("meeting_day", kwargs={"pk": meeting.pk})
    return f"{url}#{anchor}" if anchor else url


def _refuse(request, ctx, action, *, organisation_id=None, to=None):
    """None when the action is allowed now; otherwise a redirect with the reason."""
    try:
        require(ctx, action, organisation_id=organisation_id)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(to or _detail(ctx.meeting))
    return None


def _care_orgs(user) -> list[Organisation]:
    seen = {}
    for m in active_memberships(user):
        if m.role in CARE_ROLES:
            seen.setdefault(m.organisation_id, m.organisation)
    return list(seen.values())


def _acting_orgs(ctx: MeetingContext) -> list[Organisation]:
    """The user's organisations that take part in the meeting (decisions, confirmation)."""
    return [o for o in _care_orgs(ctx.user) if ctx.may_act_for(o.pk)]


def _form_page(
    request, meeting, form, *, title, submit, intro="", cancel=None, status=200, danger=False
):
    return render(
        request,
        "meetings/form.html",
        {
            "meeting": meeting,
            "form": form,
            "title": title,
            "intro": intro,
            "submit_label": submit,
            "cancel_url": cancel or _detail(meeting),
            "danger": danger,
        },
        status=status,
    )


@dataclass
class Step:
    label: str
    url: str
    post: bool = False
    primary: bool = False
    danger: bool = False


NEXT_STEPS = [
    # action, label, url name, POST?
    ("consent.record", gettext_lazy("Record consent"), "meeting_consent", False),
    ("consent.change", gettext_lazy("Change the consent"), "meeting_consent", False),
    ("convening.start", gettext_lazy("I will convene"), "meeting_convening_start", True),
    ("invitations.change", gettext_lazy("Invite and give the time"), "meeting_invitations",
     False),
    ("meeting.schedule", gettext_lazy("Fix the time"), "meeting_schedule", False),
    ("participation.respond", gettext_lazy("Answer the invitation"), "meeting_respond", False),
    ("preparation.record", gettext_lazy("Preparation"), "meeting_preparation", False),
    ("contribution.add", gettext_lazy("Add “What matters to you?”"), "meeting_contribution", False),
    ("notes.edit", gettext_lazy("Open the meeting page"), "meeting_day", False),
    ("meeting.mark_held", gettext_lazy("Mark as held"), "meeting_mark_held", False),
    ("minutes.record", gettext_lazy("Minutes per participant"), "meeting_minutes", False),
    ("meeting.close", gettext_lazy("Close the meeting"), "meeting_close", True),
    ("meeting.reschedule", gettext_lazy("New time"), "meeting_reschedule", False),
    ("meeting.cancel", gettext_lazy("Cancel the meeting"), "meeting_cancel", False),
    ("consent.withdraw", gettext_lazy("The person withdraws consent"), "meeting_consent_withdraw",
     False),
]  # fmt: skip
DANGER = {"meeting.cancel", "consent.withdraw"}

PRIMARY = {
    S.INITIATED: "consent.record",
    S.CONSENT: "convening.start",
    S.CONVENING: "invitations.change",
    S.SCHEDULED: "notes.edit",
    S.HELD: "minutes.record",
}


def next_steps(ctx: MeetingContext, actions: set[str]) -> list[Step]:
    meeting = ctx.meeting
    primary = PRIMARY.get(meeting.state)
    if meeting.state == S.CONVENING and len(meeting.time_options.all()) > 1:
        primary = "meeting.schedule"  # proposed times sent: fix one when they have answered
    steps = []
    for action, label, name, post in NEXT_STEPS:
        if action not in actions:
            continue
        if action == "meeting.schedule" and not meeting.time_agreed_with_person:
            continue
        if action == "invitations.change" and meeting.state == S.SCHEDULED:
            label = gettext_lazy("Invitations")
        elif action == "invitations.change" and meeting.time_agreed_with_person:
            label = gettext_lazy("Invitations and times")
        if action == "participation.respond" and ctx.participant and ctx.participant.is_convener:
            continue  # the convener takes part by convening
        url = reverse(name, kwargs={"pk": meeting.pk})
        steps.append(Step(str(label), url, post, action == primary, action in DANGER))
    steps.sort(key=lambda step: (not step.primary, step.danger))
    return steps


# --- lists ---


@staff_required
def meeting_list(request):
    state = request.GET.get("state", "")
    items, counts = worklist(request.user)
    from .selectors import meetings_visible_to

    meetings = meetings_visible_to(request.user).select_related("person", "convener")
    if state in S.values:
        meetings = meetings.filter(state=state)
    else:
        state = ""
        meetings = meetings.filter(state__in=Meeting.OPEN_STATES + (S.HELD,))
    meetings = list(meetings.order_by("state", "starts_at", "-initiated_at")[:200])
    audit.log_list(
        request,
        person_ids=[m.person_id for m in meetings],
        list_name=AccessLog.ListName.MEETINGS,
        object_type="meetings.meeting",
    )
    return render(
        request,
        "meetings/meeting_list.html",
        {
            "items": items,
            "counts": counts,
            "meetings": meetings,
            "state": state,
            "states": S.choices,
        },
    )


# --- 1. Initiative ---


@staff_required
def meeting_new(request, person_pk):
    """Propose a meeting; the one who has asked the person records the answer in the same
    form, and a home health care nurse then goes straight on to convening."""
    person = get_person_for_user(request.user, person_pk, request=request)
    team_orgs = set(person.care_team.current().values_list("organisation_id", flat=True))
    organisations = [o for o in _care_orgs(request.user) if o.pk in team_orgs]
    if not organisations:
        raise Http404
    data = request.POST or None
    form = InitiativeForm(data, organisations=organisations)
    asked_now = data is not None and data.get("asked") == "now"
    consent_form = ConsentForm(data if asked_now else None, person=person, prefix="consent")
    if request.method == "POST" and form.is_valid() and (not asked_now or consent_form.is_valid()):
        cleaned = form.cleaned_data
        consent = _consent_answer(consent_form.cleaned_data) if asked_now else None
        try:
            meeting = services.meeting_initiate(
                actor=request.user,
                person=person,
                organisation=cleaned["organisation"],
                reasons=cleaned["reasons"],
                reason_text=cleaned["reason_text"],
                raised_by=cleaned["raised_by"],
                raised_by_detail=cleaned["raised_by_detail"],
                urgency=cleaned["urgency"],
                kind=cleaned["kind"],
                consent=consent,
                request=request,
            )
        except DomainError as exc:
            apply_domain_error(consent_form if exc.field in consent_form.fields else form, exc)
        else:
            return _after_proposal(request, meeting, consent)
    return render(
        request,
        "meetings/initiative_form.html",
        {"form": form, "consent_form": consent_form, "person": person},
    )


# The registration's fields as the form names them.
REGISTRATION_FIELDS = {"organisation": "initiator", "person": None}


@staff_required
def meeting_register_held(request, person_pk):
    """Register a meeting that has already been held, with its real dates (care staff of an
    organisation serving the person)."""
    person = get_person_for_user(request.user, person_pk, request=request)
    if not registration.registrar_organisations(request.user, person):
        raise Http404
    form = HeldMeetingForm(request.POST or None, person=person)
    registered = {}

    def register(data):
        try:
            registered["meeting"] = registration.meeting_register_held(
                actor=request.user, held=form.held_meeting(), request=request
            )
        except DomainError as exc:
            raise DomainError(
                exc.message, field=REGISTRATION_FIELDS.get(exc.field, exc.field)
            ) from exc

    if done := submit(
        request,
        form,
        register,
        done=_("The meeting was registered with its real dates."),
        to=lambda: _detail(registered["meeting"]),
    ):
        return done
    return render(
        request,
        "meetings/register_held_form.html",
        {"form": form, "person": person},
        status=400 if request.method == "POST" else 200,
    )


@staff_required
def meeting_import(request, org_pk):
    """The organisation administrator imports meetings already held from a filled-in
    template: every row checked, every error listed, nothing saved unless all are valid."""
    organisation = get_admin_organisation(request.user, org_pk)
    form = ImportFileForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = importing.import_held_meetings(
            actor=request.user,
            organisation=organisation,
            data=upload.read(importing.MAX_BYTES + 1),
            filename=upload.name,
            request=request,
        )
        if not result.errors:
            messages.success(
                request,
                ngettext(
                    "%(count)s meeting was registered afterwards.",
                    "%(count)s meetings were registered afterwards.",
                    len(result.meetings),
                )
                % {"count": len(result.meetings)},
            )
            return redirect(reverse("meeting_import", args=[organisation.pk]))
    return render(
        request,
        "meetings/import.html",
        {
            "organisation": organisation,
            "form": form,
            "result": result,
            "columns": [(c, importing.choices_for(c.key)) for c in importing.COLUMNS],
        },
        status=400 if result is not None or form.errors else 200,
    )


@staff_required
def meeting_import_template(request, org_pk, fmt):
    get_admin_organisation(request.user, org_pk)
    if fmt == "csv":
        response = HttpResponse(importing.template_csv(), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        response = HttpResponse(
            importing.template_xlsx(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="vom-held-meetings.{fmt}"'
    return response


def _consent_answer(data) -> services.ConsentAnswer:
    return services.ConsentAnswer(
        wants_meeting=data["wants_meeting"],
        share_information=data["share_information"],
        relatives=tuple(data["relatives"]),
        how=data["how"],
        representative_name=data["representative_name"],
        given_at=data["given_at"],
    )


def _after_proposal(request, meeting, consent):
    meeting.refresh_from_db()
    if consent is None:
        messages.success(request, _("The meeting was proposed. Next: ask the person for consent."))
    elif not consent.wants_meeting:
        messages.info(request, _("The person does not want a meeting. It has been stopped."))
    elif meeting.convener_id == request.user.pk:
        messages.success(
            request, _("Proposed, with the person's consent. Now invite and give the time.")
        )
        return redirect("meeting_invitations", pk=meeting.pk)
    elif meeting.convening_organisation_id is not None:
        messages.success(
            request,
            _(
                "Proposed, with the person's consent. It waits in the worklists of the nurses "
                "at %(organisation)s until one of them takes it on."
            )
            % {"organisation": meeting.convening_organisation.name},
        )
    else:
        messages.success(request, _("Proposed, with the person's consent."))
    return redirect(_detail(meeting))


# --- the meeting page ---


@staff_required
def meeting_detail(request, pk):
    # With person, organisation, initiator and convener, and the participants as listed.
    meeting, ctx = _load(request, pk, full=True)
    prefetch_related_objects([meeting], "reasons")
    # The current consent is the newest not withdrawn (Consent.Meta.ordering), as
    # services.current_consent reads it; one query for it and the history.
    consent_history = list(
        meeting.consents.select_related("recorded_by", "withdrawn_by").prefetch_related("relatives")
    )
    consent = next((c for c in consent_history if c.withdrawn_at is None), None)
    ctx.consent = consent
    actions = allowed_actions(ctx)
    # The proposed times are shown only until a time is fixed.
    options = (
        []
        if meeting.starts_at
        else list(
            meeting.time_options.annotate(
                suits_count=Count("votes", filter=Q(votes__suits=True)),
                unsuits_count=Count("votes", filter=Q(votes__suits=False)),
            )
        )
    )
    present = parts_present(meeting, DETAIL_PARTS)
    decisions = _decisions(meeting, present)
    confirmations = _confirmations(meeting, present)
    missing = (
        services.missing_standard_roles(meeting)
        if meeting.state in (S.CONVENING, S.SCHEDULED)
        else []
    )
    parts = _visible_parts(
        ctx,
        participants=ctx.participants,
        decisions=decisions,
        agreements=_agreements(meeting, present),
        contributions=_contributions(meeting, present),
    )
    return render(
        request,
        "meetings/meeting_detail.html",
        {
            "meeting": meeting,
            "ctx": ctx,
            "actions": actions,
            "steps": next_steps(ctx, actions),
            "participants": parts.participants,
            "consent": consent,
            "consent_history": consent_history,
            "options": options,
            "contributions": parts.contributions,
            "by_org": _decisions_by_org(parts.decisions, confirmations, parts.participants),
            "agreements": parts.agreements,
            "own_parts_only": ctx.own_parts_only,
            "shows_reasons": not ctx.own_parts_only or ctx.is_initiator_org,
            "missing_roles": [Role(r).label for r in missing],
            "history": list(meeting.state_changes.select_related("by")),
            "show_address": ctx.participant is not None,
            "private_topics": _private_topics(ctx, present),
        },
    )


# The parts of a meeting its pages read only when they hold rows (selectors.parts_present).
DETAIL_PARTS = ("decisions", "confirmations", "agreements", "contributions", "private_topics")
DAY_PARTS = ("agenda_notes", *DETAIL_PARTS)


def _decisions(meeting, present) -> list[Decision]:
    if "decisions" not in present:
        return []
    return list(
        meeting.decisions.select_related("organisation", "responsible").order_by(
            "organisation__name", "created_at", "pk"
        )
    )


def _confirmations(meeting, present) -> dict:
    if "confirmations" not in present:
        return {}
    return {c.organisation_id: c for c in meeting.confirmations.select_related("confirmed_by")}


def _agreements(meeting, present) -> list:
    if "agreements" not in present:
        return []
    return list(meeting.agreements.select_related("organisation"))


def _contributions(meeting, present) -> list:
    if "contributions" not in present:
        return []
    return list(meeting.contributions.select_related("relative"))


def _private_topics(ctx, present) -> list:
    """The private topics of the user's own organisations (never another's)."""
    if "private_topics" not in present:
        return []
    return list(
        ctx.meeting.private_topics.filter(organisation_id__in=ctx.care_org_ids).select_related(
            "organisation"
        )
    )


@dataclass
class Parts:
    participants: list
    decisions: list
    agreements: list
    contributions: list


def _visible_parts(ctx, *, participants, decisions, agreements, contributions) -> Parts:
    """What of the meeting the user sees: everything while it is shared; once consent to
    share was withdrawn, only their own organisations' staff, decisions and agreements (the
    person's own words were given for sharing and are not shown)."""
    if not ctx.own_parts_only:
        return Parts(participants, decisions, agreements, contributions)
    mine = ctx.care_org_ids
    return Parts(
        participants=[p for p in participants if p.organisation_id in mine],
        decisions=[d for d in decisions if d.organisation_id in mine],
        agreements=[a for a in agreements if a.organisation_id in mine],
        contributions=[],
    )


def _decisions_by_org(decisions, confirmations, participants):
    orgs = {}
    for p in participants:
        if p.organisation_id:
            orgs.setdefault(p.organisation_id, {"organisation": p.organisation, "decisions": []})
    for d in decisions:
        orgs.setdefault(d.organisation_id, {"organisation": d.organisation, "decisions": []})
        orgs[d.organisation_id]["decisions"].append(d)
    rows = []
    for org_id, row in sorted(orgs.items(), key=lambda kv: kv[1]["organisation"].name):
        row["confirmation"] = confirmations.get(org_id)
        rows.append(row)
    return rows


# --- 2. Consent ---


@staff_required
def consent_record(request, pk):
    meeting, ctx = _load(request, pk)
    consent = ctx.consent
    if refused := _refuse(request, ctx, "consent.change" if consent else "consent.record"):
        return refused
    initial = {}
    if consent is not None:
        initial = {
            "wants_meeting": "yes" if consent.wants_meeting else "no",
            "share_information": "yes" if consent.share_information else "no",
            "relatives": list(consent.relatives.all()),
            "how": consent.how,
            "representative_name": consent.representative_name,
        }
    form = ConsentForm(request.POST or None, person=meeting.person, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.consent_record(
                actor=request.user,
                meeting=meeting,
                request=request,
                **vars(_consent_answer(data)),
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            meeting.refresh_from_db()
            if not data["wants_meeting"]:
                messages.info(
                    request, _("The person does not want a meeting. It has been stopped.")
                )
            elif meeting.sharing_withdrawn:
                messages.warning(
                    request,
                    _(
                        "Consent recorded without sharing: the other organisations and the "
                        "relatives no longer see the meeting; each organisation keeps its own "
                        "decisions."
                    ),
                )
            elif not data["share_information"]:
                messages.warning(
                    request,
                    _(
                        "Consent recorded without sharing: no other organisation can be "
                        "contacted or see the meeting."
                    ),
                )
            elif meeting.state == S.CONSENT and can(
                MeetingContext.build(request.user, meeting), "convening.start"
            ):
                messages.success(request, _("Consent recorded. You can now convene the meeting."))
            else:
                messages.success(request, _("Consent recorded."))
            return redirect(_after_consent(request, meeting))
    return _form_page(
        request,
        meeting,
        form,
        title=_("Change the consent") if consent else _("Consent"),
        intro=_(
            "Record what the person answered when you asked. The person can withdraw consent "
            "at any time."
        ),
        submit=_("Save the consent") if consent else _("Record consent"),
    )


def _after_consent(request, meeting) -> str:
    try:
        get_meeting_for_user(request.user, meeting.pk)
    except Http404:
        return reverse("home")  # the user lost access with the change
    return _detail(meeting)


@staff_required
def consent_withdraw(request, pk):
    meeting, ctx = _load(request, pk)
    if refused := _refuse(request, ctx, "consent.withdraw"):
        return refused
    effects = services.withdrawal_effects(meeting)
    form = WithdrawConsentForm(request.POST or None, effects=effects)
    if done := submit(
        request,
        form,
        lambda data: services.consent_withdraw(
            actor=request.user, meeting=meeting, note=data["note"], request=request
        ),
        done=_("Consent withdrawn.") + " " + form.consequences,
        to=lambda: _after_consent(request, meeting),  # who may still see it, after
        level="warning",
    ):
        return done
    return _form_page(
        request,
        meeting,
        form,
        title=_("The person withdraws consent"),
        intro=form.consequences,
        submit=_("Withdraw consent"),
        danger=True,
    )


# --- 3. Convening ---


@staff_required
@require_POST
def convening_start(request, pk):
    """ "I will convene": the nurse takes the meeting on (it leaves her colleagues'
    worklists) and goes on to the convening form."""
    meeting, ctx = _load(request, pk)
    try:
        # The service says why not, also when a colleague already took it on.
        services.convening_start(actor=request.user, meeting=meeting, request=request)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(_detail(meeting))
    messages.success(request, _("You convene the meeting. Invite and give the time."))
    return redirect("meeting_invitations", pk=meeting.pk)


def _may_convene(ctx) -> bool:
    return can(ctx, "invitations.change") or can(ctx, "convening.start")


@staff_required
def invitations(request, pk):
    """Convening in one form (who is invited and when), and later changes to who is
    invited. Before the time is fixed one submit invites and sends; once it is fixed,
    whoever is invited gets the invitation at once."""
    meeting, ctx = _load(request, pk, full=True)
    if not _may_convene(ctx):
        return _refuse(request, ctx, "invitations.change")
    proposed = services.proposed_invitees(meeting, exclude_user=request.user)
    convening = meeting.state in (S.CONSENT, S.CONVENING)
    form_class = ConveneForm if convening else InviteForm
    kwargs = {
        "meeting": meeting,
        "proposed": proposed,
        # What is ticked is what gets invited: pre-ticked only the first time, before
        # anyone is invited; later the ones left out stay unticked (and listed as missing).
        "pre_tick": meeting.state == S.CONSENT or not _invited_staff(ctx),
        "exclude_user": request.user,
    }
    if convening:
        existing = sorted(o.starts_at for o in meeting.time_options.all())
        kwargs["initial"] = {
            **{f"option_{i}": value for i, value in enumerate(existing, start=1)},
            "note": meeting.time_agreement_note,
            "duration_minutes": meeting.duration_minutes,
            "location": meeting.location,
        }
    form = form_class(request.POST or None, **kwargs)
    if request.method == "POST" and form.is_valid():
        chosen = [
            services.Invitee(user=user, organisation=organisation, role=role, mode=mode)
            for user, organisation, role, mode in form.chosen()
        ]
        try:
            if convening:
                result = services.meeting_convene(
                    actor=request.user,
                    meeting=meeting,
                    invitees=chosen,
                    times=form.options(),
                    note=form.cleaned_data["note"],
                    duration_minutes=form.cleaned_data["duration_minutes"],
                    location=form.cleaned_data["location"],
                    request=request,
                )
            else:
                result = services.invitees_add(
                    actor=request.user, meeting=meeting, invitees=chosen, request=request
                )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            _say_what_was_sent(request, result)
            if convening:
                return redirect(_detail(meeting))
            return redirect("meeting_invitations", pk=meeting.pk)
    options = list(
        meeting.time_options.annotate(suits_count=Count("votes", filter=Q(votes__suits=True)))
    )
    schedule_form = None
    if len(options) > 1 and can(ctx, "meeting.schedule"):
        schedule_form = ScheduleForm(
            options=meeting.time_options.annotate(
                suits_count=Count("votes", filter=Q(votes__suits=True))
            ),
            initial={"duration_minutes": meeting.duration_minutes, "location": meeting.location},
        )
    consent = ctx.consent
    return render(
        request,
        "meetings/invitations.html",
        {
            "meeting": meeting,
            "ctx": ctx,
            "form": form,
            "convening": convening,
            "participants": ctx.participants,
            "relatives": list(consent.relatives.all()) if consent else [],
            # Roles not invited and not among those proposed below (ticked or not): no one
            # in the care team has them.
            "missing_roles": [
                Role(r).label
                for r in services.missing_standard_roles(meeting)
                if r not in {entry.role for entry in proposed}
            ],
            "options": options,
            "schedule_form": schedule_form,
            "mode_choices": Participant.Mode.choices,
        },
    )


def _invited_staff(ctx) -> list:
    return [p for p in ctx.participants if p.kind == Participant.Kind.STAFF and not p.is_convener]


def _say_what_was_sent(request, result) -> None:
    """A message that says exactly what happened: who was sent an invitation now, and who
    could not be reached."""

    def names(participants):
        return ", ".join(
            p.relative.name if p.relative_id else (p.user.get_full_name() or p.user.username)
            for p in participants
        )

    if result.messaged:
        text = (
            _("The meeting is booked. The invitation with the time goes to: %(names)s.")
            if result.scheduled
            else _("The proposed times go to: %(names)s. Fix the time when they have answered.")
        ) % {"names": names(result.messaged)}
        messages.success(request, text)
    elif result.invited:
        messages.info(request, _("%(names)s invited.") % {"names": names(result.invited)})
    else:
        messages.info(request, _("No new invitation was sent: everyone had already got one."))
    if result.unreachable:
        messages.warning(
            request,
            _("No email address, so no invitation was sent to: %(names)s. Call them.")
            % {"names": names(result.unreachable)},
        )


@staff_required
@require_POST
def participant_mode(request, pk, participant_pk):
    meeting, ctx = _load(request, pk)
    participant = get_object_or_404(
        Participant, pk=participant_pk, meeting=meeting, removed_at=None
    )
    form = ModeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how they attend."))
    else:
        try:
            services.participant_set_mode(
                actor=request.user, participant=participant, mode=form.cleaned_data["mode"]
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Saved."))
    target = "meeting_respond" if request.POST.get("next") == "respond" else "meeting_invitations"
    return redirect(target, pk=meeting.pk)


@staff_required
@require_POST
def participant_remove(request, pk, participant_pk):
    meeting, ctx = _load(request, pk)
    participant = get_object_or_404(Participant, pk=participant_pk, meeting=meeting)
    if refused := _refuse(request, ctx, "invitations.change"):
        return refused
    try:
        services.participant_remove(actor=request.user, participant=participant, request=request)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("%(who)s is no longer invited.") % {"who": participant})
    return redirect("meeting_invitations", pk=meeting.pk)


@staff_required
def schedule(request, pk):
    meeting, ctx = _load(request, pk)
    if refused := _refuse(request, ctx, "meeting.schedule"):
        return refused
    options = meeting.time_options.annotate(suits_count=Count("votes", filter=Q(votes__suits=True)))
    if not options:
        messages.error(request, _("First agree a time with the person and relatives."))
        return redirect("meeting_invitations", pk=meeting.pk)
    form = ScheduleForm(
        request.POST or None,
        options=options,
        initial={"duration_minutes": meeting.duration_minutes, "location": meeting.location},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.meeting_schedule(
                actor=request.user,
                meeting=meeting,
                starts_at=data["option"].starts_at,
                duration_minutes=data["duration_minutes"],
                location=data["location"],
                request=request,
            )
        except DomainError as exc:
            if exc.field == "starts_at":
                form.add_error("option", str(exc.message))
            else:
                apply_domain_error(form, exc)
        else:
            messages.success(
                request, _("The meeting is scheduled and the invitations will be sent.")
            )
            return redirect(_detail(meeting))
    return _form_page(
        request,
        meeting,
        form,
        title=_("Fix the time"),
        intro=_(
            "Pick one of the times agreed with the person. Everyone invited gets the invitation."
        ),
        submit=_("Fix the time and send invitations"),
    )


@staff_required
def reschedule(request, pk):
    meeting, ctx = _load(request, pk)
    if refused := _refuse(request, ctx, "meeting.reschedule"):
        return refused
    form = RescheduleForm(
        request.POST or None,
        initial={
            "starts_at": meeting.starts_at,
            "duration_minutes": meeting.duration_minutes,
            "location": meeting.location,
        },
    )
    if done := submit(
        request,
        form,
        lambda data: services.meeting_reschedule(
            actor=request.user,
            meeting=meeting,
            starts_at=data["starts_at"],
            duration_minutes=data["duration_minutes"],
            location=data["location"],
            request=request,
        ),
        done=_("The new time was saved; everyone invited will be told."),
        to=_detail(meeting),
    ):
        return done
    return _form_page(
        request,
        meeting,
        form,
        title=_("New time"),
        intro=_("Everyone invited is sent the new time and asked to answer again."),
        submit=_("Save the new time"),
    )


@staff_required
def cancel(request, pk):
    meeting, ctx = _load(request, pk)
    if refused := _refuse(request, ctx, "meeting.cancel"):
        return refused
    form = CancelForm(request.POST or None)
    if done := submit(
        request,
        form,
        lambda data: services.meeting_cancel(
            actor=request.user,
            meeting=meeting,
            reason=data["reason"],
            request=request,
        ),
        done=_("The meeting was cancelled; everyone invited will be told."),
        to=_detail(meeting),
        level="warning",
    ):
        return done
    return _form_page(
        request,
        meeting,
        form,
        title=_("Cancel the meeting"),
        intro=_("Everyone already invited is told that the meeting is cancelled, with the reason."),
        submit=_("Cancel the meeting"),
    )


@staff_required
def respond(request, pk):
    meeting, ctx = _load(request, pk)
    if refused := _refuse(request, ctx, "participation.respond"):
        return refused
    participant = ctx.participant
    options = list(meeting.time_options.all()) if meeting.state == S.CONVENING else []
    votes = dict(TimeVote.objects.filter(participant=participant).values_list("option_id", "suits"))
    initial = {"mode": participant.mode}
    if participant.response != Participant.Response.NEEDS_ACTION:
        initial["response"] = participant.response
    form = RespondForm(request.POST or None, options=options, votes=votes, initial=initial)

    def answer(data):
        services.participation_respond(
            actor=request.user,
            participant=participant,
            response=data["response"],
            mode=data["mode"],
        )
        if options:
            services.time_vote(actor=request.user, meeting=meeting, suits=form.suits())

    if done := submit(request, form, answer, done=_("Your answer was saved."), to=_detail(meeting)):
        return done
    return _form_page(
        request,
        meeting,
        form,
        title=_("Your answer"),
        intro=_("Tick the times that suit you.") if options else "",
        submit=_("Send my answer"),
    )


# --- 4. Preparation ---


@staff_required
def preparation(request, pk):
    meeting, ctx = _load(request, pk)
    if refused := _refuse(request, ctx, "preparation.record"):
        return refused
    participant = ctx.participant
    steps = list(participant.preparation_steps.all().order_by("pk"))
    form = PreparationForm(
        request.POST or None, steps=steps, initial={"minutes": participant.preparation_minutes}
    )
    if done := submit(
        request,
        form,
        lambda data: services.preparation_record(
            actor=request.user,
            meeting=meeting,
            done_tasks=data["done"],
            minutes=data["minutes"],
        ),
        done=_("Your preparation was saved."),
        to=_detail(meeting),
    ):
        return done
    return _form_page(
        request,
        meeting,
        form,
        title=_("Preparation"),
        intro=_("The checklist of your role (%(role)s). Record the minutes you spent.")
        % {"role": Role(participant.role).label if participant.role else "–"},
        submit=_("Save"),
    )


@staff_required
def contribution_add(request, pk):
    meeting, ctx = _load(request, pk)
    if refused := _refuse(request, ctx, "contribution.add"):
        return refused
    form = ContributionForm(request.POST or None, person=meeting.person)
    if done := submit(
        request,
        form,
        lambda data: services.contribution_add(
            actor=request.user,
            meeting=meeting,
            author=data["author"],
            relative=data["relative"],
            what_matters=data["what_matters"],
            questions=data["questions"],
            request=request,
        ),
        done=_("Saved. It is shown at the top of the meeting."),
        to=_detail(meeting),
    ):
        return done
    return _form_page(
        request,
        meeting,
        form,
        title=_("What matters to you?"),
        intro=_(
            "The person's and relatives' own words and questions, gathered before the meeting "
            "so no one is asked the same things twice."
        ),
        submit=_("Save"),
    )


# --- 5. The meeting day ---


def _agenda(meeting, notes, conflicts=None, invalid=None):
    conflicts = conflicts or {}
    invalid = invalid or {}
    rows = []
    for item in AgendaItem:
        lead = AGENDA_LEADS[item]
        if lead == Role.PHYSICIAN and meeting.kind == MeetingKind.SMALL:
            lead = Role.NURSE
        note = notes.get(item.value)
        conflict = conflicts.get(item.value)
        form = AgendaNoteForm(
            initial={
                "text": note.text if note else "",
                "base_revision": note.revision if note else 0,
            },
            prefix=f"item{item.value}",
        )
        if conflict is not None:
            form = AgendaNoteForm(
                initial={"text": conflict[0], "base_revision": conflict[1].revision},
                prefix=f"item{item.value}",
            )
        if item.value in invalid:
            form = invalid[item.value]
        rows.append(
            {
                "item": item,
                "lead": Role(lead).label if lead else _("Everyone"),
                "hint": AGENDA_HINTS[item],
                "note": note,
                "form": form,
                "conflict": conflict[1] if conflict else None,
            }
        )
    return rows


# What the meeting-day page offers.
DAY_ACTIONS = (
    "notes.edit", "private_topic.add", "decision.edit", "agreement.add", "decisions.confirm",
    "meeting.mark_held",
)  # fmt: skip


def _render_day(request, meeting, ctx, *, conflicts=None, invalid=None, status=200):
    actions = allowed_actions(ctx, among=DAY_ACTIONS)
    participants = ctx.participants if ctx.participants_full else active_participants(meeting)
    present = parts_present(meeting, DAY_PARTS)
    notes = (
        {n.item: n for n in meeting.agenda_notes.select_related("updated_by")}
        if "agenda_notes" in present
        else {}
    )
    decisions = _decisions(meeting, present)
    confirmations = _confirmations(meeting, present)
    acting = _acting_orgs(ctx)
    acting_ids = {o.pk for o in acting}
    parts = _visible_parts(
        ctx,
        participants=participants,
        decisions=decisions,
        agreements=_agreements(meeting, present),
        contributions=_contributions(meeting, present),
    )
    by_org = _decisions_by_org(parts.decisions, confirmations, parts.participants)
    for row in by_org:
        row["mine"] = row["organisation"].pk in acting_ids and "decision.edit" in actions
    can_edit_notes = "notes.edit" in actions
    return render(
        request,
        "meetings/meeting_day.html",
        {
            "meeting": meeting,
            "ctx": ctx,
            "actions": actions,
            # The shared notes are not shown once consent to share was withdrawn.
            "agenda": [] if ctx.own_parts_only else _agenda(meeting, notes, conflicts, invalid),
            "own_parts_only": ctx.own_parts_only,
            "can_edit_notes": can_edit_notes,
            "participants": parts.participants,
            "attendance_form": AttendanceForm(
                participants=participants, meeting=meeting, auto_id="att-%s"
            )
            if can_edit_notes
            else None,
            "contributions": parts.contributions,
            "private_topics": _private_topics(ctx, present),
            "private_form": PrivateTopicForm(
                organisations=_care_orgs(ctx.user), auto_id="private-%s"
            )
            if "private_topic.add" in actions
            else None,
            "by_org": by_org,
            "decision_form": DecisionForm(
                organisations=acting,
                meeting=meeting,
                user_ids=[ctx.user.pk],
                auto_id="decision-%s",
                initial={"responsible": ctx.user.pk},
            )
            if acting and "decision.edit" in actions
            else None,
            "agreements": parts.agreements,
            "agreement_form": AgreementForm(auto_id="agreement-%s")
            if "agreement.add" in actions
            else None,
            "show_address": ctx.participant is not None,
        },
        status=status,
    )


@staff_required
def meeting_day(request, pk):
    # With the participants as the page lists them (read once for the rule and the page).
    meeting, ctx = _load(request, pk, full=True)
    if meeting.state not in (S.SCHEDULED, S.HELD, S.CLOSED):
        messages.info(request, _("The meeting page opens when the meeting is scheduled."))
        return redirect(_detail(meeting))
    return _render_day(request, meeting, ctx)


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@staff_required
@require_POST
def note_save(request, pk, item):
    meeting, ctx = _load(request, pk)
    as_json = _wants_json(request)
    form = AgendaNoteForm(request.POST, prefix=f"item{item}")
    if item not in AgendaItem.values:
        raise Http404
    if not form.is_valid():
        problem = " ".join(form.errors.get("text", [])) or _("The notes could not be read.")
        if as_json:
            # Refused as invalid: the page does not send it again until it is changed.
            return JsonResponse({"ok": False, "invalid": True, "message": problem}, status=400)
        messages.error(request, problem)
        # The text typed stays in the field (nothing is lost), with the reason.
        return _render_day(request, meeting, ctx, invalid={item: form}, status=400)
    text = form.cleaned_data["text"]
    try:
        note = services.agenda_note_save(
            actor=request.user,
            meeting=meeting,
            item=item,
            text=text,
            base_revision=form.cleaned_data["base_revision"],
        )
    except services.NoteConflict as exc:
        if as_json:
            return JsonResponse(
                {
                    "ok": False,
                    "conflict": True,
                    "message": str(exc.message),
                    "text": exc.current.text,
                    "revision": exc.current.revision,
                },
                status=409,
            )
        messages.error(request, str(exc.message))
        return _render_day(request, meeting, ctx, conflicts={item: (text, exc.current)}, status=409)
    except DomainError as exc:
        if as_json:
            return JsonResponse({"ok": False, "message": str(exc.message)}, status=403)
        messages.error(request, str(exc.message))
        return redirect(_day(meeting, f"item-{item}"))
    if as_json:
        return JsonResponse(
            {
                "ok": True,
                "revision": note.revision,
                "saved_at": timezone.localtime(note.updated_at).strftime("%H:%M:%S"),
            }
        )
    messages.success(request, _("The notes were saved."))
    return redirect(_day(meeting, f"item-{item}"))


@staff_required
@require_POST
def attendance(request, pk):
    meeting, ctx = _load(request, pk)
    if refused := _refuse(request, ctx, "notes.edit"):
        return refused
    participants = active_participants(meeting)
    form = AttendanceForm(request.POST, participants=participants)
    if done := submit(
        request,
        form,
        lambda data: services.attendance_record(
            actor=request.user,
            meeting=meeting,
            attendance=form.attendance(),
            absences=form.absences(),
            actual_start=data["actual_start"],
            actual_end=data["actual_end"],
        ),
        done=_("Attendance was saved."),
        to=_day(meeting, "attendance"),
    ):
        return done
    return render(
        request,
        "meetings/attendance_form.html",
        {"meeting": meeting, "form": form},
        status=400,
    )


@staff_required
def private_topic_add(request, pk):
    meeting, ctx = _load(request, pk)
    if refused := _refuse(request, ctx, "private_topic.add"):
        return refused
    orgs = _care_orgs(request.user)
    form = PrivateTopicForm(request.POST or None, organisations=orgs)
    if done := submit(
        request,
        form,
        lambda data: services.private_topic_add(
            actor=request.user,
            meeting=meeting,
            organisation=data["organisation"],
            raised_by=data["raised_by"],
            text=data["text"],
        ),
        done=_("The topic was noted for your organisation only."),
        to=_day(meeting, "private"),
    ):
        return done
    return _form_page(
        request,
        meeting,
        form,
        title=_("A topic outside the group"),
        intro=_(
            "Something the person or a relative wants to take up outside the group. It is kept "
            "out of the shared notes and seen only by your organisation."
        ),
        submit=_("Save"),
        cancel=_day(meeting),
    )


# --- 6. Decisions and agreements ---


@staff_required
def decision_edit(request, pk, decision_pk=None):
    meeting, ctx = _load(request, pk)
    decision = None
    if decision_pk is not None:
        decision = get_object_or_404(
            Decision.objects.select_related("organisation"), pk=decision_pk, meeting=meeting
        )
        if refused := _refuse(
            request,
            ctx,
            "decision.edit",
            organisation_id=decision.organisation_id,
            to=_day(meeting, "decisions"),
        ):
            return refused
        organisations = [decision.organisation]
        initial = {
            "organisation": decision.organisation_id,
            "category": decision.category,
            "description": decision.description,
            "responsible": decision.responsible_id,
            "due_date": decision.due_date,
            "person_answer": decision.person_answer,
        }
    else:
        organisations = _acting_orgs(ctx)
        if not organisations:
            return _refuse(request, ctx, "decision.edit", organisation_id=None) or redirect(
                _detail(meeting)
            )
        if refused := _refuse(request, ctx, "decision.edit", organisation_id=organisations[0].pk):
            return refused
        initial = {"responsible": request.user.pk}
    form = DecisionForm(
        request.POST or None,
        organisations=organisations,
        meeting=meeting,
        user_ids=[request.user.pk, initial["responsible"]],
        initial=initial,
    )
    if done := submit(
        request,
        form,
        lambda data: services.decision_save(
            actor=request.user,
            meeting=meeting,
            organisation=data["organisation"],
            category=data["category"],
            description=data["description"],
            responsible=data["responsible"],
            due_date=data["due_date"],
            person_answer=data["person_answer"],
            decision=decision,
            request=request,
        ),
        done=_("The decision was saved."),
        to=_day(meeting, "decisions"),
    ):
        return done
    return _form_page(
        request,
        meeting,
        form,
        title=_("Change the decision") if decision else _("New decision"),
        intro=_("Each organisation enters its own decisions."),
        submit=_("Save the decision"),
        cancel=_day(meeting, "decisions"),
    )


@staff_required
def agreement_add(request, pk):
    meeting, ctx = _load(request, pk)
    if refused := _refuse(request, ctx, "agreement.add"):
        return refused
    form = AgreementForm(request.POST or None)
    if done := submit(
        request,
        form,
        lambda data: services.agreement_add(
            actor=request.user,
            meeting=meeting,
            kind=data["kind"],
            text=data["text"],
            situation=data["situation"],
            contact=data["contact"],
            organisation=ctx.participant.organisation if ctx.participant else None,
        ),
        done=_("The agreement was saved."),
        to=_day(meeting, "agreements"),
    ):
        return done
    return _form_page(
        request,
        meeting,
        form,
        title=_("Agreement about care"),
        intro=_(
            "Goal of care, what to do in acute deterioration, and contingencies: "
            "if this happens, contact whom."
        ),
        submit=_("Save the agreement"),
        cancel=_day(meeting, "agreements"),
    )


@staff_required
@require_POST
def decisions_confirm(request, pk):
    meeting, ctx = _load(request, pk)
    try:
        organisation_id = int(request.POST.get("organisation", ""))
    except ValueError:
        organisation_id = None
    if refused := _refuse(
        request,
        ctx,
        "decisions.confirm",
        organisation_id=organisation_id,
        to=_day(meeting, "summary"),
    ):
        return refused
    organisation = get_object_or_404(Organisation, pk=organisation_id)
    try:
        services.decisions_confirm(actor=request.user, meeting=meeting, organisation=organisation)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request, _("%(org)s has confirmed its decisions.") % {"org": organisation.name}
        )
    return redirect(_day(meeting, "summary"))


# --- 7. Held and closed ---


@staff_required
def mark_held(request, pk):
    meeting, ctx = _load(request, pk)
    if refused := _refuse(request, ctx, "meeting.mark_held"):
        return refused
    initial = {}
    start = meeting.actual_start or meeting.starts_at
    if start and start <= timezone.now():
        initial = {
            "actual_start": start,
            "actual_end": meeting.actual_end
            or start + dt.timedelta(minutes=meeting.duration_minutes),
        }
    form = MarkHeldForm(request.POST or None, initial=initial)
    if done := submit(
        request,
        form,
        lambda data: services.meeting_mark_held(
            actor=request.user,
            meeting=meeting,
            actual_start=data["actual_start"],
            actual_end=data["actual_end"],
            request=request,
        ),
        done=_("The meeting is marked as held. Record the minutes per participant."),
        to=reverse("meeting_minutes", kwargs={"pk": meeting.pk}),
    ):
        return done
    return _form_page(
        request,
        meeting,
        form,
        title=_("Mark as held"),
        intro=_("When did the meeting actually start and end?"),
        submit=_("Mark as held"),
    )


@staff_required
def minutes(request, pk):
    """Everyone's minutes in one form (the convener's; anyone else sees only their own row
    as a field). Someone who took part by video or phone has no travel field."""
    meeting, ctx = _load(request, pk)
    if refused := _refuse(request, ctx, "minutes.record"):
        return refused
    staff = [p for p in active_participants(meeting) if p.kind == Participant.Kind.STAFF]
    editable = [p for p in staff if ctx.is_convener or p.user_id == request.user.pk]
    form = MinutesForm(request.POST or None, participants=editable)
    if done := submit(
        request,
        form,
        lambda data: services.minutes_record_all(
            actor=request.user, meeting=meeting, minutes=form.minutes()
        ),
        done=_("The minutes were saved."),
        to=reverse("meeting_minutes", kwargs={"pk": meeting.pk}),
    ):
        return done
    return render(
        request,
        "meetings/minutes.html",
        {
            "meeting": meeting,
            "form": form,
            "rows": form.rows(staff),
            "can_close": can(ctx, "meeting.close"),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@staff_required
@require_POST
def close(request, pk):
    meeting, ctx = _load(request, pk)
    if refused := _refuse(request, ctx, "meeting.close"):
        return refused
    try:
        services.meeting_close(actor=request.user, meeting=meeting, request=request)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The meeting is closed. Follow-up continues per organisation."))
    return redirect(_detail(meeting))
