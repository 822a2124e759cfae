import importlib

from django.db import migrations

# The per-user page cache is gone (issue 17): its triggers first, then its table.
page_changes = importlib.import_module("participants.migrations.0007_page_changes")


class Migration(migrations.Migration):
    dependencies = [("participants", "0008_accesslog_lighter_writes")]

    operations = [
        migrations.RunPython(page_changes.drop_triggers, migrations.RunPython.noop),
        migrations.DeleteModel(name="PageChange"),
    ]
