from django.db import migrations
from django.utils.text import slugify

SECTORS = [
    "Charity and third sector",
    "Construction and property",
    "Consulting",
    "Creative arts and media",
    "Education",
    "Energy and utilities",
    "Engineering and manufacturing",
    "Finance and accounting",
    "Healthcare",
    "Law",
    "Public sector",
    "Retail and consumer goods",
    "Science and pharmaceuticals",
    "Technology and software",
    "Transport and logistics",
]


def add_sectors(apps, schema_editor):
    sector_model = apps.get_model("organisations", "Sector")
    for name in SECTORS:
        sector_model.objects.get_or_create(slug=slugify(name), defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("organisations", "0001_initial")]

    operations = [migrations.RunPython(add_sectors, migrations.RunPython.noop)]
