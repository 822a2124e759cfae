"""What `make bench` loads: the pages, the users' sessions, and the other measured operations."""

import time

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.urls import reverse

from meetings.models import Meeting
from participants.demo_bulk import BULK_CITY
from participants.models import User
from participants.selectors import named_persons


def session_cookie(user: User, *, second_factor: bool = False) -> str:
    """A signed-in session as the login flow leaves it (TOTP passed, for managers)."""
    from importlib import import_module

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "participants.auth.UsernameOrEmailBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    now = int(time.time())
    session["login_at"] = now
    session["last_seen"] = now + 3600  # the idle timeout must not end the run
    if second_factor:
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        device = device or TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    # A browser sends the CSRF cookie its first page set with every request after it.
    from django.middleware.csrf import _get_new_csrf_string

    csrf = f"{settings.CSRF_COOKIE_NAME}={_get_new_csrf_string()}"
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}; {csrf}"


def targets(only: list[str] | None = None) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    # A nurse of the large area with a realistic caseload (participants.demo_bulk.CASELOAD);
    # her organisation still serves every one of the 100,000 persons.
    nurse = User.objects.filter(username__startswith="bulk.nurse.").order_by("pk").first()
    person = (named_persons(nurse).filter(meetings__state="held").order_by("pk")).first()
    meeting = person.meetings.filter(state="held").order_by("pk").first()
    manager = User.objects.get(username="chef.hsv")
    cookies = {
        "nurse": session_cookie(nurse),
        "manager": session_cookie(manager, second_factor=True),
    }
    pages = {
        "worklist": (reverse("home"), "nurse"),
        "person": (reverse("person_detail", kwargs={"pk": person.pk}), "nurse"),
    }
    _add_optional(pages, "meeting", "meeting_detail", {"pk": meeting.pk}, "nurse")
    _add_optional(pages, "followup", "followup:meeting", {"pk": meeting.pk}, "nurse")
    _add_optional(pages, "dashboard", "reports:dashboard", {}, "manager")
    _add_record_system_search(pages, cookies, nurse)
    if only:
        unknown = set(only) - set(pages)
        if unknown:
            raise SystemExit(
                f"BENCH_ONLY: no page {', '.join(sorted(unknown))} (pages: {', '.join(pages)})"
            )
        pages = {name: pages[name] for name in only}
        if "dashboard" not in pages:
            return pages, cookies
    # As beat does every 20 s in production ("reports-fold"): the month tallies the
    # dashboard adds up are brought up to date with the seed before the manager asks.
    from reports import tallies

    started = time.monotonic()
    months = tallies.fold()
    print(f"bench tallies_folded months={len(months)} seconds={time.monotonic() - started:.1f}")
    return pages, cookies


def _add_record_system_search(pages, cookies, nurse) -> None:
    """The FHIR API (issue 21): the record system of the nurse's organisation (which serves
    every person of the large area) asks for a page of 50 care plans, signed in as SMART
    Backend Services gives it a token: the search, its access rule, the rendering of 50
    plans with their decisions and agreements, and the access-log row naming 50 persons."""
    try:
        from fhir_api.auth import issue_token
    except ImportError:
        print("bench fhir_careplans not measured: no FHIR API")
        return
    from participants.models import SystemClient
    from participants.selectors import active_memberships

    organisation = active_memberships(nurse)[0].organisation
    client, _created = SystemClient.objects.update_or_create(
        client_id="bench-record-system",
        defaults={
            "name": "Bench record system",
            "organisation": organisation,
            "scopes": "system/CarePlan.read",
            "is_active": True,
        },
    )
    # Longer than a real token's five minutes: it must last through the whole run.
    token = issue_token(client, ["system/CarePlan.read"], seconds=4 * 3600)
    cookies["record_system"] = f"Bearer {token}"
    path = reverse("fhir:search", kwargs={"resource_type": "CarePlan"})
    pages["fhir_careplans"] = (f"{path}?_count=50", "record_system")


def _add_optional(pages, name, url_name, kwargs, who):
    from django.urls import NoReverseMatch

    try:
        pages[name] = (reverse(url_name, kwargs=kwargs), who)
    except NoReverseMatch:
        print(f"bench {name} not measured: URL {url_name} does not exist yet")


