import time

from django.core.management.base import BaseCommand, CommandError

from participants import demo
from participants.demo_bulk import load_bulk
from participants.models import Organisation

# Later parts of the product add their own demo data on top of the area, in this order.
# Each is a function taking the DemoArea; it must be safe to call on a fresh area only.
EXTENSIONS: list[str] = [
    "meetings.demo.load_meetings",
    "followup.demo.seed_demo",  # after the meetings loader: it follows up held meetings
    "reports.demo.load_steering_group",
]


def _run_extensions(area, stdout):
    from django.utils.module_loading import import_string

    for dotted in EXTENSIONS:
        import_string(dotted)(area)
        stdout.write(f"  + {dotted}")


def _area_from_db() -> demo.DemoArea:
    hhc = Organisation.objects.get(name=demo.DEMO_MARKER_ORG)
    assessment = Organisation.objects.get(kind=Organisation.Kind.NEEDS_ASSESSMENT)
    providers = list(Organisation.objects.filter(kind=Organisation.Kind.HOME_HELP).order_by("pk"))
    return demo.DemoArea(home_health_care=hhc, assessment=assessment, home_help=providers)


class Command(BaseCommand):
    help = (
        "Build the fictional demo area (idempotent); --persons N adds a large area for load tests."
    )

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=None, help="bulk persons to create")
        parser.add_argument(
            "--meetings", type=int, default=None, help="bulk meetings for the bulk persons"
        )
        parser.add_argument("--quiet-logins", action="store_true", help="do not print logins")

    def handle(self, *args, persons=None, meetings=None, quiet_logins=False, **options):
        if persons is not None and persons < 0:
            raise CommandError("--persons must be zero or more")
        started = time.monotonic()
        if demo.area_exists():
            self.stdout.write("The demo area is already there: reusing it.")
            area = _area_from_db()
        else:
            area = demo.load_area()
            self.stdout.write(f"Built the demo area with {len(area.persons)} persons.")
            _run_extensions(area, self.stdout)
        if persons:
            added = load_bulk(area, persons)
            self.stdout.write(
                f"Bulk area: added {added} persons in {time.monotonic() - started:.1f} s."
            )
        if meetings:
            from meetings.demo_bulk import load_bulk_meetings

            added = load_bulk_meetings(meetings)
            self.stdout.write(
                f"Bulk meetings: added {added} in {time.monotonic() - started:.1f} s."
            )
            from followup.demo_bulk import load_bulk_followups

            added = load_bulk_followups()
            self.stdout.write(
                f"Bulk follow-ups for {added} meetings, {time.monotonic() - started:.1f} s."
            )
        if not quiet_logins:
            self.stdout.write("")
            self.stdout.write(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
            for username, role, organisation in demo.demo_logins():
                self.stdout.write(f"  {username:<24} {role:<30} {organisation}")
