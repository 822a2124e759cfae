"""Stream an export of every meeting of one organisation to /dev/null; print the time,
the rows and the peak memory of this process (run by `make bench` in its own process)."""

import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vom.settings")

import django  # noqa: E402

django.setup()

from participants.models import Organisation  # noqa: E402
from reports import exports, selectors  # noqa: E402
from reports.figures import Period  # noqa: E402


def main(fmt: str) -> None:
    import datetime as dt

    organisation = Organisation.objects.get(kind=Organisation.Kind.HOME_HEALTH_CARE)
    period = Period(dt.date(2000, 1, 1), dt.date.today())
    meetings = selectors.meetings_for_export(organisation, period)
    writer = exports.meetings_csv if fmt == "csv" else exports.meetings_xlsx
    started = time.monotonic()
    size = 0
    with open(os.devnull, "wb") as sink:
        for chunk in writer(meetings, organisation):
            sink.write(chunk)
            size += len(chunk)
    elapsed = time.monotonic() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"bench export_{fmt} meetings={meetings.count()} seconds={elapsed:.1f} "
        f"bytes={size} peak_mb={peak_mb:.0f}"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "csv")
