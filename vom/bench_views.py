"""The bare baseline for `make bench`: Django rendering a 25-row table from one query.

Mounted only when VOM_BENCH is set, so it is never part of a real deployment.
"""

from django.shortcuts import render

from participants.models import Person


def baseline(request):
    rows = list(Person.objects.order_by("pk").values("first_name", "last_name", "city")[:25])
    return render(request, "bench/baseline.html", {"rows": rows})
