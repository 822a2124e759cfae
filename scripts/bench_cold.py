"""Cold render, in-process: each page kind over distinct records this process has not
rendered before, in a warm process (templates compiled, code imported, one record of
each kind rendered first and not counted), nothing cached. Run by `make bench` in its own
process with the bench's settings; prints one line per page kind:

    bench cold_render <kind> ms_median=<n> ms_p99=<n> queries=<n> records=<n>

The time is the whole request through Django's handler and middleware (test client), as
a signed-in member of the person's care team; `queries` is the most any record needed.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vom.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from meetings.models import Meeting, Participant  # noqa: E402
from participants.demo_bulk import BULK_CITY  # noqa: E402
from participants.models import CareTeamEntry, Role, User  # noqa: E402

RECORDS = int(os.environ.get("BENCH_COLD_RECORDS", "50"))
S = Meeting.State


def _spread(queryset, n: int, step: int = 977) -> list:
    """n rows spread over the table (every `step`th), so no two share a neighbourhood."""
    rows = list(queryset[: n * step : step])
    return rows if len(rows) >= n else list(queryset[:n])


def start_pages(n: int) -> list[tuple[User, str]]:
    """Distinct staff of every care role in the large area, each on their own start page."""
    roles = [Role.NURSE, Role.NEEDS_ASSESSOR, Role.HOME_HELP_COORDINATOR, Role.CONTACT_PERSON,
             Role.PHYSICIAN]  # fmt: skip
    users = []
    for index, role in enumerate(roles):
        wanted = n // len(roles) + (1 if index < n % len(roles) else 0)
        users += _spread(
            User.objects.filter(username__startswith=f"bulk.{role}.").order_by("pk"), wanted, 7
        )
    return [(user, reverse("home")) for user in users]


def person_pages(n: int) -> list[tuple[User, str]]:
    entries = _spread(
        CareTeamEntry.objects.filter(person__city=BULK_CITY, role=Role.NURSE)
        .select_related("member")
        .order_by("person_id"),
        n,
    )
    return [(e.member, reverse("person_detail", kwargs={"pk": e.person_id})) for e in entries]


def _meetings(states, n: int):
    return _spread(
        Participant.objects.filter(
            meeting__state__in=states, meeting__person__city=BULK_CITY, role=Role.NURSE
        )
        .select_related("user")
        .order_by("meeting_id"),
        n,
        step=331,
    )


def meeting_pages(n: int) -> list[tuple[User, str]]:
    rows = _meetings([S.CONVENING, S.SCHEDULED, S.HELD, S.CLOSED], n)
    return [(p.user, reverse("meeting_detail", kwargs={"pk": p.meeting_id})) for p in rows]


def meeting_day_pages(n: int) -> list[tuple[User, str]]:
    rows = _meetings([S.SCHEDULED, S.HELD, S.CLOSED], n)
    return [(p.user, reverse("meeting_day", kwargs={"pk": p.meeting_id})) for p in rows]


def followup_pages(n: int) -> list[tuple[User, str]]:
    rows = _meetings([S.HELD, S.CLOSED], n)
    return [(p.user, reverse("followup:meeting", kwargs={"pk": p.meeting_id})) for p in rows]


KINDS = {
    "start": start_pages,
    "person": person_pages,
    "meeting": meeting_pages,
    "meeting_day": meeting_day_pages,
    "followup": followup_pages,
}


class Browsers:
    """One test client (one handler, its middleware built once, as in a web process)
    with each user's signed-in session cookie."""

    def __init__(self):
        self.client = Client(HTTP_HOST="localhost")  # an allowed host of the bench
        self.sessions = {}

    def sign_in(self, users) -> None:
        from django.conf import settings

        for user in users:
            if user.pk not in self.sessions:
                # A new browser: signing in over another user's session would end that one.
                self.client.cookies.clear()
                self.client.force_login(user)
                self.sessions[user.pk] = self.client.cookies[settings.SESSION_COOKIE_NAME].value

    def as_user(self, user) -> Client:
        from django.conf import settings

        self.client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[user.pk]
        return self.client


def _get(client: Client, url: str) -> tuple[float, int]:
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(url, follow=False)
        elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"cold render: {url} answered {response.status_code}")
    return elapsed, len(queries)


def measure(browsers: Browsers, kind: str, n: int = RECORDS) -> str:
    targets = KINDS[kind](n + 1)
    warm, targets = targets[0], targets[1 : n + 1]
    browsers.sign_in(user for user, _url in [warm, *targets])
    _get(browsers.as_user(warm[0]), warm[1])  # this kind's templates and code, not counted
    timings, most = [], 0
    for user, url in targets:
        elapsed, queries = _get(browsers.as_user(user), url)
        timings.append(elapsed)
        most = max(most, queries)
    timings.sort()
    p99 = timings[min(len(timings) - 1, round(0.99 * (len(timings) - 1)))]
    return (
        f"bench cold_render {kind} ms_median={statistics.median(timings):.1f} "
        f"ms_p99={p99:.1f} queries={most} records={len(timings)}"
    )


def main(kinds: list[str]) -> None:
    # A warm process: the first request of any kind pays for imports and URL resolving.
    browsers = Browsers()
    user, url = start_pages(1)[0]
    browsers.sign_in([user])
    _get(browsers.as_user(user), url)
    for kind in kinds or list(KINDS):
        print(measure(browsers, kind), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
