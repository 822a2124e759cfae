"""A day's use for `make bench`: many signed-in staff of different organisations and roles,
each on their own caseload, with writes mixed in (scripts/bench_mix.lua replays it in wrk).

`build_mix` picks the staff and writes the schedule, one request per line:

    kind <TAB> method <TAB> path <TAB> cookie <TAB> body

Reads are spread over distinct persons and meetings: each user's start page, the persons of
their caseload, their meetings (page, meeting day, follow-up) and stored summary PDFs; about
5 % are writes a browser sends (agenda-note autosave as JSON, an answer to an invitation, a
decision status report, a consent recorded again), with the session and CSRF cookies and
the form's masked CSRF token; now and then a manager opens the dashboard.

`kind_stats` reads gunicorn's access log (path, status and microseconds per request) and
gives each page kind its requests, server-side p50/p99 and ratio: the bare view's mean
server time over the kind's, measured in the same run, i.e. the share of the bare view's
rate a server doing only this kind would reach.
"""

import datetime as dt
import random
import re
import statistics
from collections import defaultdict

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

# Share of each request kind in the mix (per cent). Writes are 5 %.
WEIGHTS = {
    "start": 24,
    "person": 22,
    "meeting": 17,
    "meeting_day": 12,
    "followup": 12,
    "summary_pdf": 5,
    "dashboard": 3,
    "note_autosave": 2,
    "rsvp": 1,
    "decision_status": 1,
    "consent": 1,
}
WRITES = {"note_autosave", "rsvp", "decision_status", "consent"}
# Staff of the large area in the mix: role -> how many (at least 30 in all).
STAFF = {
    "nurse": 14,
    "needs_assessor": 6,
    "home_help_coordinator": 5,
    "contact_person": 6,
    "physician": 1,
}

# Paths of each kind, for the access log (the order matters: the first match wins).
KIND_PATTERNS = [
    ("baseline", re.compile(r"^/bench/baseline$")),
    ("start", re.compile(r"^/$")),
    ("person", re.compile(r"^/persons/\d+/$")),
    ("meeting", re.compile(r"^/meetings/\d+/$")),
    ("meeting_day", re.compile(r"^/meetings/\d+/day/$")),
    ("note_autosave", re.compile(r"^/meetings/\d+/notes/\d+/$")),
    ("rsvp", re.compile(r"^/meetings/\d+/respond/$")),
    ("consent", re.compile(r"^/meetings/\d+/consent/$")),
    ("followup", re.compile(r"^/followup/meetings/\d+/$")),
    ("decision_status", re.compile(r"^/followup/decisions/\d+/status/$")),
    ("summary_pdf", re.compile(r"^/summaries/")),
    ("dashboard", re.compile(r"^/reports/")),
]


def _csrf() -> tuple[str, str]:
    """A CSRF cookie as Django sets it and the masked token its forms carry."""
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret

    secret = _get_new_csrf_string()
    return secret, _mask_cipher_secret(secret)


class Browser:
    """One signed-in member of staff: their cookies and the CSRF token of their forms."""

    def __init__(self, user, *, second_factor: bool = False):
        from bench_targets import session_cookie

        self.user = user
        secret, self.token = _csrf()
        session = session_cookie(user, second_factor=second_factor).split(";")[0]
        self.cookie = f"{session}; {settings.CSRF_COOKIE_NAME}={secret}"


