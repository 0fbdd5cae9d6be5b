"""Records merged away before the merge rebuilt their search text forget their contacts'.

The merge rebuilt the survivor's search text, not the archived stub's, which went on
naming the contacts that moved or were folded into the survivor: erasing one of them
later cleaned only the record they were at. Each stub's text is rebuilt here as the
code writes it (name, description, the names of any contacts it still has, in lower
case); SQLite's FTS5 triggers follow. Going back leaves the rebuilt text, which is right
for either version of the code.
"""

from django.db import migrations

BATCH = 500


def rebuild_stub_documents(apps, schema_editor):
    Organisation = apps.get_model("organisations", "Organisation")
    Contact = apps.get_model("organisations", "Contact")
    alias = schema_editor.connection.alias
    stubs = Organisation.objects.using(alias).filter(merged_into__isnull=False)
    changed = []
    # Read whole first (records merged away are few): SQLite gives no isolation between a
    # query still being read and writes to the same table on one connection.
    for pk, name, description, document in list(
        stubs.order_by("pk").values_list("pk", "name", "description", "search_document")
    ):
        contacts = Contact.objects.using(alias).filter(organisation_id=pk).order_by("full_name")
        parts = (name, description, " ".join(contacts.values_list("full_name", flat=True)))
        rebuilt = " ".join(part for part in parts if part).lower()
        if rebuilt != document:
            changed.append(Organisation(pk=pk, search_document=rebuilt))
        if len(changed) >= BATCH:
            Organisation.objects.using(alias).bulk_update(changed, ["search_document"])
            changed = []
    Organisation.objects.using(alias).bulk_update(changed, ["search_document"])


class Migration(migrations.Migration):
    dependencies = [("organisations", "0024_contacts_merged_away_are_remembered")]

    operations = [
        migrations.RunPython(rebuild_stub_documents, migrations.RunPython.noop, elidable=False)
    ]
