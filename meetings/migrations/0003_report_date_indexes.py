# The managers' report (reports.figures) counts held and ended meetings by these dates.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("meetings", "0002_initiated_at_settable"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="meeting",
            index=models.Index(fields=["held_at"], name="meeting_held_idx"),
        ),
        migrations.AddIndex(
            model_name="meeting",
            index=models.Index(fields=["ended_at"], name="meeting_ended_idx"),
        ),
    ]
