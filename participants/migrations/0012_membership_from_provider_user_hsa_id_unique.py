import django.core.validators
from django.db import migrations, models

HSA_ID = django.core.validators.RegexValidator(
    "^SE[0-9]{10}-[0-9A-Za-z]{1,31}$", "An HSA id looks like SE2321000016-1234."
)


def empty_to_null(apps, schema_editor):
    # An unknown HSA id is NULL, so that the known ones can be unique.
    apps.get_model("participants", "User").objects.filter(hsa_id="").update(hsa_id=None)


class Migration(migrations.Migration):
    dependencies = [
        ("participants", "0011_hsa_ids_and_system_clients"),
    ]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="from_provider",
            field=models.BooleanField(default=False, verbose_name="from the identity provider"),
        ),
        migrations.AlterField(
            model_name="user",
            name="hsa_id",
            field=models.CharField(
                blank=True, max_length=64, null=True, validators=[HSA_ID], verbose_name="HSA id"
            ),
        ),
        migrations.RunPython(empty_to_null, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="hsa_id",
            field=models.CharField(
                blank=True,
                max_length=64,
                null=True,
                unique=True,
                validators=[HSA_ID],
                verbose_name="HSA id",
            ),
        ),
    ]
