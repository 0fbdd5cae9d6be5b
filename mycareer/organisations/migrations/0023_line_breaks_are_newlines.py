r"""Line breaks stored before MultiLineTextField are made "\n", as it makes them now.

The field rewrites "\r\n" and "\r" whenever a value is set, but rows stored before it
still hold them, and whatever reads the column directly (`values()`, exports, the search
document) gives them back so. Only rows holding a "\r" are written. The columns are
listed here: the historical models know them as plain TextFields.

An organisation's search document is its name, description and contact names joined
with spaces, in lower case (`search_document_of`): the same rewrite of the document
gives what `refresh_search_document` makes from the rewritten description. SQLite's
FTS5 index follows the UPDATE through its triggers, PostgreSQL's trigram index follows
the column.
"""

from django.db import migrations

from mycareer.core.migration_ops import normalise_newlines

COLUMNS = {
    "Organisation": ["description", "search_document"],
    "Note": ["text"],
    "KeyContact": ["guidance"],
    "LiaisonRequest": ["reason", "proposed_engagement", "comment"],
    "RegistrationRequest": ["decision_reason"],
}


class Migration(migrations.Migration):
    dependencies = [("organisations", "0022_contacts_erased_before_are_marked")]

    operations = [normalise_newlines("organisations", COLUMNS)]
