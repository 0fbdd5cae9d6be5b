r"""Line breaks stored before MultiLineTextField are made "\n", as it makes them now.

The field rewrites "\r\n" and "\r" whenever a value is set, but rows stored before it
still hold them, and whatever reads the column directly (`values()`, exports) gives them
back so. Only rows holding a "\r" are written. The columns are listed here: the
historical models know them as plain TextFields.
"""

from django.db import migrations

from mycareer.core.migration_ops import normalise_newlines

COLUMNS = {
    "Opportunity": ["reason"],
    "Dismissal": ["reason"],
}


class Migration(migrations.Migration):
    dependencies = [("insights", "0005_trend_counts_of_a_unit_family")]

    operations = [normalise_newlines("insights", COLUMNS)]
