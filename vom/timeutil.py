"""Local wall-clock times in Europe/Stockholm, with the daylight-saving traps made explicit."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import DomainError


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def aware_local(naive: dt.datetime, *, field: str | None = None) -> dt.datetime:
    """Interpret a wall-clock time in the local zone; refuse times that do not exist or
    occur twice at a daylight-saving change (the user must say which they mean)."""
    if naive.tzinfo is not None:
        naive = timezone.localtime(naive).replace(tzinfo=None)
    zone = local_zone()
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        # Either a gap (spring forward) or an overlap (fall back).
        round_trip = first.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
        if round_trip != naive:
            raise DomainError(
                _("%(time)s does not exist on that day: the clocks go forward. Pick another time.")
                % {"time": naive.strftime("%H:%M")},
                field=field,
            )
        raise DomainError(
            _("%(time)s occurs twice on that day: the clocks go back. Pick another time.")
            % {"time": naive.strftime("%H:%M")},
            field=field,
        )
    return first


def future_local(naive: dt.datetime, *, field: str | None = None) -> dt.datetime:
    value = aware_local(naive, field=field)
    if value <= timezone.now():
        raise DomainError(_("The time has already passed."), field=field)
    return value


def same_local_time_days_before(moment: dt.datetime, days: int) -> dt.datetime:
    """The same wall-clock time `days` earlier, across any daylight-saving change."""
    zone = local_zone()
    local = moment.astimezone(zone).replace(tzinfo=None) - dt.timedelta(days=days)
    return local.replace(tzinfo=zone)
