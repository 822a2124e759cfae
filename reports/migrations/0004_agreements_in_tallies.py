# Agreements about care are counted among the decisions (seed 000, Table 4): their table
# marks its meetings' months like the other tables a figure reads (0002).

from django.conf import settings
from django.db import migrations

TABLE = "meetings_agreement"


def forward_sql() -> str:
    sql = []
    for event, referencing in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        sql.append(
            f"CREATE TRIGGER reports_mark_{event.lower()} AFTER {event} ON {TABLE} "
            f"REFERENCING {referencing} FOR EACH STATEMENT "
            "EXECUTE FUNCTION reports_mark_meeting_rows();"
        )
    # Fold the months of meetings that already have agreements.
    sql.append(
        "INSERT INTO reports_tallymark (month) SELECT DISTINCT "
        f"date_trunc('month', m.held_at AT TIME ZONE '{settings.TIME_ZONE}')::date "
        f"FROM meetings_meeting m WHERE m.held_at IS NOT NULL AND m.id IN "
        f"(SELECT meeting_id FROM {TABLE});"
    )
    return "\n".join(sql)


BACKWARD = "\n".join(
    f"DROP TRIGGER IF EXISTS reports_mark_{event} ON {TABLE};"
    for event in ("insert", "update", "delete")
)


def _forwards(apps, schema_editor):
    # PostgreSQL's triggers only; on SQLite (make run) figures are computed when read.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(forward_sql(), params=None)


def _backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_dated_rates"),
        ("meetings", "0009_account_emails"),
    ]

    operations = [migrations.RunPython(_forwards, _backwards)]
