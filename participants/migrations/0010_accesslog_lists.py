import django.db.models.deletion
from django.db import migrations, models

# A list shown is one access-log row (action "list", `list_name` says which list) with one
# narrow AccessLogPerson row per person it showed. Those rows are evidence as the log is:
# UPDATE is refused, and DELETE too, except in the purge of log rows past retention, which
# declares its cutoff as for the log itself (migration 0004) and deletes a list's persons
# only while their log row is older than that cutoff (it deletes them before the row).
CREATE = """
CREATE OR REPLACE FUNCTION vom_accesslogperson_guard() RETURNS trigger AS $$
DECLARE
    cutoff timestamptz;
BEGIN
    IF TG_OP = 'DELETE' THEN
        cutoff := NULLIF(current_setting('vom.accesslog_purge_before', true), '')::timestamptz;
        IF cutoff IS NOT NULL
           AND cutoff <= now() - interval '5 years'
           AND EXISTS (SELECT 1 FROM participants_accesslog l
                       WHERE l.id = OLD.log_id AND l.at < cutoff) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER participants_accesslogperson_append_only
    BEFORE UPDATE OR DELETE ON participants_accesslogperson
    FOR EACH ROW EXECUTE FUNCTION vom_accesslogperson_guard();
"""
DROP = """
DROP TRIGGER IF EXISTS participants_accesslogperson_append_only ON participants_accesslogperson;
DROP FUNCTION IF EXISTS vom_accesslogperson_guard();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("participants", "0009_remove_page_changes")]

    operations = [
        migrations.AddField(
            model_name="accesslog",
            name="list_name",
            field=models.CharField(
                blank=True,
                choices=[
                    ("caseload", "My persons"),
                    ("served", "Persons served by your organisations"),
                    ("search", "Search"),
                    ("worklist", "What waits for you"),
                    ("meetings", "Meetings"),
                    ("decisions", "My decisions"),
                    ("access_log", "Access log"),
                    ("review_sample", "Access log review"),
                ],
                max_length=16,
            ),
        ),
        migrations.CreateModel(
            name="AccessLogPerson",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "log",
                        "person",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "log",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="listed",
                        to="participants.accesslog",
                    ),
                ),
                (
                    "person",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="participants.person",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["person", "log"], name="accesslogperson_person_idx")
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
