import csv
import datetime as dt
import json
from base64 import b32encode
from binascii import unhexlify
from urllib.parse import urlencode

import django_otp
import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from vom.errors import DomainError, apply_domain_error, submit
from vom.textsafety import neutralise

from . import audit, services
from .extract import person_extract, person_extract_sections
from .forms import (
    AccessLogFilterForm,
    CareTeamEntryForm,
    PersonForm,
    RelativeForm,
    ReviewNoteForm,
    ReviewStartForm,
    SecondFactorForm,
    StaffForm,
    TokenForm,
)
from .models import AccessLog, CareTeamEntry, Membership, Organisation, Relative, Role
from .pdf import pdf_static_url, render_pdf
from .selectors import (
    access_log_extract_rows,
    active_memberships,
    admin_organisations,
    eligibility,
    get_admin_organisation,
    get_person_and_team_for_user,
    get_person_for_user,
    get_review_for_admin,
    get_served_person_for_admin,
    has_confirmed_device,
    is_staff_member,
    membership_for_person,
    review_sample_rows,
    reviews_for_organisation,
    search_access_log,
    search_persons,
    second_factor_required,
    show_listed_persons,
)


def staff_required(view):
    """Signed-in staff with at least one active membership; anyone else gets 404."""

    @login_required
    def wrapped(request, *args, **kwargs):
        if not is_staff_member(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@login_required
def home(request):
    if not is_staff_member(request.user) and hasattr(request.user, "relative"):
        # Relatives have their own area; the staff start page is not for them.
        return redirect("relatives_home")
    if start := _start_page_without_care_role(request.user):
        return redirect(start)
    # PostgreSQL refuses NUL in a string literal; in a search it can only be noise.
    query = request.GET.get("q", "")[:100].replace("\x00", "")
    everyone = request.GET.get("all") == "1"
    persons = search_persons(request.user, query, everyone=everyone)
    page = Paginator(persons, 25).get_page(request.GET.get("page"))
    from meetings.worklist import start_page_worklist

    waiting = start_page_worklist(request.user)
    # The persons listed and the worklist's meetings: one access-log row each, written
    # together (one round trip and one commit for the page).
    audit.log_lists(
        request,
        [
            (
                AccessLog.ListName.SEARCH
                if query
                else AccessLog.ListName.SERVED
                if everyone
                else AccessLog.ListName.CASELOAD,
                [person.pk for person in page.object_list],
                "participants.person",
            ),
            (
                AccessLog.ListName.WORKLIST,
                [item.meeting.person_id for item in waiting.get("items", ())],
                "meetings.meeting",
            ),
        ],
    )
    return render(
        request,
        "participants/home.html",
        {
            "page": page,
            "query": query,
            "everyone": everyone,
            "has_care_role": bool(_care_memberships(request.user)),
            "worklist": waiting,
        },
    )


def _start_page_without_care_role(user) -> str | None:
    """Someone with no care role sees no person (need-to-know): a manager's or the steering
    group's start page is their reports, an organisation administrator's the staff list."""
    memberships = active_memberships(user)
    if not memberships or _care_memberships(user):
        return None
    roles = {m.role for m in memberships}
    if roles & {Role.MANAGER, Role.STEERING_GROUP}:
        return reverse("reports:dashboard")
    admin = next((m.organisation for m in memberships if m.role == Role.ORG_ADMIN), None)
    return reverse("staff_list", args=[admin.pk]) if admin else None


def _care_memberships(user):
    from .selectors import CARE_ROLES

    return [m for m in active_memberships(user) if m.role in CARE_ROLES]


@staff_required
def person_detail(request, pk):
    person, team = get_person_and_team_for_user(request.user, pk, request=request)
    audit.log_access(
        request,
        person=person,
        action=AccessLog.Action.VIEW,
        obj=person,
        membership=membership_for_person(
            request.user, person, team_org_ids={entry.organisation_id for entry in team}
        ),
    )
    return render(
        request,
        "participants/person_detail.html",
        {
            "person": person,
            "team": team,
            "eligibility": eligibility(person, team),
            "relatives": list(person.relatives.all()),
            "history": list(audit.history_for(person)[:20]),
        },
    )


@staff_required
def person_create(request):
    organisations = [m.organisation for m in _care_memberships(request.user)]
    if not organisations:
        raise Http404
    organisations = list({o.pk: o for o in organisations}.values())
    form = PersonForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        try:
            person, created = services.person_create(
                actor=request.user,
                organisation=form.cleaned_data["organisation"],
                data=form.service_data(),
                request=request,
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            if created:
                messages.success(request, _("The person was registered."))
            else:
                messages.info(
                    request,
                    _(
                        "This person was already registered. Your organisation was added to "
                        "the care team."
                    ),
                )
            return redirect("person_detail", pk=person.pk)
    return render(request, "participants/person_form.html", {"form": form})


@staff_required
def person_edit(request, pk):
    person = get_person_for_user(request.user, pk, request=request)
    form = PersonForm(request.POST or None, instance=person)
    if done := submit(
        request,
        form,
        lambda data: services.person_update(
            actor=request.user, person=person, data=form.service_data(), request=request
        ),
        done=_("The changes were saved."),
        to=reverse("person_detail", kwargs={"pk": person.pk}),
    ):
        return done
    return render(request, "participants/person_form.html", {"form": form, "person": person})


@staff_required
def relative_edit(request, pk, relative_pk=None):
    person = get_person_for_user(request.user, pk, request=request)
    relative = get_object_or_404(Relative, pk=relative_pk, person=person) if relative_pk else None
    form = RelativeForm(request.POST or None, instance=relative)
    if request.method == "POST" and form.is_valid():
        services.relative_save(
            actor=request.user,
            person=person,
            relative=relative,
            data=form.cleaned_data,
            request=request,
        )
        messages.success(request, _("The relative was saved."))
        return redirect("person_detail", pk=person.pk)
    return render(
        request,
        "participants/relative_form.html",
        {"form": form, "person": person, "relative": relative},
    )


@staff_required
def care_team_add(request, pk):
    person = get_person_for_user(request.user, pk, request=request)
    form = CareTeamEntryForm(request.POST or None)
    if done := submit(
        request,
        form,
        lambda data: services.care_team_add(
            actor=request.user,
            person=person,
            request=request,
            **{
                key: data[key]
                for key in ("organisation", "member", "role", "start_date", "end_date")
            },
        ),
        done=_("The care team was updated."),
        to=reverse("person_detail", kwargs={"pk": person.pk}),
    ):
        return done
    return render(request, "participants/care_team_form.html", {"form": form, "person": person})


@staff_required
@require_POST
def care_team_end(request, pk, entry_pk):
    person = get_person_for_user(request.user, pk, request=request)
    entry = get_object_or_404(CareTeamEntry, pk=entry_pk, person=person)
    try:
        services.care_team_end(actor=request.user, entry=entry, request=request)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The care team was updated."))
    return redirect("person_detail", pk=person.pk)


# --- Organisation administration: own organisation's staff only ---


def _admin_organisation(request, org_pk) -> Organisation:
    for organisation in admin_organisations(request.user):
        if organisation.pk == int(org_pk):
            return organisation
    raise Http404


@staff_required
def staff_list(request, org_pk):
    organisation = _admin_organisation(request, org_pk)
    memberships = list(
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("-is_active", "user__last_name", "user__first_name", "role")
    )
    # Whether each new account's link to choose a password went out (the outbox).
    from meetings.models import OutboxMessage

    welcome = {
        m.recipient_user_id: m
        for m in OutboxMessage.objects.filter(
            kind=OutboxMessage.Kind.ACCOUNT_WELCOME,
            recipient_user_id__in=[m.user_id for m in memberships],
        ).only("pk", "status", "sent_at", "recipient_user_id", "last_error")
    }
    for membership in memberships:
        membership.welcome = welcome.get(membership.user_id)
    # An organisation connected to an identity provider: its staff sign in there, not here.
    from sso.models import ConnectedOrganisation

    link = (
        ConnectedOrganisation.objects.filter(organisation=organisation, provider__is_active=True)
        .select_related("provider")
        .first()
    )
    return render(
        request,
        "participants/staff_list.html",
        {
            "organisation": organisation,
            "memberships": memberships,
            "provider": link.provider if link else None,
        },
    )


@staff_required
def staff_create(request, org_pk):
    organisation = _admin_organisation(request, org_pk)
    form = StaffForm(request.POST or None)
    if done := submit(
        request,
        form,
        lambda data: services.staff_create(
            actor=request.user, organisation=organisation, request=request, **form.cleaned_data
        ),
        done=_(
            "The staff member was added. A new account is sent a link to choose a "
            "password; the list shows when it has gone out."
        ),
        to=reverse("staff_list", kwargs={"org_pk": organisation.pk}),
    ):
        return done
    return render(
        request, "participants/staff_form.html", {"form": form, "organisation": organisation}
    )


@staff_required
def staff_edit(request, org_pk, membership_pk):
    organisation = _admin_organisation(request, org_pk)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_pk, organisation=organisation
    )
    initial = {
        "first_name": membership.user.first_name,
        "last_name": membership.user.last_name,
        "email": membership.user.email,
        "role": membership.role,
        "title": membership.title,
        "direct_phone": membership.direct_phone,
    }
    form = StaffForm(request.POST or None, initial=initial, editing=True)
    if done := submit(
        request,
        form,
        lambda data: services.staff_update(
            actor=request.user, membership=membership, data=form.cleaned_data
        ),
        done=_("The changes were saved."),
        to=reverse("staff_list", kwargs={"org_pk": organisation.pk}),
    ):
        return done
    return render(
        request,
        "participants/staff_form.html",
        {"form": form, "organisation": organisation, "membership": membership},
    )


@staff_required
@require_POST
def staff_set_active(request, org_pk, membership_pk):
    organisation = _admin_organisation(request, org_pk)
    membership = get_object_or_404(Membership, pk=membership_pk, organisation=organisation)
    try:
        if request.POST.get("active") == "1":
            services.staff_reactivate(actor=request.user, membership=membership)
            messages.success(request, _("The staff member was reactivated."))
        else:
            services.staff_deactivate(actor=request.user, membership=membership)
            messages.success(request, _("The staff member was deactivated."))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect("staff_list", org_pk=organisation.pk)


@staff_required
@require_POST
def staff_totp_reset(request, org_pk, membership_pk):
    organisation = _admin_organisation(request, org_pk)
    membership = get_object_or_404(Membership, pk=membership_pk, organisation=organisation)
    if services.totp_reset(actor=request.user, membership=membership):
        messages.success(
            request,
            _("The second factor was removed. They set up a new one at their next sign-in."),
        )
    else:
        messages.info(request, _("This staff member has no second factor."))
    return redirect("staff_list", org_pk=organisation.pk)


# --- Second factor (TOTP). Enforced in vom.middleware.SecondFactorMiddleware. ---

OTP_SETUP_KEY = "otp_setup_key"


def _next_url(request) -> str:
    target = request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


def _with_next(request, name: str) -> str:
    target = request.GET.get("next")
    url = reverse(name)
    if target:
        url += "?" + urlencode({"next": target})
    return url


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    svg = image.to_string(encoding="unicode")
    svg = svg[svg.index("<svg") :]  # drop the XML declaration: it is inline in HTML
    label = _("QR code for the authenticator app")
    return svg.replace("<svg ", f'<svg class="otp-qr" role="img" aria-label="{label}" ', 1)


@login_required
def otp_setup(request):
    user = request.user
    if has_confirmed_device(user) and not user.is_verified():
        # Only someone who has passed the current second factor may replace it.
        return redirect(_with_next(request, "otp_verify"))
    key = request.session.get(OTP_SETUP_KEY)
    if not key:
        key = request.session[OTP_SETUP_KEY] = random_hex(20)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.totp_device_confirm(
                user=user, key=key, token=form.cleaned_data["token"]
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            del request.session[OTP_SETUP_KEY]
            django_otp.login(request, device)
            messages.success(request, _("The authenticator app is set up."))
            return _show_backup_codes(request, services.backup_codes_issue(user=user))
    uri = TOTPDevice(user=user, key=key).config_url
    secret = b32encode(unhexlify(key)).decode()
    return render(
        request,
        "registration/otp_setup.html",
        {
            "form": form,
            "qr_svg": mark_safe(_qr_svg(uri)),  # noqa: S308 - built by qrcode from our own URI
            "otp_uri": uri,
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
            "replacing": has_confirmed_device(user),
            "required": second_factor_required(user),
        },
    )


@login_required
def otp_verify(request):
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if not has_confirmed_device(user):
        return redirect(_with_next(request, "otp_setup"))
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.totp_verify(user=user, token=form.cleaned_data["token"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            django_otp.login(request, device)
            if isinstance(device, StaticDevice):
                _warn_backup_codes_left(request, services.backup_codes_left(user))
            return redirect(_next_url(request))
    return render(request, "registration/otp_verify.html", {"form": form})


def _warn_backup_codes_left(request, left: int) -> None:
    text = ngettext(
        "You signed in with a backup code. You have %(count)d backup code left.",
        "You signed in with a backup code. You have %(count)d backup codes left.",
        left,
    ) % {"count": left}
    if left <= services.BACKUP_CODE_LOW:
        text += " " + _("Make new backup codes, and set up the app again if the phone is lost.")
    messages.warning(request, text)


def _show_backup_codes(request, codes: list[str]):
    """The one page that shows the codes: rendered in the answer to the POST that made them
    (nothing keeps them for a later page), with no caching by the browser."""
    response = render(
        request,
        "registration/otp_backup_codes.html",
        {"codes": [f"{c[:4]} {c[4:]}" for c in codes], "next_url": _next_url(request)},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
def otp_backup_codes(request):
    """Backup codes for a lost phone: how many are left, and new ones on request."""
    user = request.user
    if not has_confirmed_device(user):
        return redirect(_with_next(request, "otp_setup"))
    if not user.is_verified():
        return redirect(_with_next(request, "otp_verify"))
    if request.method == "POST":
        return _show_backup_codes(request, services.backup_codes_issue(user=user))
    return render(
        request,
        "registration/otp_backup_codes.html",
        {"left": services.backup_codes_left(user), "count": services.BACKUP_CODE_COUNT},
    )


# --- Access log review: organisation admins ---

ACCESS_LOG_PAGE_SIZE = 50


def _admin_membership(request, organisation) -> Membership:
    return next(
        m
        for m in active_memberships(request.user)
        if m.organisation_id == organisation.pk and m.role == Role.ORG_ADMIN
    )


@staff_required
def access_log(request, org_pk):
    organisation = get_admin_organisation(request.user, org_pk)
    form = AccessLogFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = search_access_log(organisation, **filters)
    page = Paginator(rows, ACCESS_LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    audit.log_list(
        request,
        person_ids=show_listed_persons(organisation, page.object_list),
        list_name=AccessLog.ListName.ACCESS_LOG,
        membership=_admin_membership(request, organisation),
        object_type="participants.accesslog",
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "participants/access_log.html",
        {
            "organisation": organisation,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "review_form": ReviewStartForm(
                initial={
                    "period_start": timezone.localdate() - dt.timedelta(days=30),
                    "period_end": timezone.localdate(),
                }
            ),
            "reviews": list(reviews_for_organisation(organisation)[:10]),
        },
    )


@staff_required
@require_POST
def access_review_start(request, org_pk):
    organisation = get_admin_organisation(request.user, org_pk)
    form = ReviewStartForm(request.POST)
    if form.is_valid():
        try:
            review = services.access_review_start(
                reviewer=request.user, organisation=organisation, **form.cleaned_data
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            return redirect("access_review", org_pk=organisation.pk, review_pk=review.pk)
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("access_log", org_pk=organisation.pk)


@staff_required
def access_review(request, org_pk, review_pk):
    organisation = get_admin_organisation(request.user, org_pk)
    review = get_review_for_admin(organisation, review_pk)
    form = ReviewNoteForm(request.POST or None) if not review.is_completed else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            services.access_review_complete(
                reviewer=request.user, review=review, note=form.cleaned_data["note"]
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The review was saved."))
            return redirect("access_review", org_pk=organisation.pk, review_pk=review.pk)
    rows = review_sample_rows(review)
    audit.log_list(
        request,
        person_ids=show_listed_persons(organisation, rows),
        list_name=AccessLog.ListName.REVIEW_SAMPLE,
        membership=_admin_membership(request, organisation),
        object_type="participants.accesslog",
    )
    return render(
        request,
        "participants/access_review.html",
        {"organisation": organisation, "review": review, "rows": rows, "form": form},
    )


@staff_required
def access_log_person(request, org_pk, person_pk):
    """The log extract a person can be given: which organisation looked at their data, when."""
    organisation = get_admin_organisation(request.user, org_pk)
    person = get_served_person_for_admin(organisation, person_pk)
    audit.log_access(
        request,
        person=person,
        action=AccessLog.Action.VIEW,
        membership=_admin_membership(request, organisation),
        object_type="participants.accesslog",
    )
    days = (
        access_log_extract_rows(person)
        .annotate(day=TruncDate("at"))
        .values("day", "organisation__name", "role", "action", "outcome")
        .annotate(count=Count("pk"))
        .order_by("-day", "organisation__name", "role", "action", "outcome")
    )
    page = Paginator(days, 100).get_page(request.GET.get("page"))
    roles, actions = dict(Role.choices), dict(AccessLog.Action.choices)
    roles["system"] = _("Record system")
    for group in page.object_list:
        group["role_label"] = roles.get(group["role"], group["role"])
        group["action_label"] = actions.get(group["action"], group["action"])
    return render(
        request,
        "participants/access_log_person.html",
        {"organisation": organisation, "person": person, "page": page},
    )


def csv_cell(value) -> str:
    """A cell a spreadsheet shows as text, never a formula (vom.textsafety.neutralise)."""
    return neutralise("" if value is None else str(value))


class _Echo:
    def write(self, value):
        return value


@staff_required
def access_log_person_csv(request, org_pk, person_pk):
    organisation = get_admin_organisation(request.user, org_pk)
    person = get_served_person_for_admin(organisation, person_pk)
    audit.log_access(
        request,
        person=person,
        action=AccessLog.Action.EXPORT,
        membership=_admin_membership(request, organisation),
        object_type="participants.accesslog",
    )
    roles, actions = dict(Role.choices), dict(AccessLog.Action.choices)
    outcomes = dict(AccessLog.Outcome.choices)
    header = [_("Time"), _("Organisation"), _("Role"), _("Action"), _("Outcome")]
    rows = access_log_extract_rows(person).iterator(chunk_size=2000)

    def lines():
        # Semicolons and a byte-order mark: what a spreadsheet with Swedish settings expects.
        writer = csv.writer(_Echo(), delimiter=";")
        yield "\ufeff" + writer.writerow(header)
        for row in rows:
            yield writer.writerow(
                [
                    csv_cell(timezone.localtime(row.at).strftime("%Y-%m-%d %H:%M:%S")),
                    csv_cell(row.organisation.name if row.organisation else ""),
                    csv_cell(roles.get(row.role, row.role)),
                    csv_cell(actions.get(row.action, row.action)),
                    csv_cell(outcomes.get(row.outcome, row.outcome)),
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    filename = f"logguttdrag-{person.pk}-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Register extract (GDPR art. 15): staff with access to the person ---


@staff_required
def person_extract_page(request, pk):
    person = get_person_for_user(request.user, pk, request=request)
    sections = person_extract_sections(person, viewer=request.user)
    audit.log_access(request, person=person, action=AccessLog.Action.VIEW, obj=person)
    return render(
        request,
        "participants/person_extract.html",
        {"person": person, "sections": sections, "generated_at": timezone.now()},
    )


@staff_required
def person_extract_json(request, pk):
    person = get_person_for_user(request.user, pk, request=request)
    audit.log_access(request, person=person, action=AccessLog.Action.EXPORT, obj=person)
    data = person_extract(person, viewer=request.user)
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = f"registerutdrag-{person.pk}-{timezone.localdate():%Y%m%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@staff_required
def person_extract_pdf(request, pk):
    person = get_person_for_user(request.user, pk, request=request)
    audit.log_access(request, person=person, action=AccessLog.Action.PRINT, obj=person)
    html = render_to_string(
        "participants/person_extract_pdf.html",
        {
            "person": person,
            "sections": person_extract_sections(person, viewer=request.user),
            "generated_at": timezone.now(),
            "stylesheet_url": pdf_static_url("participants/extract-pdf.css"),
        },
        request=request,
    )
    response = HttpResponse(render_pdf(html), content_type="application/pdf")
    filename = f"registerutdrag-{person.pk}-{timezone.localdate():%Y%m%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
