from django.db import migrations

# The access log stays append-only, with one narrow exception: rows older than the retention
# period may be deleted by `manage.py purge_access_log`.
#
# Why not `SET session_replication_role = replica` or `ALTER TABLE ... DISABLE TRIGGER`? The
# first needs a superuser, which the application's database role must not be; the second
# takes an exclusive lock on the table (every page view waits) and turns the protection off
# for all rows, not only the old ones.
#
# Instead the trigger itself lets a DELETE through only when the transaction has declared a
# cutoff with set_config('vom.accesslog_purge_before', ..., true) (transaction-local), the
# cutoff lies at least five years back (the legal minimum, fixed here so no setting can
# lower it) and the row is older than the cutoff. UPDATE is always refused. vom_append_only()
# is left as it is: other tables may use it.
CREATE = """
CREATE OR REPLACE FUNCTION vom_accesslog_guard() RETURNS trigger AS $$
DECLARE
    cutoff timestamptz;
BEGIN
    IF TG_OP = 'DELETE' THEN
        cutoff := NULLIF(current_setting('vom.accesslog_purge_before', true), '')::timestamptz;
        IF cutoff IS NOT NULL
           AND cutoff <= now() - interval '5 years'
           AND OLD.at < cutoff THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS participants_accesslog_append_only ON participants_accesslog;
CREATE TRIGGER participants_accesslog_append_only
    BEFORE UPDATE OR DELETE ON participants_accesslog
    FOR EACH ROW EXECUTE FUNCTION vom_accesslog_guard();
"""
DROP = """
DROP TRIGGER IF EXISTS participants_accesslog_append_only ON participants_accesslog;
CREATE TRIGGER participants_accesslog_append_only
    BEFORE UPDATE OR DELETE ON participants_accesslog
    FOR EACH ROW EXECUTE FUNCTION vom_append_only();
DROP FUNCTION IF EXISTS vom_accesslog_guard();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("participants", "0003_accesslogreview")]

    operations = [migrations.RunPython(forwards, backwards)]
