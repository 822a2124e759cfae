from django.db import migrations

# The access log is evidence: on PostgreSQL a trigger refuses UPDATE and DELETE, so not even
# a bug or a stray SQL session in the application can rewrite who looked at what.
CREATE = """
CREATE OR REPLACE FUNCTION vom_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER participants_accesslog_append_only
    BEFORE UPDATE OR DELETE ON participants_accesslog
    FOR EACH ROW EXECUTE FUNCTION vom_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS participants_accesslog_append_only ON participants_accesslog;
DROP FUNCTION IF EXISTS vom_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("participants", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
