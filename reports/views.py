import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from participants import audit
from participants.models import AccessLog, Role
from participants.selectors import active_memberships
from vom import dblimits, replica
from vom.errors import submit

from . import charts, exports, figures, selectors, services, tallies
from .costs import CostModel
from .forms import CostSettingsForm, ReportFilterForm, rate_field_names
from .labels import summary_groups
from .models import COSTED_ROLES
from .suppression import suppress

# "excel-csv" is the CSV Excel opens in the reader's language (in Swedish: semicolons and
# decimal commas); "csv" the plain RFC 4180 one for programs.
EXPORT_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "excel-csv": "text/csv; charset=utf-8",
    "xlsx": exports.XLSX_TYPE,
}


def _filter(request):
    return _filter_from(request, request.GET)


def _filter_from(request, params):
    """The scope (404 when not allowed), the filter form and the period, or None when the
    form has errors."""
    scope = selectors.report_scope(request.user, params.get("organisation"))
    default = figures.Period.last_months(12)
    data = params.copy()
    data.setdefault("date_from", default.start.isoformat())
    data.setdefault("date_to", default.end.isoformat())
    data["organisation"] = str(scope.organisation.pk) if scope.organisation else ""
    form = ReportFilterForm(
        data,
        organisations=selectors.organisation_choices(request.user),
        allow_all=selectors.is_steering_group(request.user),
    )
    period = form.period if form.is_valid() else None
    return scope, form, period


def _report(scope, period):
    report = figures.compute(period, scope.organisation, persons=scope.suppressed)
    return suppress(report) if scope.suppressed else report


@login_required
def dashboard(request):
    scope, form, period = _filter(request)
    context = {
        "form": form,
        "scope": scope,
        "may_edit_rates": scope.organisation is not None
        and scope.organisation in selectors.managed_organisations(request.user),
    }
    report = None
    if period is not None:
        with replica.report_reads() as reads:
            report = _report(scope, period)
            context["waiting_since"] = tallies.behind()
        context["reads"] = reads
    if report is not None:
        query = request.GET.copy()
        query["organisation"] = str(scope.organisation.pk) if scope.organisation else ""
        query["date_from"], query["date_to"] = period.start.isoformat(), period.end.isoformat()
        context.update(
            report=report,
            summary_groups=summary_groups(report),
            charts=charts.charts_for(report),
            query=query.urlencode(),
        )
    return render(request, "reports/dashboard.html", context)


@login_required
@require_POST
def refresh(request):
    """Bring the figures of the chosen period up to date now (instead of within the next
    fold), then show them again."""
    scope, _form, period = _filter_from(request, request.POST)
    if period is not None:
        tallies.refresh(period)
        messages.success(request, _("The figures are up to date."))
    query = {
        "organisation": str(scope.organisation.pk) if scope.organisation else "",
        "date_from": request.POST.get("date_from", ""),
        "date_to": request.POST.get("date_to", ""),
    }
    return redirect(f"{reverse('reports:dashboard')}?{urlencode(query)}")


def _log_export(request, scope, what: str):
    membership = next(
        (
            m
            for m in active_memberships(request.user)
            if scope.organisation is not None
            and m.organisation_id == scope.organisation.pk
            and m.role in selectors.REPORT_ROLES
        ),
        None,
    )
    audit.log_access(
        request,
        person=None,
        action=AccessLog.Action.EXPORT,
        membership=membership,
        object_type=f"reports.{what}",
    )


@login_required
def export(request, what: str, fmt: str):
    if fmt not in EXPORT_FORMATS or what not in ("figures", "meetings"):
        raise Http404
    scope, _form, period = _filter(request)
    if period is None:
        messages.error(request, _("Correct the period before exporting."))
        return redirect(f"{reverse('reports:dashboard')}?{request.GET.urlencode()}")
    if what == "meetings" and (not scope.rows_allowed or scope.organisation is None):
        raise Http404
    reads = replica.choose()
    if what == "meetings":
        meetings = selectors.meetings_for_export(scope.organisation, period)
        if fmt == "xlsx":
            stream = exports.meetings_xlsx(meetings, scope.organisation)
        else:
            stream = exports.meetings_csv(meetings, scope.organisation, _dialect(request, fmt))
    else:
        with replica.report_reads(reads):
            report = _report(scope, period)
        if fmt == "xlsx":
            stream = exports.figures_xlsx(report)
        else:
            stream = exports.figures_csv(report, _dialect(request, fmt))
    _log_export(request, scope, what)  # a write: on the primary
    # The meetings are read as the file streams, after this view returned.
    stream = replica.streamed(stream, reads)
    # 200,000 meetings stream for minutes: a longer statement limit than a page's.
    stream = dblimits.longer_statements(stream, using=reads.alias)
    response = StreamingHttpResponse(stream, content_type=EXPORT_FORMATS[fmt])
    filename = exports.export_filename(what, period, scope.organisation, fmt.split("-")[-1])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _dialect(request, fmt: str) -> exports.CsvDialect:
    if fmt == "excel-csv":
        return exports.excel_csv(getattr(request, "LANGUAGE_CODE", "sv"))
    return exports.PLAIN_CSV


@login_required
def rates(request, org_pk):
    organisation = selectors.get_rates_organisation(request.user, org_pk)
    cost_model = CostModel.load()
    try:
        on = dt.date.fromisoformat(request.GET.get("on", ""))
    except ValueError:
        on = timezone.localdate()
    form = CostSettingsForm(
        request.POST or None, organisation=organisation, cost_model=cost_model, on=on
    )
    done = submit(
        request,
        form,
        lambda data: services.cost_settings_update(
            actor=request.user,
            organisation=organisation,
            valid_from=data["valid_from"],
            rates=form.rates(),
            settings=form.settings(),
        ),
        done=_("The rates are saved."),
        to=f"{reverse('reports:dashboard')}?organisation={organisation.pk}",
    )
    if done is not None:
        return done
    roles = [
        (Role(role).label, form[rate_field_names(role)[0]], form[rate_field_names(role)[1]])
        for role in COSTED_ROLES
    ]
    return render(
        request,
        "reports/rates.html",
        {
            "organisation": organisation,
            "form": form,
            "roles": roles,
            "rate_sets": selectors.rate_sets(organisation),
        },
    )
