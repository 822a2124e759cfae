"""Reports and exports read from a PostgreSQL streaming replica (DATABASE_REPLICA_URL).

The managers' figures and the meeting exports only read, and an export of 200,000 meetings
reads for a while: on a replica they take no connection, I/O or buffer cache from the care
staff's pages on the primary. Everything else (sign-in, access decisions, every write, the
tally fold that keeps the figures) stays on the primary.

A report marks its reads with `report_reads()` (or, for an export that streams after the
view returned, `streamed()`); `ReportReadsRouter` sends the reads made inside to the alias
chosen when it began. It is chosen once per report, so a report never mixes the two:
- the replica when it has replayed everything the primary had written when we asked, or
  its last replayed commit is at most REPLICA_MAX_LAG_SECONDS old;
- otherwise the primary, and `ReportReads.fell_back` tells the dashboard to say so. A
  replica that cannot be reached, or that was promoted (no longer in recovery, so no
  longer following this primary), counts the same.

The lag is the age of the replica's last replayed commit (pg_last_xact_replay_timestamp)
while it is behind the primary's WAL position (pg_current_wal_lsn). It is an upper bound:
after a long quiet spell a replica a few bytes behind counts as behind until it replays
them (milliseconds), and the report then reads from the primary, which is always correct.

Without DATABASE_REPLICA_URL there is one database and none of this runs a query.
"""

import contextlib
import contextvars
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"

# The alias the current report reads from; None outside a report (the router abstains).
_report_alias: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "report_alias", default=None
)


@dataclass(frozen=True)
class ReportReads:
    """Where one report reads, and why not from the replica when there is one."""

    alias: str = DEFAULT_DB_ALIAS
    configured: bool = False
    # "behind", "unreachable" or "" (reading from the replica, or no replica configured).
    reason: str = ""
    # How far behind the replica was (None when unknown or not measured).
    behind_seconds: float | None = None

    @property
    def fell_back(self) -> bool:
        """A replica is configured, but this report reads from the primary."""
        return self.configured and self.alias == DEFAULT_DB_ALIAS

    @property
    def limit_seconds(self) -> int:
        return settings.REPLICA_MAX_LAG_SECONDS


def configured() -> bool:
    return REPLICA in settings.DATABASES


def choose() -> ReportReads:
    """Ask the primary how far its WAL is, the replica how far it has replayed."""
    if not configured():
        return ReportReads()
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        primary_lsn = cursor.fetchone()[0]
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= %s::pg_lsn,"
                " EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())",
                [primary_lsn],
            )
            recovering, caught_up, seconds = cursor.fetchone()
    except DatabaseError:
        logger.warning("report replica unreachable: reading from the primary", exc_info=True)
        connections[REPLICA].close()
        return ReportReads(configured=True, reason="unreachable")
    if not recovering:
        logger.error("DATABASE_REPLICA_URL is not a replica in recovery: reading the primary")
        return ReportReads(configured=True, reason="unreachable")
    if caught_up:
        return ReportReads(alias=REPLICA, configured=True, behind_seconds=0.0)
    seconds = None if seconds is None else float(seconds)
    if seconds is not None and seconds <= settings.REPLICA_MAX_LAG_SECONDS:
        return ReportReads(alias=REPLICA, configured=True, behind_seconds=seconds)
    logger.warning("report replica %s s behind: reading from the primary", seconds)
    return ReportReads(configured=True, reason="behind", behind_seconds=seconds)


def reports_alias() -> str:
    """The alias the current report reads from (for its transaction and session settings)."""
    return _report_alias.get() or DEFAULT_DB_ALIAS


@contextlib.contextmanager
def report_reads(reads: ReportReads | None = None) -> Iterator[ReportReads]:
    """Reads inside go where `reads` (chosen now when not given) says. Only around code
    that only reads: a service called inside would read its rows from the replica."""
    reads = reads or choose()
    token = _report_alias.set(reads.alias if reads.alias != DEFAULT_DB_ALIAS else None)
    try:
        yield reads
    finally:
        _report_alias.reset(token)


def streamed(stream: Iterable, reads: ReportReads) -> Iterator:
    """`stream` (an export generator, run by the server after the view returned) with each
    step's reads where `reads` says, and nothing routed between steps."""
    iterator = iter(stream)
    try:
        while True:
            with report_reads(reads):
                try:
                    chunk = next(iterator)
                except StopIteration:
                    return
            yield chunk
    finally:
        # A client that goes away closes this generator: end the export's transaction now.
        close = getattr(iterator, "close", None)
        if close is not None:
            with report_reads(reads):
                close()


class ReportReadsRouter:
    """Reads inside `report_reads()` go to its alias; every write, and every other read, to
    the primary. Migrations run on the primary only (a replica replays them)."""

    def db_for_read(self, model, **hints):
        return _report_alias.get()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_migrate(self, db, app_label, **hints):
        return db == DEFAULT_DB_ALIAS
