from django.db import migrations

COURSES = [
    (
        "operator",
        "Operator training",
        "The Careers Centre's training for everyone who creates and edits MyCareer records: "
        "recording engagements, tags, key accounts, events and bookings, and data protection.",
    ),
    (
        "bulk-email",
        "Bulk email training",
        "For designated staff who send bulk email to employer contacts: consent, opt-outs, "
        "key-account liaison, frequency limits and cross-promotion.",
    ),
]


def add_courses(apps, schema_editor):
    course_model = apps.get_model("accounts", "TrainingCourse")
    for code, name, description in COURSES:
        course_model.objects.get_or_create(
            code=code, defaults={"name": name, "description": description, "valid_days": 365}
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(add_courses, migrations.RunPython.noop)]
