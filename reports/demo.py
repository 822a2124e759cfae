"""Demo data for the reports: a steering-group member who sees the whole area in aggregate."""

from participants import demo
from participants.models import Role


def load_steering_group(area: demo.DemoArea) -> None:
    demo._user(
        area,
        "styrgrupp",
        "Maria",
        "Lindgren",
        area.assessment,
        Role.STEERING_GROUP,
        "Ordförande i styrgruppen för VOM",
        "08-555 100 90",
    )