def _staff(role: str, count: int) -> list:
    from participants.models import User

    users = User.objects.filter(username__startswith=f"bulk.{role}.").order_by("pk")
    total = users.count()
    step = max(1, total // count)
    return list(users[: step * count : step])


def _caseload(user, limit: int) -> list[int]:
    from participants.models import CareTeamEntry

    return list(
        CareTeamEntry.objects.current()
        .filter(member=user)
        .order_by("person_id")
        .values_list("person_id", flat=True)[:limit]
    )


def _meetings(user, states, limit: int) -> list[int]:
    from meetings.models import Participant

    return list(
        Participant.objects.filter(user=user, removed_at__isnull=True, meeting__state__in=states)
        .order_by("-meeting_id")
        .values_list("meeting_id", flat=True)[:limit]
    )


def _body(browser: Browser, fields: dict) -> str:
    from urllib.parse import urlencode

    return urlencode({"csrfmiddlewaretoken": browser.token, **fields})


def _write_requests(browser: Browser, rng: random.Random) -> dict[str, list[tuple]]:
    """The writes this user may make, each as (method, path, body, extra header); a note
    autosave is used once (it carries the revision it read, as a browser's does)."""
    from followup.models import DecisionStatus
    from meetings.models import AgendaNote, Decision, Meeting
    from participants.selectors import care_organisation_ids

    S = Meeting.State
    user = browser.user
    writes = defaultdict(list)
    for meeting_id in _meetings(user, [S.SCHEDULED, S.HELD], 8):
        revisions = dict(
            AgendaNote.objects.filter(meeting_id=meeting_id).values_list("item", "revision")
        )
        for item in range(1, 7):
            writes["note_autosave"].append(
                (
                    "POST",
                    reverse("meeting_note_save", kwargs={"pk": meeting_id, "item": item}),
                    _body(
                        browser,
                        {
                            f"item{item}-text": f"Anteckning {rng.randrange(10**6)}",
                            f"item{item}-base_revision": revisions.get(item, 0),
                        },
                    ),
                    "Accept: application/json",
                )
            )
    for meeting_id in _meetings(user, [S.SCHEDULED], 4):
        for response in ("accepted", "tentative"):
            writes["rsvp"].append(
                (
                    "POST",
                    reverse("meeting_respond", kwargs={"pk": meeting_id}),
                    _body(browser, {"response": response, "mode": "in_person"}),
                    "",
                )
            )
    decisions = Decision.objects.filter(
        meeting__participants__user=user,
        meeting__state__in=[S.HELD, S.CLOSED],
        organisation_id__in=care_organisation_ids(user),
    ).order_by("-pk")[:6]
    for decision in decisions.values_list("pk", flat=True):
        writes["decision_status"].append(
            (
                "POST",
                reverse("followup:decision_status", kwargs={"pk": decision}),
                _body(
                    browser,
                    {
                        f"d{decision}-status": rng.choice(
                            [DecisionStatus.IMPLEMENTED, DecisionStatus.PARTLY]
                        ),
                        f"d{decision}-date": timezone.localdate().isoformat(),
                        f"d{decision}-note": "",
                    },
                ),
                "",
            )
        )
    given = (timezone.localtime() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    for meeting_id in _meetings(user, [S.CONVENING, S.SCHEDULED], 4):
        writes["consent"].append(
            (
                "POST",
                reverse("meeting_consent", kwargs={"pk": meeting_id}),
                _body(
                    browser,
                    {
                        "wants_meeting": "yes",
                        "share_information": "yes",
                        "how": "orally",
                        "representative_name": "",
                        "given_at": given,
                    },
                ),
                "",
            )
        )
    return writes


def _read_requests(browser: Browser) -> dict[str, list[str]]:
    from meetings import summary_services
    from meetings.models import Meeting

    S = Meeting.State
    user = browser.user
    reads = defaultdict(list)
    reads["start"].append(reverse("home"))
    for person_id in _caseload(user, 40):
        reads["person"].append(reverse("person_detail", kwargs={"pk": person_id}))
    for meeting_id in _meetings(user, [S.CONVENING, S.SCHEDULED, S.HELD, S.CLOSED], 30):
        reads["meeting"].append(reverse("meeting_detail", kwargs={"pk": meeting_id}))
    for meeting_id in _meetings(user, [S.SCHEDULED, S.HELD, S.CLOSED], 20):
        reads["meeting_day"].append(reverse("meeting_day", kwargs={"pk": meeting_id}))
    for meeting_id in _meetings(user, [S.HELD, S.CLOSED], 20):
        reads["followup"].append(reverse("followup:meeting", kwargs={"pk": meeting_id}))
    # Stored summaries: rendered once here as after the meeting, then only served.
    for meeting in Meeting.objects.filter(pk__in=_meetings(user, [S.HELD, S.CLOSED], 2)):
        reads["summary_pdf"].append(summary_services.bench_pdf_path(meeting))
    return reads


def build_mix(path, *, requests: int, seed: int = 17) -> tuple[dict, list[tuple]]:
    """Write the schedule of `requests` requests to `path`; return the staff by role (a
    count) and the (kind, method, path, cookie, body, header) of one request of every kind
    for checking before the load."""
    from participants.models import User

    rng = random.Random(seed)
    browsers = [Browser(user) for role, n in STAFF.items() for user in _staff(role, n)]
    manager = Browser(User.objects.get(username="chef.hsv"), second_factor=True)
    pools: dict[str, list[tuple]] = defaultdict(list)
    for browser in browsers:
        for kind, paths in _read_requests(browser).items():
            pools[kind] += [(browser, "GET", path, "", "") for path in paths]
        for kind, items in _write_requests(browser, rng).items():
            pools[kind] += [(browser, method, p, body, h) for method, p, body, h in items]
    pools["dashboard"] = [(manager, "GET", reverse("reports:dashboard"), "", "")]
    missing = [kind for kind in WEIGHTS if not pools.get(kind)]
    if missing:
        raise SystemExit(f"bench mix: no {', '.join(missing)} in the bench database")
    kinds = list(WEIGHTS)
    used_notes = 0
    lines, samples = [], {}
    for kind in rng.choices(kinds, weights=[WEIGHTS[k] for k in kinds], k=requests):
        pool = pools[kind]
        if kind == "note_autosave":
            # Each autosave once, with the revision it read (a browser sends the one its
            # last save answered); past the end, another user's next item.
            entry = pool[used_notes % len(pool)]
            used_notes += 1
        else:
            entry = rng.choice(pool)
        browser, method, target, body, header = entry
        samples.setdefault(kind, (kind, method, target, browser.cookie, body, header))
        lines.append("\t".join((kind, method, target, browser.cookie, body, header)))
    with open(path, "w") as out:
        out.write("\n".join(lines) + "\n")
    roles = defaultdict(int)
    for browser in browsers:
        roles[browser.user.username.split(".")[1]] += 1
    return {"staff": len(browsers), **roles, "notes": len(pools["note_autosave"])}, list(
        samples.values()
    )


def check(base: str, samples: list[tuple]) -> None:
    """Each kind once, as the load will send it: a read answers 200, a write saves (a
    redirect, or the autosave's JSON "ok"), anything else stops the bench."""
    import json
    import urllib.error
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    for kind, method, target, cookie, body, header in samples:
        headers = {"Cookie": cookie}
        if header:
            name, value = header.split(": ", 1)
            headers[name] = value
        data = None
        if method == "POST":
            data = body.encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(f"{base}{target}", data=data, headers=headers)
        try:
            response = opener.open(request, timeout=30)  # noqa: S310 - loopback
            status, content = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, content = exc.code, exc.read()
        ok = status == 200 if method == "GET" else status == 302
        if kind == "note_autosave":
            ok = status == 200 and json.loads(content).get("ok") is True
        if not ok:
            raise SystemExit(f"bench mix: {kind} {method} {target} answered {status}")


def kind_of(path: str) -> str:
    for kind, pattern in KIND_PATTERNS:
        if pattern.match(path):
            return kind
    return "other"


def read_access_log(path, since: int = 0) -> tuple[list[tuple[str, int, float]], int]:
    """(kind, status, ms) of each request logged after byte `since`, and the new end."""
    rows = []
    with open(path, "rb") as log:
        log.seek(since)
        data = log.read()
    for line in data.decode(errors="replace").splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        target, status, micros = parts
        rows.append((kind_of(target.split("?")[0]), int(status), int(micros) / 1000))
    return rows, since + len(data)


def percentile(values: list[float], share: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(share * (len(values) - 1)))]


def kind_stats(rows, seconds: float, baseline_ms: float) -> list[str]:
    """One line per request kind of the mix (server-side times from the access log)."""
    by_kind = defaultdict(list)
    errors = defaultdict(int)
    for kind, status, ms in rows:
        by_kind[kind].append(ms)
        if status >= 400:
            errors[kind] += 1
    lines = []
    for kind in [*WEIGHTS, "other"]:
        times = by_kind.get(kind)
        if not times:
            continue
        error = f" errors={errors[kind]}" if errors[kind] else ""
        lines.append(
            f"bench mix_{kind} n={len(times)} rps={len(times) / seconds:.0f} "
            f"p50_ms={percentile(times, 0.5):.1f} p99_ms={percentile(times, 0.99):.1f} "
            f"ratio={baseline_ms / statistics.mean(times):.2f}{error}"
        )
    return lines


def mean_ms(rows, kind: str = "baseline") -> float:
    times = [ms for row_kind, _status, ms in rows if row_kind == kind]
    return statistics.mean(times) if times else float("nan")
