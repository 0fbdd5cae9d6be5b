from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("organisations", "0020_opt_outs_are_kept_by_address"),
    ]

    operations = [
        migrations.AddField(
            model_name="contact",
            name="erased_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
