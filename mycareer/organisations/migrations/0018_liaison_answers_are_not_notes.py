"""The notes written for answers to liaison requests go: an answer between two members
of staff is no engagement with the employer. The timeline shows each answer from the
request itself; each organisation's last engagement is counted again without them."""

from django.db import migrations
from django.db.models import Max

# The words every such note began with, and only such notes (keyaccounts, until now).
PREFIX = "Liaison: "
ASKED = " asked to contact "


def forwards(apps, schema_editor):
    Note = apps.get_model("organisations", "Note")
    Organisation = apps.get_model("organisations", "Organisation")
    answers = Note.objects.filter(kind="other", text__startswith=PREFIX, text__contains=ASKED)
    touched = set(answers.values_list("organisation_id", flat=True))
    answers.delete()
    for organisation_id in touched:
        latest = Note.objects.filter(organisation_id=organisation_id).aggregate(d=Max("date"))["d"]
        Organisation.objects.filter(pk=organisation_id).update(last_engaged_on=latest)


class Migration(migrations.Migration):
    dependencies = [("organisations", "0017_kept_counts")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