def measure_operations(base: str, cookies: dict[str, str], wrk) -> list[str]:
    """Summary PDF render and serve, the cold dashboard computation, and the exports."""
    import datetime as dt
    import subprocess
    import sys
    from pathlib import Path

    from django.db import connection
    from django.urls import NoReverseMatch

    lines = [f"bench meetings_in_database n={Meeting.objects.count()}"]
    meeting = (
        Meeting.objects.filter(state__in=["held", "closed"], person__city=BULK_CITY)
        .filter(decisions__isnull=False)
        .order_by("pk")
        .first()
    )
    try:
        from meetings import summary_services

        timings = summary_services.bench_render_ms(meeting)
        lines.append(
            f"bench summary_render ms_median={sorted(timings)[len(timings) // 2]} "
            f"ms_max={max(timings)} runs={len(timings)}"
        )
        path = summary_services.bench_pdf_path(meeting)
        result = wrk(f"{base}{path}", cookies["nurse"])
        lines.append(
            f"bench summary_pdf_serve rps={result['rps']:.0f} p50_ms={result['p50']:.1f} "
            f"p99_ms={result['p99']:.1f}"
        )
        lines.append(_sequential(f"{base}{path}", cookies["nurse"], "summary_pdf_serve_single"))
    except (ImportError, NoReverseMatch) as exc:
        lines.append(f"bench summary not measured: {exc}")
    try:
        from participants.models import Organisation
        from reports import figures

        organisation = Organisation.objects.get(kind=Organisation.Kind.HOME_HEALTH_CARE)
        for label, period, org, persons in (
            ("12_months_own_org", figures.Period.last_months(12), organisation, False),
            ("12_months_steering_group", figures.Period.last_months(12), None, True),
            ("all_time_own_org", figures.Period(dt.date(2000, 1, 1), dt.date.today()),
             organisation, False),
        ):  # fmt: skip
            connection.close()
            started = time.monotonic()
            figures.compute(period, org, persons=persons)
            lines.append(
                f"bench dashboard_cold {label} ms={(time.monotonic() - started) * 1000:.0f}"
            )
        lines.append(_uncached_dashboard(base, cookies["manager"]))
    except ImportError as exc:
        lines.append(f"bench dashboard not measured: {exc}")
    script = Path(__file__).resolve().parent / "bench_export.py"
    for fmt in ("csv", "xlsx"):
        result = subprocess.run(
            [sys.executable, str(script), fmt], capture_output=True, text=True, timeout=900,
            check=False,
        )  # fmt: skip
        lines.append(result.stdout.strip() or f"bench export_{fmt} failed: {result.stderr[-500:]}")
    return lines


def _uncached_dashboard(base: str, cookie: str) -> str:
    """A period nobody asked for before, over every meeting: how long the manager's request
    takes, and how long until the page shows the figures (polled as the page reloads)."""
    import datetime as dt
    import random
    import urllib.request
    from urllib.parse import urlencode

    from django.urls import reverse

    # The longest period the form allows (five years; the data spans less), with a start
    # day of its own so no earlier run has it in the cache.
    today = dt.date.today()
    start = today.replace(year=today.year - 5) + dt.timedelta(days=random.randrange(1, 300))  # noqa: S311
    query = urlencode({"date_from": start.isoformat(), "date_to": today.isoformat()})
    url = f"{base}{reverse('reports:dashboard')}?{query}"
    started = time.perf_counter()
    first_ms = None
    while time.perf_counter() - started < 300:
        request = urllib.request.Request(url, headers={"Cookie": cookie})
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
            page = response.read().decode()
        if first_ms is None:
            first_ms = (time.perf_counter() - started) * 1000
        if 'class="invalid-feedback"' in page or 'id="report-failed"' in page:
            return "bench dashboard_uncached_all_time failed: the page shows an error"
        if 'data-key="meetings_held"' in page:
            return (
                f"bench dashboard_uncached_all_time first_response_ms={first_ms:.0f} "
                f"figures_after_s={time.perf_counter() - started:.1f}"
            )
        time.sleep(0.5)
    return "bench dashboard_uncached_all_time figures not ready after 300 s"


def _sequential(url: str, cookie: str, name: str, runs: int = 30) -> str:
    """One request at a time: the serve time itself, without queueing behind the workers."""
    import urllib.request

    timings = []
    for _run in range(runs + 1):
        request = urllib.request.Request(url, headers={"Cookie": cookie})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            response.read()
        timings.append((time.perf_counter() - started) * 1000)
    timings = sorted(timings[1:])
    median, p90 = timings[len(timings) // 2], timings[int(runs * 0.9)]
    return f"bench {name} ms_median={median:.1f} ms_p90={p90:.1f}"
